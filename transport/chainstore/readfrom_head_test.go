package chainstore_test

import (
	"errors"
	"testing"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/transport/chainstore"
)

// readAll collects what ReadFrom yields, stopping at the first error.
func readAll(t *testing.T, e *env, id string, after chainstore.Head) ([]chainstore.Entry, error) {
	t.Helper()
	var es []chainstore.Entry
	for en, err := range e.store.ReadFrom(testContext(t), id, after) {
		if err != nil {
			return es, err
		}
		es = append(es, en)
	}
	return es, nil
}

// TestReadFrom: from a known head it yields exactly the events after it,
// across pages and interleaved subjects; the zero head reads everything;
// a head whose hash is not the chain's is refused with ErrBroken.
func TestReadFrom(t *testing.T) {
	e := setup(t, nil)
	ps := appendN(t, e, "a", 1500)
	appendN(t, e, "b", 3)
	appendN(t, e, "a", 1200)
	all, err := readAll(t, e, "a", chainstore.Head{})
	if err != nil || len(all) != 2700 {
		t.Fatalf("zero head: %d events, %v", len(all), err)
	}
	for _, at := range []int{0, 1, 999, 1499, 2699} {
		after := chainstore.Head{Head: chain.Head{Seq: all[at].Event.Seq, Hash: all[at].Hash}, StreamSeq: all[at].StreamSeq}
		got, err := readAll(t, e, "a", after)
		if err != nil {
			t.Fatalf("after %d: %v", at, err)
		}
		if len(got) != 2699-at {
			t.Fatalf("after %d: %d events, want %d", at, len(got), 2699-at)
		}
		for i, en := range got {
			if want := all[at+1+i]; en.Hash != want.Hash || en.StreamSeq != want.StreamSeq {
				t.Fatalf("after %d: event %d is seq %d, want %d", at, i, en.Event.Seq, want.Event.Seq)
			}
		}
	}
	p := ps[700]
	good := chainstore.Head{Head: chain.Head{Seq: p.Seq(), Hash: p.Hash()}, StreamSeq: p.StreamSeq()}
	if got, err := readAll(t, e, "a", good); err != nil || len(got) != 2700-701 {
		t.Fatalf("from a pending's head: %d events, %v", len(got), err)
	}
	forged := good
	forged.Hash[0] ^= 1
	if _, err := readAll(t, e, "a", forged); !errors.Is(err, chainstore.ErrBroken) {
		t.Fatalf("a head of another hash: %v, want ErrBroken", err)
	}
	// The head's stream position must be the message holding its event:
	// an earlier one is refused, not searched forward from.
	early := good
	early.StreamSeq = ps[10].StreamSeq()
	if _, err := readAll(t, e, "a", early); !errors.Is(err, chainstore.ErrBroken) {
		t.Fatalf("from an earlier stream position: %v, want ErrBroken", err)
	}
}
