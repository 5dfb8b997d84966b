package chainstore_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor/chain"
)

// tamperEnv is a chain of 10 events in a stream that allows deleting
// messages (the layout denies it; someone with the rights can change
// that, or purge and republish), and helpers that change it through the
// JetStream API.
type tamperEnv struct {
	*env
	t  *testing.T
	st jetstream.Stream
}

func newTamper(t *testing.T) *tamperEnv {
	e := setup(t, func(sc *jetstream.StreamConfig) { sc.DenyDelete = false })
	appendEach(t, e, "victim", 10)
	st, err := e.js.Stream(testContext(t), e.layout.ChainStream())
	if err != nil {
		t.Fatal(err)
	}
	return &tamperEnv{env: e, t: t, st: st}
}

// take deletes the stored event with chain sequence seq and returns it.
func (te *tamperEnv) take(seq uint64) *jetstream.RawStreamMsg {
	ctx := testContext(te.t)
	for r, err := range te.store.Records(ctx, "victim") {
		if err != nil {
			te.t.Fatal(err)
		}
		if nats.Header(r.Header).Get(chain.HeaderSeq) == fmt.Sprint(seq) {
			m, err := te.st.GetMsg(ctx, r.StreamSeq)
			if err != nil {
				te.t.Fatal(err)
			}
			if err := te.st.DeleteMsg(ctx, r.StreamSeq); err != nil {
				te.t.Fatal(err)
			}
			return m
		}
	}
	te.t.Fatalf("no event %d", seq)
	return nil
}

// publish stores payload at the end, unfenced, with the Theater headers
// of h (the server's own Nats-* headers of a read message dropped).
func (te *tamperEnv) publish(data []byte, from nats.Header) {
	h := nats.Header{}
	for _, k := range []string{chain.HeaderKind, chain.HeaderSeq, chain.HeaderHash} {
		h.Set(k, from.Get(k))
	}
	if _, err := te.js.PublishMsg(testContext(te.t), &nats.Msg{Subject: te.layout.ChainSubject("victim"), Header: h, Data: data}); err != nil {
		te.t.Fatal(err)
	}
}

func (te *tamperEnv) publishEvent(ev chain.Event) {
	s, err := chain.Seal(ev)
	if err != nil {
		te.t.Fatal(err)
	}
	te.publish(s.Payload, nats.Header(s.Header()))
}

func (te *tamperEnv) expect(want ...string) {
	te.t.Helper()
	rep, err := te.store.Verify(testContext(te.t), "victim", chain.Head{})
	if err != nil {
		te.t.Fatal(err)
	}
	var got []string
	for _, f := range rep.Findings {
		got = append(got, fmt.Sprintf("%d:%s", f.Seq, f.Problem))
	}
	if !slices.Equal(got, want) {
		te.t.Fatalf("findings %q, want %q\n%v", got, want, rep.Findings)
	}
	for _, f := range rep.Findings {
		te.t.Log(f)
	}
}

func TestTamperChangeOne(t *testing.T) {
	te := newTamper(t)
	m := te.take(4)
	ev, err := chain.Decode(m.Data)
	if err != nil {
		t.Fatal(err)
	}
	ev.Body.(*chain.Handled).Reply = []byte("changed")
	te.publishEvent(ev) // headers recomputed: only the link tells
	te.expect("4:modified")
}

func TestTamperDeleteOne(t *testing.T) {
	te := newTamper(t)
	te.take(6)
	te.expect("6:removed")
}

func TestTamperSwapTwo(t *testing.T) {
	te := newTamper(t)
	m3, m4 := te.take(3), te.take(4)
	te.publish(m4.Data, m4.Header)
	te.publish(m3.Data, m3.Header)
	te.expect("3:reordered", "4:reordered")
}

func TestTamperInsertOne(t *testing.T) {
	te := newTamper(t)
	var parent chain.Hash
	for en, err := range te.store.Read(testContext(t), "victim", 1) {
		if err != nil {
			t.Fatal(err)
		}
		if en.Event.Seq == 6 {
			parent = en.Hash
		}
	}
	// A forged event 7, linked to event 6 and honest in its headers.
	te.publishEvent(chain.Event{Actor: "victim", Seq: 7, Parent: parent, Body: &chain.Stop{Reason: "forged"}})
	te.expect("7:inserted")
}

// TestReadStopsAtDamage: Read refuses to go past a broken link, so
// nothing replays a damaged chain.
func TestReadStopsAtDamage(t *testing.T) {
	te := newTamper(t)
	te.take(5)
	n := 0
	var err error
	for en, e := range te.store.Read(testContext(t), "victim", 1) {
		if err = e; e != nil {
			break
		}
		n = int(en.Event.Seq)
	}
	if n != 4 || err == nil {
		t.Fatalf("read up to %d, then %v; want 4 then ErrBroken", n, err)
	}
}
