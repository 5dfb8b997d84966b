package chainstore_test

import (
	"errors"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/transport/chainstore"
)

// newFramedTamper is a chain of 12 events in frames, in a stream that
// allows deleting messages: event 1 alone, 2-4, 5-7, 8 alone, 9-11, 12
// alone.
func newFramedTamper(t *testing.T) *tamperEnv {
	e := setup(t, func(sc *jetstream.StreamConfig) { sc.DenyDelete = false })
	appendFrames(t, e, "victim", 1, 3, 3, 1, 3, 1)
	st, err := e.js.Stream(testContext(t), e.layout.ChainStream())
	if err != nil {
		t.Fatal(err)
	}
	return &tamperEnv{env: e, t: t, st: st}
}

// takeFrame deletes the stored message holding chain sequence seq and
// returns its events.
func (te *tamperEnv) takeFrame(seq uint64) []chain.Sealed {
	ctx := testContext(te.t)
	for r, err := range te.store.Records(ctx, "victim") {
		if err != nil {
			te.t.Fatal(err)
		}
		ps, err := chain.Payloads(r.Data)
		if err != nil {
			te.t.Fatal(err)
		}
		var ss []chain.Sealed
		for _, p := range ps {
			ev, err := chain.Decode(p)
			if err != nil {
				te.t.Fatal(err)
			}
			ss = append(ss, chain.Sealed{Event: ev, Payload: p, Hash: chain.Sum(p)})
		}
		if ss[0].Event.Seq <= seq && seq <= ss[len(ss)-1].Event.Seq {
			if err := te.st.DeleteMsg(ctx, r.StreamSeq); err != nil {
				te.t.Fatal(err)
			}
			return ss
		}
	}
	te.t.Fatalf("no event %d", seq)
	return nil
}

// publishFrame stores ss at the end, unfenced, as a frame with honest
// headers (edit, if set, changes them first).
func (te *tamperEnv) publishFrame(ss []chain.Sealed, edit func(nats.Header)) {
	data, h, err := chain.EncodeFrame(ss)
	if err != nil {
		te.t.Fatal(err)
	}
	if edit != nil {
		edit(h)
	}
	if _, err := te.js.PublishMsg(testContext(te.t), &nats.Msg{Subject: te.layout.ChainSubject("victim"), Header: h, Data: data}); err != nil {
		te.t.Fatal(err)
	}
}

func TestTamperFrameChangeOne(t *testing.T) {
	te := newFramedTamper(t)
	ss := te.takeFrame(6)
	ev := ss[1].Event
	h := *ev.Body.(*chain.Handled)
	h.Reply = []byte("changed")
	ev.Body = &h
	var err error
	if ss[1], err = chain.Seal(ev); err != nil {
		t.Fatal(err)
	}
	te.publishFrame(ss, nil) // headers recomputed: only the link tells
	te.expect("6:modified")
}

func TestTamperFrameDelete(t *testing.T) {
	te := newFramedTamper(t)
	te.takeFrame(5)
	te.expect("5:removed", "6:removed", "7:removed")
}

func TestTamperFrameSwap(t *testing.T) {
	te := newFramedTamper(t)
	a, b := te.takeFrame(2), te.takeFrame(5)
	te.publishFrame(b, nil)
	te.publishFrame(a, nil)
	te.expect("2:reordered", "3:reordered", "4:reordered", "5:reordered", "6:reordered", "7:reordered")
}

func TestTamperFrameInsert(t *testing.T) {
	te := newFramedTamper(t)
	var five chain.Head
	for en, err := range te.store.Read(testContext(t), "victim", 5) {
		if err != nil {
			t.Fatal(err)
		}
		five = chain.Head{Seq: en.Event.Seq, Hash: en.Hash}
		break
	}
	// A forged frame of events 6 and 7, linked to event 5 and honest in
	// its headers.
	f6, _ := chain.Seal(five.Next("victim", &chain.Stop{Reason: "forged"}))
	f7, _ := chain.Seal(f6.Head().Next("victim", &chain.Stop{Reason: "forged"}))
	te.publishFrame([]chain.Sealed{f6, f7}, nil)
	te.expect("6:inserted", "7:inserted")
}

// TestTamperFrameHeaderLies: a frame republished with its events intact
// but a header that says otherwise is reported at the event the header
// describes.
func TestTamperFrameHeaderLies(t *testing.T) {
	te := newFramedTamper(t)
	ss := te.takeFrame(10)
	te.publishFrame(ss, func(h nats.Header) { h.Set(chain.HeaderLastSeq, "12") })
	te.expect("11:modified")
}

// TestReadStopsAtDamagedFrame: Read and ReadFrom refuse to go past a
// removed frame.
func TestReadStopsAtDamagedFrame(t *testing.T) {
	te := newFramedTamper(t)
	ctx := testContext(t)
	var two chainstore.Head
	for en, err := range te.store.Read(ctx, "victim", 2) {
		if err != nil {
			t.Fatal(err)
		}
		two = chainstore.Head{Head: chain.Head{Seq: en.Event.Seq, Hash: en.Hash}, StreamSeq: en.StreamSeq}
		break
	}
	te.takeFrame(6)
	for name, it := range map[string]func(func(chainstore.Entry, error) bool){
		"Read":     te.store.Read(ctx, "victim", 1),
		"ReadFrom": te.store.ReadFrom(ctx, "victim", two),
	} {
		n := 0
		var err error
		for en, e := range it {
			if err = e; e != nil {
				break
			}
			n = int(en.Event.Seq)
		}
		if n != 4 || !errors.Is(err, chainstore.ErrBroken) {
			t.Fatalf("%s: read up to %d, then %v; want 4 then ErrBroken", name, n, err)
		}
	}
}
