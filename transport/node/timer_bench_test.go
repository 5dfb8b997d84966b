package node_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/guest"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/node"
)

// BenchmarkTimerLateness measures how late one-shot timers fire and reach
// their actor's handler, in three legs read from what the host sees:
// due → fired (the Theater-Timer-Due and Theater-Timer-Fired headers of
// the first mailbox message: the time the schedule says and when the
// node's timer, or the server's scheduler, fired it), fired → mailbox
// (seen by a subscriber of the actor's send subject) and mailbox → handled (the chain message holding the handled
// event of that send, seen by a subscriber of the chain subject). Each
// iteration sets one timer of timerBenchDelay, one every timerBenchPace,
// so firings overlap with sets as they do in an agent; the p50, p99 and
// max of each leg and of the total are reported.
func BenchmarkTimerLateness(b *testing.B) {
	srv := testServer(b)
	startNode(b, srv, "a")
	c := newClient(b, srv)
	spawnTimer(b, c, "clock", "a")
	nc := connect(b, srv)
	l := transport.Layout{}

	type seen struct {
		due, fired, mailbox, handled time.Time
	}
	var mu sync.Mutex
	timers := map[string]*seen{} // by msgpack payload
	of := func(payload []byte) *seen {
		s := timers[string(payload)]
		if s == nil {
			s = &seen{}
			timers[string(payload)] = s
		}
		return s
	}
	var bad error
	sub, err := nc.Subscribe(l.SendSubject("clock"), func(m *nats.Msg) {
		now := time.Now()
		if m.Header.Get(node.TimerDueHeader) == "" {
			return
		}
		due, err1 := time.Parse(time.RFC3339Nano, m.Header.Get(node.TimerDueHeader))
		fired, err2 := time.Parse(time.RFC3339Nano, m.Header.Get(node.TimerFiredHeader))
		mu.Lock()
		defer mu.Unlock()
		if err1 != nil || err2 != nil {
			bad = fmt.Errorf("timer headers: %v %v", err1, err2)
			return
		}
		// The first of the two firings (the node's, the server's) is the
		// one the mailbox keeps; a subscriber sees both publishes.
		if s := of(m.Data); s.mailbox.IsZero() {
			s.due, s.fired, s.mailbox = due, fired, now
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Unsubscribe()
	csub, err := nc.Subscribe(l.ChainSubject("clock"), func(m *nats.Msg) {
		now := time.Now()
		ps, err := chain.Payloads(m.Data)
		if err != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, p := range ps {
			ev, err := chain.Decode(p)
			if err != nil {
				continue
			}
			if h, ok := ev.Body.(*chain.Handled); ok && strings.HasPrefix(h.MsgID, "timer:") {
				of(h.Payload).handled = now
			}
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	defer csub.Unsubscribe()
	if err := nc.Flush(); err != nil {
		b.Fatal(err)
	}

	pace := time.NewTicker(timerBenchPace)
	defer pace.Stop()
	k := 0
	for b.Loop() {
		k++
		name := fmt.Sprint("t", k)
		if r, err := timerAsk(b, c, "clock", timerMsg("set", name, uint32(timerBenchDelay.Milliseconds()), 0, name)); err != nil || r != "ok" {
			b.Fatalf("set %s: %q, %v", name, r, err)
		}
		<-pace.C
	}
	var dueFired, firedMailbox, mailboxHandled, total []time.Duration
	checkFor(b, time.Minute+timerBenchDelay, func() error {
		mu.Lock()
		defer mu.Unlock()
		if bad != nil {
			return bad
		}
		dueFired, firedMailbox, mailboxHandled, total = nil, nil, nil, nil
		for i := 1; i <= k; i++ {
			s := timers[string(guest.AppendString(nil, fmt.Sprint("t", i)))]
			if s == nil || s.mailbox.IsZero() || s.handled.IsZero() {
				return fmt.Errorf("timer t%d not seen in the mailbox and the chain yet", i)
			}
			dueFired = append(dueFired, s.fired.Sub(s.due))
			firedMailbox = append(firedMailbox, s.mailbox.Sub(s.fired))
			mailboxHandled = append(mailboxHandled, s.handled.Sub(s.mailbox))
			total = append(total, s.handled.Sub(s.due))
		}
		return nil
	})
	for _, leg := range []struct {
		name string
		d    []time.Duration
	}{{"due-fired", dueFired}, {"fired-mailbox", firedMailbox}, {"mailbox-handled", mailboxHandled}, {"total", total}} {
		slices.Sort(leg.d)
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		b.ReportMetric(ms(leg.d[len(leg.d)/2]), leg.name+"-p50-ms")
		b.ReportMetric(ms(leg.d[len(leg.d)*99/100]), leg.name+"-p99-ms")
		b.ReportMetric(ms(leg.d[len(leg.d)-1]), leg.name+"-max-ms")
	}
}

// One timer set every timerBenchPace, each due timerBenchDelay after it.
const (
	timerBenchDelay = time.Second
	timerBenchPace  = 10 * time.Millisecond
)

// TestTimerDueFiredHeaders checks what BenchmarkTimerLateness reads: a
// fired one-shot's mailbox message says when it was due (the set's time
// plus its delay) and when the server fired it (not before it was due,
// not after the message was seen).
func TestTimerDueFiredHeaders(t *testing.T) {
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	spawnTimer(t, c, "clock", "a")
	nc := connect(t, srv)
	sub, err := nc.SubscribeSync(transport.Layout{}.SendSubject("clock"))
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	const delay = 300 * time.Millisecond
	before := time.Now()
	if r, err := timerAsk(t, c, "clock", timerMsg("set", "once", uint32(delay.Milliseconds()), 0, "ping")); err != nil || r != "ok" {
		t.Fatalf("set: %q, %v", r, err)
	}
	m, err := sub.NextMsg(time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	got := time.Now()
	due, err := time.Parse(time.RFC3339Nano, m.Header.Get(node.TimerDueHeader))
	if err != nil {
		t.Fatalf("%s: %v", node.TimerDueHeader, err)
	}
	fired, err := time.Parse(time.RFC3339Nano, m.Header.Get(node.TimerFiredHeader))
	if err != nil {
		t.Fatalf("%s: %v", node.TimerFiredHeader, err)
	}
	// The node sets the schedule once the set's event is durable, which
	// may be after the reply: due is at least the delay after the set.
	if due.Before(before.Add(delay)) {
		t.Errorf("due %v, want at least %v after the set at %v", due, delay, before)
	}
	if fired.Before(due) || got.Before(fired) {
		t.Errorf("fired %v, want after it was due (%v) and before it was seen (%v)", fired, due, got)
	}
}

// TestNodeFiredTimersOnce: one-shot timers fired by the node at their due
// time and again by the server's scheduler are each handled once (the
// mailbox keeps the first under the set's id; the forwarder finds the
// done mark and only deletes the second), and a one-shot cancelled
// before it is due fires neither way.
func TestNodeFiredTimersOnce(t *testing.T) {
	srv := testServer(t)
	startGoNode(t, srv, "a")
	c := newClient(t, srv)
	spawnTimer(t, c, "clock", "a")
	nc := connect(t, srv)
	const n = 20
	for i := range n {
		if r, err := timerAsk(t, c, "clock", timerMsg("set", fmt.Sprint("t", i), 200, 0, fmt.Sprint("p", i))); err != nil || r != "ok" {
			t.Fatalf("set: %q, %v", r, err)
		}
	}
	if r, err := timerAsk(t, c, "clock", timerMsg("set", "gone", 400, 0, "gone")); err != nil || r != "ok" {
		t.Fatalf("set: %q, %v", r, err)
	}
	if r, err := timerAsk(t, c, "clock", timerMsg("cancel", "gone", 0, 0, "")); err != nil || r != "ok" {
		t.Fatalf("cancel: %q, %v", r, err)
	}
	checkFor(t, 10*time.Second, func() error {
		if got := timerCount(t, c, "clock"); !strings.HasPrefix(got, fmt.Sprint(n, " ")) {
			return fmt.Errorf("count %q, want %d timers handled", got, n)
		}
		return nil
	})
	// The server fires each set up to 250 ms after its due time, and the
	// cancelled one was due at 400 ms: the absence of more is the test.
	time.Sleep(time.Second)
	if got := timerCount(t, c, "clock"); !strings.HasPrefix(got, fmt.Sprint(n, " ")) {
		t.Fatalf("count %q after the server's firings, want %d", got, n)
	}
	ids := map[string]int{}
	for _, ev := range chainOf(t, nc, "clock") {
		if h, ok := ev.Body.(*chain.Handled); ok && strings.HasPrefix(h.MsgID, "timer:") {
			ids[h.MsgID]++
		}
	}
	if len(ids) != n {
		t.Fatalf("%d timer sends handled, want %d: %v", len(ids), n, ids)
	}
	for id, k := range ids {
		if k != 1 {
			t.Errorf("%s handled %d times", id, k)
		}
	}
}
