package chainstore_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/chainstore"
)

func handled(i int) *chain.Handled {
	return &chain.Handled{Call: chain.CallSend, From: "sender", MsgID: fmt.Sprint("m-", i), MailboxSeq: uint64(i + 1),
		Payload: bytes.Repeat([]byte{byte(i)}, 64), State: chain.Sum([]byte{byte(i)})}
}

// appendN appends n handled records to a fresh appender of id from its
// current head and waits until all are durable.
func appendN(t testing.TB, e *env, id string, n int) []*chainstore.Pending {
	t.Helper()
	ctx := testContext(t)
	head, err := e.store.Head(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.store.Appender(id, head)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAppender(t, a)
	ps := make([]*chainstore.Pending, n)
	for i := range ps {
		if ps[i], err = a.Append(ctx, handled(i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range ps {
		if err := p.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return ps
}

// appendEach is appendN waiting for each record before the next, so
// every record is a message of its own, no frames.
func appendEach(t testing.TB, e *env, id string, n int) {
	t.Helper()
	ctx := testContext(t)
	head, err := e.store.Head(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.store.Appender(id, head)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAppender(t, a)
	for i := range n {
		p, err := a.Append(ctx, handled(int(head.Seq)+i))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// appendFrames appends groups of the given sizes to id's chain, each
// AppendAll waited for before the next, so each group of two or more is
// one frame, and returns the appender's head.
func appendFrames(t testing.TB, e *env, id string, sizes ...int) chainstore.Head {
	t.Helper()
	ctx := testContext(t)
	head, err := e.store.Head(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.store.Appender(id, head)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAppender(t, a)
	k := int(head.Seq)
	var last *chainstore.Pending
	for _, n := range sizes {
		bodies := make([]chain.Body, n)
		for i := range bodies {
			bodies[i] = handled(k)
			k++
		}
		ps, err := a.AppendAll(ctx, bodies...)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if err := p.Wait(ctx); err != nil {
				t.Fatal(err)
			}
			if p.StreamSeq() != ps[0].StreamSeq() {
				t.Fatalf("a group of %d in several messages", n)
			}
		}
		last = ps[n-1]
	}
	return chainstore.Head{Head: a.Head(), StreamSeq: last.StreamSeq()}
}

func TestAppendReadRoundTrip(t *testing.T) {
	e := setup(t, nil)
	ctx := testContext(t)
	if h, err := e.store.Head(ctx, "a-1"); err != nil || h != (chainstore.Head{}) {
		t.Fatalf("head of an empty chain: %+v %v", h, err)
	}
	a, err := e.store.Appender("a-1", chainstore.Head{})
	if err != nil {
		t.Fatal(err)
	}
	bodies := []chain.Body{
		&chain.Spawn{Module: chain.Sum([]byte("wasm")), Manifest: []byte("x"), State: []byte{1}},
		&chain.Owner{Node: "node-1", Incarnation: "i-1"},
	}
	for i := range 30 {
		bodies = append(bodies, handled(i))
	}
	bodies = append(bodies, &chain.Snapshot{State: []byte{29}}, &chain.Stop{Reason: "done"}) // the state handled(29) records
	var ps []*chainstore.Pending
	for i, b := range bodies {
		if i%5 == 0 {
			p, err := a.AppendAll(ctx, b) // a group of one
			if err != nil {
				t.Fatal(err)
			}
			ps = append(ps, p...)
			continue
		}
		p, err := a.Append(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	for i, p := range ps {
		if err := p.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		// Records queued together share a frame, and so its stream seq.
		if p.Seq() != uint64(i+1) || p.StreamSeq() == 0 || (i > 0 && p.StreamSeq() < ps[i-1].StreamSeq()) {
			t.Fatalf("record %d: seq %d at stream seq %d", i, p.Seq(), p.StreamSeq())
		}
	}
	closeAppender(t, a)
	if _, err := a.Append(ctx, &chain.Stop{}); !errors.Is(err, chainstore.ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}

	var got []chainstore.Entry
	for en, err := range e.store.Read(ctx, "a-1", 1) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, en)
	}
	if len(got) != len(bodies) {
		t.Fatalf("read %d events, appended %d", len(got), len(bodies))
	}
	for i, en := range got {
		want, _ := chain.Seal(chain.Event{Actor: "a-1", Seq: uint64(i + 1), Parent: en.Event.Parent, Body: bodies[i]})
		if en.Hash != ps[i].Hash() || want.Hash != en.Hash || en.StreamSeq != ps[i].StreamSeq() {
			t.Fatalf("event %d read back differs", i+1)
		}
	}
	head, err := e.store.Head(ctx, "a-1")
	if err != nil || head.Seq != uint64(len(bodies)) || head.Hash != ps[len(ps)-1].Hash() || head.StreamSeq != ps[len(ps)-1].StreamSeq() {
		t.Fatalf("head %+v %v", head, err)
	}
	// From the middle.
	var seqs []uint64
	for en, err := range e.store.Read(ctx, "a-1", 30) {
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, en.Event.Seq)
	}
	if !slices.Equal(seqs, []uint64{30, 31, 32, 33, 34}) {
		t.Fatalf("read from 30: %v", seqs)
	}
	rep, err := e.store.Verify(ctx, "a-1", head.Head)
	if err != nil || !rep.OK() || rep.Events != len(bodies) || rep.Records != int(head.StreamSeq) {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

func TestReadManyPages(t *testing.T) {
	e := setup(t, nil)
	appendN(t, e, "a", 2500)
	appendN(t, e, "b", 3) // interleaved subjects are skipped by the filter
	appendN(t, e, "a", 10)
	n := 0
	for en, err := range e.store.Read(testContext(t), "a", 1) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if en.Event.Seq != uint64(n) {
			t.Fatalf("event %d read as %d", n, en.Event.Seq)
		}
	}
	if n != 2510 {
		t.Fatalf("read %d events", n)
	}
}

// TestGroupCommit: records that arrive while a message is in flight go
// in the next one, one frame, never an atomic batch. The stream shows
// it: frames hold up to the max batch, and together every record once.
func TestGroupCommit(t *testing.T) {
	e := setup(t, nil, chainstore.WithMaxBatch(500))
	const n = 5000
	appendN(t, e, "busy", n)
	ctx := testContext(t)
	frames, singles, events := 0, 0, 0
	for r, err := range e.store.Records(ctx, "busy") {
		if err != nil {
			t.Fatal(err)
		}
		if id := nats.Header(r.Header).Get("Nats-Batch-Id"); id != "" {
			t.Fatalf("stream seq %d came in an atomic batch", r.StreamSeq)
		}
		ps, err := chain.Payloads(r.Data)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) > 500 {
			t.Fatalf("a frame of %d records, over the max of 500", len(ps))
		}
		if chain.IsFrame(r.Data) {
			frames++
			if nats.Header(r.Header).Get(chain.HeaderKind) != chain.FrameKind || nats.Header(r.Header).Get(chain.HeaderEvents) != strconv.Itoa(len(ps)) {
				t.Fatalf("frame headers %v", r.Header)
			}
		} else {
			singles++
		}
		events += len(ps)
	}
	t.Logf("%d records in %d messages (%d frames, %d single events)", n, frames+singles, frames, singles)
	if events != n {
		t.Fatalf("stream holds %d records, appended %d", events, n)
	}
	// 5000 records queue far faster than a commit's round trip: most
	// messages must hold many records (one a record would be 5000; a
	// loaded machine under -race was seen at 134).
	if frames+singles > n/20 {
		t.Fatalf("%d messages for %d records: not grouped", frames+singles, n)
	}
	if rep, err := e.store.Verify(ctx, "busy", chain.Head{}); err != nil || !rep.OK() || rep.Events != n {
		t.Fatalf("verify: %+v %v", rep.Findings, err)
	}
}

// TestRacingAppenders: two writers (two connections, as two nodes) start
// from the same head each round, appending single records and groups (so
// frames race frames). Exactly one wins; the other's records
// all fail with ErrFenced; the chain stays linear and holds exactly the
// acknowledged records.
func TestRacingAppenders(t *testing.T) {
	e := setup(t, nil)
	s2 := e.store
	_, js2 := connect(t, e.srv)
	other, err := chainstore.New(testContext(t), js2, e.layout)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	acked := map[uint64]chain.Hash{}
	for round := range 20 {
		head, err := e.store.Head(ctx, "contested")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		results := make([][]*chainstore.Pending, 2)
		apps := make([]*chainstore.Appender, 2)
		for w, st := range []*chainstore.Store{s2, other} {
			if apps[w], err = st.Appender("contested", head); err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 5 {
					body := func(k int) chain.Body {
						return &chain.Lifecycle{What: "w", Fields: map[string]string{"writer": strconv.Itoa(w), "i": strconv.Itoa(i), "k": strconv.Itoa(k)}}
					}
					// Single records and groups, so the race is between frames.
					ps, err := apps[w].AppendAll(ctx, slices.Repeat([]chain.Body{body(0)}, 1+i%2)...)
					if err != nil {
						return // fenced already
					}
					results[w] = append(results[w], ps...)
				}
			}()
		}
		wg.Wait()
		won := 0
		for w, a := range apps {
			_ = a.Close(ctx)
			ok, fenced := 0, 0
			for _, p := range results[w] {
				<-p.Done()
				switch err := p.Err(); {
				case err == nil:
					ok++
					acked[p.Seq()] = p.Hash()
				case errors.Is(err, chainstore.ErrFenced):
					fenced++
				default:
					t.Fatalf("round %d writer %d: %v", round, w, err)
				}
			}
			if ok > 0 {
				won++
				if fenced > 0 {
					t.Fatalf("round %d writer %d: %d acknowledged, then %d fenced: the winner must not be fenced", round, w, ok, fenced)
				}
			} else if !errors.Is(a.Err(), chainstore.ErrFenced) {
				t.Fatalf("round %d writer %d lost without ErrFenced: %v", round, w, a.Err())
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d winners", round, won)
		}
	}
	head, _ := e.store.Head(ctx, "contested")
	if head.Seq != uint64(len(acked)) {
		t.Fatalf("chain has %d events, %d acknowledged", head.Seq, len(acked))
	}
	for en, err := range e.store.Read(ctx, "contested", 1) {
		if err != nil {
			t.Fatal(err)
		}
		if acked[en.Event.Seq] != en.Hash {
			t.Fatalf("event %d is not the acknowledged one", en.Event.Seq)
		}
	}
	if rep, err := e.store.Verify(ctx, "contested", head.Head); err != nil || !rep.OK() {
		t.Fatalf("verify: %v %v", rep.Findings, err)
	}
}

// TestFencedStopsAppender: once fenced, an appender acknowledges nothing
// more, including records queued behind the failed batch.
func TestFencedStopsAppender(t *testing.T) {
	e := setup(t, nil)
	ctx := testContext(t)
	stale, err := e.store.Appender("x", chainstore.Head{})
	if err != nil {
		t.Fatal(err)
	}
	defer stale.Close(ctx)
	appendN(t, e, "x", 3) // another writer got there first
	ps, err := stale.AppendAll(ctx, &chain.Stop{}, &chain.Stop{}, &chain.Stop{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if err := p.Wait(ctx); !errors.Is(err, chainstore.ErrFenced) || !strings.HasPrefix(err.Error(), "chainstore: ") {
			t.Fatalf("got %v, want ErrFenced", err)
		}
	}
	if _, err := stale.Append(ctx, &chain.Stop{}); !errors.Is(err, chainstore.ErrFenced) {
		t.Fatalf("append after the fence: %v", err)
	}
	if h, _ := e.store.Head(ctx, "x"); h.Seq != 3 {
		t.Fatalf("head %d after a fenced append", h.Seq)
	}
}

// TestBatchAllOrNothing: the server refuses the frame of an AppendAll
// (over the stream's max message size, lowered after the Store learnt
// it); none of its events is stored and the appender stops.
func TestBatchAllOrNothing(t *testing.T) {
	e := setup(t, nil)
	ctx := testContext(t)
	appendN(t, e, "y", 2)
	st, err := e.js.Stream(ctx, e.layout.ChainStream())
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	cfg.MaxMsgSize = 1024
	if _, err := e.js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	head, _ := e.store.Head(ctx, "y")
	a, err := e.store.Appender("y", head)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	ps, err := a.AppendAll(ctx, &chain.Stop{Reason: "small"}, &chain.Snapshot{State: make([]byte, 2048)}, &chain.Stop{Reason: "small"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if err := p.Wait(ctx); !errors.Is(err, chainstore.ErrAppend) {
			t.Fatalf("got %v, want ErrAppend", err)
		}
	}
	if after, _ := e.store.Head(ctx, "y"); after != head {
		t.Fatalf("head moved from %+v to %+v: part of the batch was stored", head, after)
	}
	info, _ := st.Info(ctx)
	if info.State.Msgs != head.StreamSeq {
		t.Fatalf("stream holds %d messages, want %d", info.State.Msgs, head.StreamSeq)
	}
	if _, err := a.Append(ctx, &chain.Stop{}); !errors.Is(err, chainstore.ErrAppend) {
		t.Fatalf("append after a failed batch: %v", err)
	}
}

func TestInvalidArguments(t *testing.T) {
	e := setup(t, nil)
	ctx := testContext(t)
	if _, err := e.store.Appender("a.b", chainstore.Head{}); !errors.Is(err, chainstore.ErrInvalid) {
		t.Fatal(err)
	}
	if _, err := e.store.Appender("a", chainstore.Head{Head: chain.Head{Seq: 3}}); !errors.Is(err, chainstore.ErrInvalid) {
		t.Fatal(err)
	}
	if _, err := e.store.Head(ctx, "*"); !errors.Is(err, chainstore.ErrInvalid) {
		t.Fatal(err)
	}
	if _, err := chainstore.New(ctx, e.js, e.layout, chainstore.WithMaxBatch(1001)); !errors.Is(err, chainstore.ErrInvalid) {
		t.Fatal(err)
	}
	a, _ := e.store.Appender("a", chainstore.Head{})
	defer a.Close(ctx)
	if _, err := a.Append(ctx, &chain.Handled{Call: "bogus"}); !errors.Is(err, chainstore.ErrInvalid) || !errors.Is(err, chain.ErrInvalid) {
		t.Fatal(err)
	}
	if _, err := a.AppendAll(ctx); !errors.Is(err, chainstore.ErrInvalid) {
		t.Fatal(err)
	}
	// A stream whose messages cannot even hold the headers.
	tiny := transport.Layout{Prefix: "tiny"}
	sc := tiny.ChainStreamConfig(transport.StoreConfig{})
	sc.MaxMsgSize = 100
	if _, err := e.js.CreateStream(ctx, sc); err != nil {
		t.Fatal(err)
	}
	if _, err := chainstore.New(ctx, e.js, tiny); !errors.Is(err, chainstore.ErrInvalid) {
		t.Fatal(err)
	}
}

// TestNoAtomicPublishNeeded: frames are plain publishes, so a chain
// stream that does not allow atomic batch publish takes every append,
// AppendAll groups included. (chainstore.New refused such a stream
// while appends went as atomic batches.)
func TestNoAtomicPublishNeeded(t *testing.T) {
	e := setup(t, func(sc *jetstream.StreamConfig) { sc.AllowAtomicPublish = false })
	ctx := testContext(t)
	a, err := e.store.Appender("plain", chainstore.Head{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeAppender(t, a)
	ps, err := a.AppendAll(ctx, handled(0), &chain.Failure{Reason: "trap", Call: chain.CallSend})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if err := p.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if ps[0].StreamSeq() != ps[1].StreamSeq() {
		t.Fatalf("a group of two in messages %d and %d, not one frame", ps[0].StreamSeq(), ps[1].StreamSeq())
	}
	if h, err := e.store.Head(ctx, "plain"); err != nil || h.Head != a.Head() || h.StreamSeq != ps[1].StreamSeq() {
		t.Fatalf("head %+v %v, want %+v at %d", h, err, a.Head(), ps[1].StreamSeq())
	}
}

// TestAppendTooLarge: events that must land together and do not fit in
// one message of the stream are refused at once with ErrTooLarge, before
// anything is sent, and the appender goes on; records queued together
// that do not fit in one message go in several frames, fenced one after
// another.
func TestAppendTooLarge(t *testing.T) {
	e := setup(t, func(sc *jetstream.StreamConfig) { sc.MaxMsgSize = 8192 })
	ctx := testContext(t)
	a, err := e.store.Appender("big", chainstore.Head{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeAppender(t, a)
	if _, err := a.Append(ctx, &chain.Snapshot{State: make([]byte, 8000)}); !errors.Is(err, chainstore.ErrTooLarge) || !strings.HasPrefix(err.Error(), "chainstore: ") {
		t.Fatalf("one event over the limit: %v", err)
	}
	if _, err := a.AppendAll(ctx, &chain.Snapshot{State: make([]byte, 4000)}, &chain.Snapshot{State: make([]byte, 4000)}); !errors.Is(err, chainstore.ErrTooLarge) {
		t.Fatalf("a group over the limit: %v", err)
	}
	var ps []*chainstore.Pending
	for range 20 { // 20 KB queued at once: at least three messages
		p, err := a.Append(ctx, &chain.Snapshot{State: make([]byte, 1000)})
		if err != nil {
			t.Fatalf("after a refusal the appender goes on: %v", err)
		}
		ps = append(ps, p)
	}
	msgs := map[uint64]int{}
	for _, p := range ps {
		if err := p.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		msgs[p.StreamSeq()]++
	}
	if len(msgs) < 3 || a.Stats().Messages != uint64(len(msgs)) {
		t.Fatalf("20 records of 1 KB in messages %v (stats %+v)", msgs, a.Stats())
	}
	if rep, err := e.store.Verify(ctx, "big", a.Head()); err != nil || !rep.OK() || rep.Events != 20 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

// TestIndependentRecomputation re-checks a stored chain the way the
// script in docs/CHAIN.md does, from raw stream messages read with an
// ordered consumer, with crypto/sha256 and a generic msgpack decoder:
// nothing of package chain. The chain holds single events and frames.
func TestIndependentRecomputation(t *testing.T) {
	e := setup(t, nil)
	ctx := testContext(t)
	appendEach(t, e, "counter-1", 5)
	appendFrames(t, e, "counter-1", 3, 1, 4, 17)
	appendN(t, e, "counter-1", 20)
	cons, err := e.js.OrderedConsumer(ctx, e.layout.ChainStream(), jetstream.OrderedConsumerConfig{FilterSubjects: []string{e.layout.ChainSubject("counter-1")}})
	if err != nil {
		t.Fatal(err)
	}
	prev := make([]byte, 32)
	frames := 0
	for i := 1; i <= 50; {
		m, err := cons.Next()
		if err != nil {
			t.Fatal(err)
		}
		payloads := [][]byte{m.Data()}
		if m.Data()[0] != 0x86 { // a frame: a msgpack array of bin
			if err := msgpack.Unmarshal(m.Data(), &payloads); err != nil {
				t.Fatal(err)
			}
			frames++
			if m.Headers().Get("Theater-Kind") != "frame" || m.Headers().Get("Theater-Events") != strconv.Itoa(len(payloads)) ||
				m.Headers().Get("Theater-Last-Seq") != strconv.Itoa(i+len(payloads)-1) {
				t.Fatalf("frame at event %d: headers %v", i, m.Headers())
			}
		}
		if m.Headers().Get("Theater-Seq") != strconv.Itoa(i) {
			t.Fatalf("message at event %d: Theater-Seq %s", i, m.Headers().Get("Theater-Seq"))
		}
		var sum [32]byte
		for _, data := range payloads {
			sum = sha256.Sum256(data)
			var ev map[string]any
			if err := msgpack.Unmarshal(data, &ev); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(ev["seq"]) != strconv.Itoa(i) {
				t.Fatalf("event %d: seq %v", i, ev["seq"])
			}
			if p, _ := ev["parent"].([]byte); !bytes.Equal(p, prev) {
				t.Fatalf("event %d: parent %x, want %x", i, p, prev)
			}
			// The byte layout docs/CHAIN.md's script relies on.
			start := "\x86\xa1v\x01\xa5actor\xa9counter-1\xa3seq"
			if !bytes.HasPrefix(data, []byte(start)) {
				t.Fatalf("event %d does not start with %q", i, start)
			}
			if p := bytes.Index(data, []byte("\xa6parent\xc4\x20")); p < 0 || !bytes.Equal(data[p+9:p+41], prev) {
				t.Fatalf("event %d: parent not where the script looks", i)
			}
			if ev["actor"] != "counter-1" || ev["kind"] != "handled" {
				t.Fatalf("event %d: %v", i, ev)
			}
			prev = bytes.Clone(sum[:])
			i++
		}
		if got := m.Headers().Get("Theater-Hash"); got != hex.EncodeToString(sum[:]) {
			t.Fatalf("message before event %d: header hash %s, sha256 of its last event %x", i, got, sum)
		}
		if len(payloads) == 1 && m.Headers().Get("Theater-Kind") != "handled" {
			t.Fatalf("event %d: kind header %v", i-1, m.Headers())
		}
	}
	if frames < 4 {
		t.Fatalf("%d frames; the test wants at least the four it made", frames)
	}
}

// TestBytesPerEvent: a typical handled message (64-byte payload, no
// inputs or sends) costs the stream at most 600 bytes as a message of its
// own, and much less in frames; the figures are logged for
// docs/BENCHMARKS.md.
func TestBytesPerEvent(t *testing.T) {
	e := setup(t, nil)
	ctx := testContext(t)
	st, err := e.js.Stream(ctx, e.layout.ChainStream())
	if err != nil {
		t.Fatal(err)
	}
	appendEach(t, e, "counter-1", 100)
	single, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	appendFrames(t, e, "counter-1", 10, 10, 10, 10, 10, 10, 10, 10, 10, 10)
	framed, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := chain.Seal(chain.Event{Actor: "counter-1", Seq: 50, Parent: chain.Sum(nil), Body: handled(49)})
	hdr := 0
	for k, v := range s.Header() {
		hdr += len(k) + 2 + len(v[0]) + 2 // "Key: value\r\n"
	}
	perSingle := float64(single.State.Bytes) / 100
	perFramed := float64(framed.State.Bytes-single.State.Bytes) / 100
	t.Logf("payload %d B, headers %d B; stored %.0f B per event alone, %.0f B per event in frames of 10 (stream bytes / events)", len(s.Payload), hdr, perSingle, perFramed)
	if perSingle > 600 || perFramed > perSingle {
		t.Fatalf("%.0f bytes per event alone, %.0f in frames", perSingle, perFramed)
	}
}

// TestManyFramedAppenders: 130 actors on three Stores (as three nodes)
// append groups of 20 kilobyte records at once. With atomic batches the
// server refused those over its 50 in flight per stream; frames are
// plain publishes, and every record lands and every chain verifies.
func TestManyFramedAppenders(t *testing.T) {
	e := setup(t, nil)
	ctx := testContext(t)
	_, js2 := connect(t, e.srv)
	stores := []*chainstore.Store{}
	for _, js := range []jetstream.JetStream{e.js, js2} {
		st, err := chainstore.New(ctx, js, e.layout)
		if err != nil {
			t.Fatal(err)
		}
		stores = append(stores, st)
	}
	one, err := chainstore.New(ctx, e.js, e.layout)
	if err != nil {
		t.Fatal(err)
	}
	stores = append(stores, one)
	var wg sync.WaitGroup
	errs := make(chan error, 130)
	for i := range 130 {
		st := stores[i%3]
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := st.Appender(fmt.Sprint("n", i), chainstore.Head{})
			if err != nil {
				errs <- err
				return
			}
			defer a.Close(ctx)
			var ps []*chainstore.Pending
			for range 3 {
				bodies := make([]chain.Body, 20)
				for k := range bodies {
					bodies[k] = &chain.Snapshot{State: bytes.Repeat([]byte{byte(i)}, 1000)} // one state: nothing handled between
				}
				p, err := a.AppendAll(ctx, bodies...)
				if err != nil {
					errs <- err
					return
				}
				ps = append(ps, p...)
			}
			for _, p := range ps {
				if err := p.Wait(ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range 130 {
		id := fmt.Sprint("n", i)
		if rep, err := e.store.Verify(ctx, id, chain.Head{}); err != nil || !rep.OK() || rep.Head.Seq != 60 {
			t.Fatalf("%s: %+v %v", id, rep, err)
		}
	}
}

// TestIdenticalAppendLands: when the fence fails because the chain's head
// is already exactly the record being appended (a retry whose first try
// landed late, or a replay that wrote the same event), the record counts
// as durable: appends are idempotent by hash.
func TestIdenticalAppendLands(t *testing.T) {
	e := setup(t, nil)
	ctx := testContext(t)
	first, _ := e.store.Appender("twin", chainstore.Head{})
	second, _ := e.store.Appender("twin", chainstore.Head{})
	defer first.Close(ctx)
	defer second.Close(ctx)
	body := &chain.Spawn{Module: chain.Sum([]byte("m")), State: []byte{1}}
	p1, err := first.Append(ctx, body)
	if err != nil {
		t.Fatal(err)
	}
	if err := p1.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	p2, err := second.Append(ctx, body)
	if err != nil {
		t.Fatal(err)
	}
	if err := p2.Wait(ctx); err != nil || p2.StreamSeq() != p1.StreamSeq() || p2.Hash() != p1.Hash() {
		t.Fatalf("identical append: %v at stream seq %d, want durable at %d", err, p2.StreamSeq(), p1.StreamSeq())
	}
	// A different record from the same stale head is fenced.
	if p3, err := second.Append(ctx, &chain.Stop{}); err != nil {
		t.Fatal(err)
	} else if err := p3.Wait(ctx); err != nil {
		t.Fatalf("the second appender continues after its record landed: %v", err)
	}
	p4, _ := first.Append(ctx, &chain.Stop{Reason: "other"})
	if err := p4.Wait(ctx); !errors.Is(err, chainstore.ErrFenced) {
		t.Fatalf("got %v, want ErrFenced", err)
	}
	if h, _ := e.store.Head(ctx, "twin"); h.Seq != 2 {
		t.Fatalf("head %d", h.Seq)
	}
}

// TestLostAcks: with an ack timeout too short for any ack, every single
// publish looks lost. The appender settles each from the chain's head:
// a record that landed is durable, one that did not is sent again, and
// the fence keeps a late first try and its retry from both landing. The
// chain holds each record exactly once.
func TestLostAcks(t *testing.T) {
	e := setup(t, nil)
	ctx := testContext(t)
	st, err := chainstore.New(ctx, e.js, e.layout, chainstore.WithAckTimeout(time.Nanosecond))
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.Appender("lossy", chainstore.Head{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeAppender(t, a)
	for i := range 20 {
		p, err := a.Append(ctx, handled(i))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Wait(ctx); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	rep, err := e.store.Verify(ctx, "lossy", a.Head())
	if err != nil || !rep.OK() || rep.Records != 20 {
		t.Fatalf("verify: %d records, %v %v", rep.Records, rep.Findings, err)
	}
}
