package node_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// msgpackUint decodes a msgpack unsigned integer (the counter's u32).
func msgpackUint(b []byte) (uint64, error) {
	switch {
	case len(b) == 1 && b[0] < 0x80:
		return uint64(b[0]), nil
	case len(b) == 2 && b[0] == 0xcc:
		return uint64(b[1]), nil
	case len(b) == 3 && b[0] == 0xcd:
		return uint64(b[1])<<8 | uint64(b[2]), nil
	case len(b) == 5 && b[0] == 0xce:
		return uint64(b[1])<<24 | uint64(b[2])<<16 | uint64(b[3])<<8 | uint64(b[4]), nil
	}
	return 0, fmt.Errorf("not a small msgpack uint: %x", b)
}

// requestJSON asks actor id to add v and returns the total it replied.
func requestAdd(ctx context.Context, c interface {
	Request(context.Context, string, []byte, wire.Encoding) ([]byte, error)
}, id string, v uint64) (uint64, error) {
	reply, err := c.Request(ctx, id, []byte(fmt.Sprint(v)), wire.JSON)
	if err != nil {
		return 0, err
	}
	var total uint64
	_, err = fmt.Sscan(string(reply), &total)
	return total, err
}

// TestReplyThenKill: a request's reply is released only once its state
// is durable: the node process is killed with SIGKILL right after a
// reply, and the node started again under its name continues from
// exactly the state that reply reported.
func TestReplyThenKill(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	child := startServe(t, srv.ClientURL(), "victim")
	c := newClient(t, srv)
	spawnCounter(t, c, "gated", "victim")
	var last uint64
	for i := range 50 {
		total, err := requestAdd(ctx, c, "gated", uint64(i%7+1))
		if err != nil {
			t.Fatal(err)
		}
		last = total
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	startNode(t, srv, "victim")
	checkFor(t, 15*time.Second, func() error {
		total, err := requestAdd(ctx, c, "gated", 0)
		if err != nil {
			return err
		}
		if total != last {
			t.Fatalf("state after the restart %d, the last reply said %d", total, last)
		}
		return nil
	})
}

// TestCrashDuringStream: the node process is killed with SIGKILL while
// eight clients stream requests and sends at it. Every request
// that got a reply and every acknowledged send is in the chain exactly
// once, the chain verifies, and the actor restarted on a new node
// continues it: its total is the sum of everything the chain recorded.
func TestCrashDuringStream(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	child := startServe(t, srv.ClientURL(), "crashing")
	c := newClient(t, srv)
	spawnCounter(t, c, "streamed", "crashing")
	js := natsJS(t, connect(t, srv))

	var mu sync.Mutex
	replied := map[uint64]bool{} // request values (distinct) that got a reply
	acked := map[uint64]bool{}   // mailbox sequences of acknowledged sends
	var maxTotal uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := uint64(0); ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				v := 1000 + uint64(g)*10000 + i // distinct, under 2^16+
				rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				total, err := requestAdd(rctx, c, "streamed", v)
				cancel()
				if err == nil {
					mu.Lock()
					replied[v] = true
					maxTotal = max(maxTotal, total)
					mu.Unlock()
				}
				// A send after each request: both streams run at once.
				m := nats.NewMsg("theater.actor.streamed.send")
				m.Data = []byte{0x01}
				if ack, err := js.PublishMsg(ctx, m, jetstream.WithMsgID(nats.NewInbox())); err == nil {
					mu.Lock()
					acked[ack.Sequence] = true
					mu.Unlock()
				}
			}
		}()
	}
	checkFor(t, 20*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(replied) < 300 || len(acked) < 300 {
			return fmt.Errorf("%d replies, %d sends so far", len(replied), len(acked))
		}
		return nil
	})
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	close(stop)
	wg.Wait()

	startNode(t, srv, "restarted")
	nc := connect(t, srv)
	var evs []chain.Event
	checkFor(t, 30*time.Second, func() error {
		evs = chainOf(t, nc, "streamed")
		seen := map[uint64]int{}
		for _, s := range handledSends(evs) {
			seen[s]++
		}
		mu.Lock()
		defer mu.Unlock()
		for s := range acked {
			if seen[s] == 0 {
				return fmt.Errorf("acknowledged send %d not handled yet", s)
			}
		}
		for s, n := range seen {
			if n != 1 {
				t.Fatalf("send %d handled %d times", s, n)
			}
		}
		return nil
	})
	var sum uint64
	reqs := map[uint64]int{}
	for _, e := range evs {
		if h, ok := e.Body.(*chain.Handled); ok && h.Call != chain.CallInit {
			v, err := msgpackUint(h.Payload)
			if err != nil {
				t.Fatalf("event %d: %v", e.Seq, err)
			}
			sum += v
			if h.Call == chain.CallRequest {
				reqs[v]++
			}
		}
	}
	for v := range replied {
		if reqs[v] != 1 {
			t.Fatalf("replied request %d is in the chain %d times", v, reqs[v])
		}
	}
	if sum < maxTotal {
		t.Fatalf("the chain sums to %d, a reply reported %d", sum, maxTotal)
	}
	total, err := requestAdd(ctx, c, "streamed", 1)
	if err != nil || total != sum+1 {
		t.Fatalf("the restarted actor says %d (%v), the chain sums to %d", total, err, sum)
	}
	t.Logf("%d replies, %d acknowledged sends; chain of %d events", len(replied), len(acked), len(chainOf(t, nc, "streamed")))
}

// TestZombie: a node stopped (SIGSTOP) past its lease while a survivor
// takes its actor over, then continued (SIGCONT), answers no request and
// appends nothing: every reply after it wakes continues one count, and
// the chain holds one line of events.
func TestZombie(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	ttl := transport.StoreConfig{NodeTTL: time.Second}
	child := startServe(t, srv.ClientURL(), "zombie", "--node-ttl", "1s")
	startNodeCfg(t, srv, node.Config{Name: "survivor", Store: ttl})
	c := newClient(t, srv)
	spawnCounter(t, c, "undead", "zombie")
	if _, err := requestAdd(ctx, c, "undead", 5); err != nil {
		t.Fatal(err)
	}
	if err := child.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 20*time.Second, func() error {
		e, err := c.Entry(ctx, "undead")
		if err != nil || e.Node != "survivor" {
			return fmt.Errorf("entry on %s, %v", e.Node, err)
		}
		return nil
	})
	// The survivor moves the count on while the zombie sleeps.
	total, err := requestAdd(ctx, c, "undead", 10)
	if err != nil || total != 15 {
		t.Fatalf("survivor: %d, %v", total, err)
	}
	if err := child.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		got, err := requestAdd(ctx, c, "undead", 1)
		if err != nil {
			t.Fatal(err)
		}
		if want := uint64(16 + i); got != want {
			t.Fatalf("reply %d after SIGCONT: %d, want %d (the zombie answered)", i, got, want)
		}
	}
	evs := chainOf(t, connect(t, srv), "undead")
	owners := 0
	for _, e := range evs {
		if o, ok := e.Body.(*chain.Owner); ok {
			owners++
			if owners == 2 && o.Node != "survivor" {
				t.Fatalf("second owner %+v", o)
			}
		}
	}
	if owners != 2 {
		t.Fatalf("%d owner events, want 2: %v", owners, kinds(evs))
	}
	if n := countKind(evs, chain.KindHandled); n != 1+1+1+100 {
		t.Fatalf("%d handled events, want init and 102 requests", n)
	}
}

// TestSameName: two processes started under one name get different
// incarnations: the second takes the first's leases at start, the first
// lets its actors go at its next renewal, and each actor ends up hosted
// once with a linear chain.
func TestSameName(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	ttl := transport.StoreConfig{NodeTTL: time.Second}
	first := startNodeCfg(t, srv, node.Config{Name: "twin", Store: ttl})
	c := newClient(t, srv)
	for i := range 3 {
		spawnCounter(t, c, fmt.Sprintf("twin-%d", i), "")
	}
	second := startNodeCfg(t, srv, node.Config{Name: "twin", Store: ttl})
	checkFor(t, 10*time.Second, func() error {
		for i := range 3 {
			id := fmt.Sprintf("twin-%d", i)
			if a, b := node.Hosts(first, id), node.Hosts(second, id); a == b {
				return fmt.Errorf("%s hosted by first %v, second %v", id, a, b)
			}
		}
		return nil
	})
	nc := connect(t, srv)
	for i := range 3 {
		id := fmt.Sprintf("twin-%d", i)
		if total, err := requestAdd(ctx, c, id, 2); err != nil || total != 2 {
			t.Fatalf("%s: %d, %v", id, total, err)
		}
		if evs := chainOf(t, nc, id); countKind(evs, chain.KindOwner) != 2 {
			t.Fatalf("%s: %v", id, kinds(evs))
		}
	}
}

// TestTakeoverFetchFails: a survivor that cannot fetch a dead node's
// module gives the lease back instead of holding an actor it does not
// host; once the module is there again a sweep takes the actor and its
// acknowledged send is handled.
func TestTakeoverFetchFails(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	ttl := transport.StoreConfig{NodeTTL: time.Second}
	child := startServe(t, srv.ClientURL(), "doomed", "--node-ttl", "1s")
	startNodeCfg(t, srv, node.Config{Name: "survivor", Store: ttl})
	c := newClient(t, srv)
	info := spawnCounter(t, c, "homeless", "doomed")
	if err := c.Send(ctx, "homeless", []byte("5"), wire.JSON); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "homeless", "5")
	js := natsJS(t, connect(t, srv))
	obs, err := js.ObjectStore(ctx, "theater_modules")
	if err != nil {
		t.Fatal(err)
	}
	module, err := wire.GetObject(ctx, obs, info.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := obs.Delete(ctx, info.Digest); err != nil {
		t.Fatal(err)
	}
	if err := child.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(ctx, "homeless", []byte("3"), wire.JSON); err != nil {
		t.Fatal(err)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	leases, err := js.KeyValue(ctx, "theater_leases")
	if err != nil {
		t.Fatal(err)
	}
	// The survivor tries, fails and gives the lease back: the actor is
	// never left registered to a live node with no lease holder hosting it.
	checkFor(t, 20*time.Second, func() error {
		_, err := leases.Get(ctx, "homeless")
		if !errors.Is(err, jetstream.ErrKeyNotFound) {
			return fmt.Errorf("lease: %v", err)
		}
		if e, err := c.Entry(ctx, "homeless"); err != nil || e.Node == "survivor" {
			return fmt.Errorf("entry names %s, %v", e.Node, err)
		}
		return nil
	})
	if _, err := wire.PutObject(ctx, obs, module); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "homeless", "8")
	// The live state runs ahead of the chain: its last events may be
	// on their way.
	checkFor(t, 5*time.Second, func() error { return exactlyOnce(chainOf(t, connect(t, srv), "homeless"), 2) })
}

// TestShutdownWhileAppendsFail: the chain refuses appends (a stream limit
// reached) while sends arrive; the node lets the actor go without
// purging or recording anything, shuts down, and a node started later
// handles every acknowledged send exactly once.
func TestShutdownWhileAppendsFail(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	nc := connect(t, srv)
	a, err := node.Start(ctx, node.Config{Conn: nc, Runtime: newRuntime(t), Name: "a", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, srv)
	spawnCounter(t, c, "refused", "a")
	if err := c.Send(ctx, "refused", []byte("1"), wire.JSON); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "refused", "1")
	js := natsJS(t, connect(t, srv))
	lift := fillChainStream(t, js)
	for _, v := range []string{"2", "3"} {
		if err := c.Send(ctx, "refused", []byte(v), wire.JSON); err != nil {
			t.Fatal(err)
		}
	}
	checkFor(t, 10*time.Second, func() error {
		if node.Hosts(a, "refused") {
			return errors.New("node a still hosts the actor")
		}
		return nil
	})
	if err := a.Close(ctx); err != nil {
		t.Logf("close: %v", err)
	}
	lift()
	mb, err := js.Stream(ctx, "theater_mailbox")
	if err != nil {
		t.Fatal(err)
	}
	if mi, err := mb.Info(ctx); err != nil || mi.State.Msgs < 2 {
		t.Fatalf("mailbox holds %d sends after the shutdown, %v", mi.State.Msgs, err)
	}
	startNode(t, srv, "b")
	waitState(t, c, "refused", "6")
	// The live state runs ahead of the chain: its last events may be
	// on their way.
	checkFor(t, 5*time.Second, func() error { return exactlyOnce(chainOf(t, connect(t, srv), "refused"), 3) })
}
