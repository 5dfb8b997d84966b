package chainstore_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/transport/chainstore"
)

// same compares entries by place and hash (bodies are pointers).
func same(a, b []chainstore.Entry) bool {
	return slices.EqualFunc(a, b, func(x, y chainstore.Entry) bool {
		return x.Event.Seq == y.Event.Seq && x.Hash == y.Hash && x.StreamSeq == y.StreamSeq
	})
}

func collect(t *testing.T, it func(func(chainstore.Entry, error) bool)) ([]chainstore.Entry, error) {
	t.Helper()
	var out []chainstore.Entry
	for en, err := range it {
		if err != nil {
			return out, err
		}
		out = append(out, en)
	}
	return out, nil
}

// TestReadFromAcrossFrames: from the head of every event of a chain of
// single events and frames (inside a frame, at its end, at a single
// event), ReadFrom returns exactly the events after it, the same as Read
// from the next sequence; the zero Head reads everything; Head is the
// last event of the last frame.
func TestReadFromAcrossFrames(t *testing.T) {
	e := setup(t, nil)
	ctx := testContext(t)
	appendEach(t, e, "r", 2)
	last := appendFrames(t, e, "r", 3, 1, 4, 2)
	appendN(t, e, "other", 5) // another subject in between
	last = appendFrames(t, e, "r", 5)
	if h, err := e.store.Head(ctx, "r"); err != nil || h != last {
		t.Fatalf("head %+v %v, want %+v (the frame's last event)", h, err, last)
	}
	all, err := collect(t, e.store.Read(ctx, "r", 1))
	if err != nil || len(all) != 17 {
		t.Fatalf("read %d events: %v", len(all), err)
	}
	if got, err := collect(t, e.store.ReadFrom(ctx, "r", chainstore.Head{})); err != nil || !same(got, all) {
		t.Fatalf("from the zero head: %d events, %v", len(got), err)
	}
	frames := 0
	for i, en := range all {
		if i > 0 && all[i-1].StreamSeq == en.StreamSeq {
			frames++
		}
		after := chainstore.Head{Head: chain.Head{Seq: en.Event.Seq, Hash: en.Hash}, StreamSeq: en.StreamSeq}
		got, err := collect(t, e.store.ReadFrom(ctx, "r", after))
		if err != nil {
			t.Fatalf("after event %d: %v", en.Event.Seq, err)
		}
		want, _ := collect(t, e.store.Read(ctx, "r", en.Event.Seq+1))
		if !same(got, want) || !same(got, all[i+1:]) {
			t.Fatalf("after event %d: %d events, want %d", en.Event.Seq, len(got), len(all)-i-1)
		}
	}
	if frames < 10 {
		t.Fatalf("only %d events shared a message: the chain has too few frames to test", frames)
	}
}

// TestReadFromRefusesAWrongHead: a head whose hash, sequence or stream
// sequence does not match what is stored ends the read with ErrBroken
// before any event; a half-zero head is invalid.
func TestReadFromRefusesAWrongHead(t *testing.T) {
	e := setup(t, nil)
	ctx := testContext(t)
	appendN(t, e, "other", 2)
	appendFrames(t, e, "r", 3, 3)
	all, err := collect(t, e.store.Read(ctx, "r", 1))
	if err != nil {
		t.Fatal(err)
	}
	good := chainstore.Head{Head: chain.Head{Seq: all[1].Event.Seq, Hash: all[1].Hash}, StreamSeq: all[1].StreamSeq}
	for name, h := range map[string]chainstore.Head{
		"hash":              {Head: chain.Head{Seq: good.Seq, Hash: chain.Sum([]byte("x"))}, StreamSeq: good.StreamSeq},
		"seq not in frame":  {Head: chain.Head{Seq: 5, Hash: all[4].Hash}, StreamSeq: good.StreamSeq},
		"other's message":   {Head: good.Head, StreamSeq: 1},
		"past the end":      {Head: good.Head, StreamSeq: 1000},
		"seq in next frame": {Head: chain.Head{Seq: 4, Hash: all[3].Hash}, StreamSeq: good.StreamSeq},
	} {
		got, err := collect(t, e.store.ReadFrom(ctx, "r", h))
		if len(got) != 0 || !errors.Is(err, chainstore.ErrBroken) {
			t.Errorf("%s: %d events, %v; want ErrBroken", name, len(got), err)
		}
	}
	if _, err := collect(t, e.store.ReadFrom(ctx, "r", chainstore.Head{StreamSeq: 3})); !errors.Is(err, chainstore.ErrInvalid) {
		t.Errorf("half-zero head: %v", err)
	}
	if got, err := collect(t, e.store.ReadFrom(ctx, "r", good)); err != nil || len(got) != 4 {
		t.Fatalf("the good head: %d events, %v", len(got), err)
	}
}

// TestLostAcksFrames: every ack lost, records queued in bursts and in
// AppendAll groups go as frames; each is settled from the head (the last
// event of the frame there) and lands exactly once.
func TestLostAcksFrames(t *testing.T) {
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
	n := 0
	for round := range 10 {
		var ps []*chainstore.Pending
		for k := range 5 {
			if k%2 == 0 {
				g, err := a.AppendAll(ctx, handled(n), handled(n+1), handled(n+2))
				if err != nil {
					t.Fatal(err)
				}
				ps, n = append(ps, g...), n+3
				continue
			}
			p, err := a.Append(ctx, handled(n))
			if err != nil {
				t.Fatal(err)
			}
			ps, n = append(ps, p), n+1
		}
		for _, p := range ps {
			if err := p.Wait(ctx); err != nil {
				t.Fatalf("round %d record %d: %v", round, p.Seq(), err)
			}
		}
	}
	rep, err := e.store.Verify(ctx, "lossy", a.Head())
	if err != nil || !rep.OK() || rep.Events != n {
		t.Fatalf("verify: %d events of %d, %v %v", rep.Events, n, rep.Findings, err)
	}
	if rep.Records >= n {
		t.Fatalf("%d messages for %d records: nothing was framed", rep.Records, n)
	}
	t.Logf("%d records in %d messages", n, rep.Records)
}
