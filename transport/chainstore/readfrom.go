package chainstore

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/transport"
)

// ReadFrom iterates actor id's events after the head after, in order,
// reading from after.StreamSeq (direct batch gets, no consumer) rather
// than from the chain's start: a restore that knows a snapshot's place
// reads only the events since. Events up to after.Seq at that position
// are skipped; the first one returned must have after.Hash as its parent
// and every later one must continue the chain, or the iteration ends
// with an error wrapping [ErrBroken]. The zero Head reads the whole
// chain, as [Store.Read] does.
func (s *Store) ReadFrom(ctx context.Context, id string, after Head) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		if err := transport.ValidID(id); err != nil {
			yield(Entry{}, fmt.Errorf("%w: %w", ErrInvalid, err))
			return
		}
		subj := s.layout.ChainSubject(id)
		prev := after.Head
		next := max(after.StreamSeq, 1)
		for {
			msgs, err := jetstreamext.GetBatch(ctx, s.js, s.layout.ChainStream(), readPage,
				jetstreamext.GetBatchSeq(next), jetstreamext.GetBatchSubject(subj))
			if err != nil {
				yield(Entry{}, fmt.Errorf("chainstore: read %s: %w", id, err))
				return
			}
			n := 0
			for m, err := range msgs {
				if errors.Is(err, jetstreamext.ErrNoMessages) {
					return
				}
				if err != nil {
					yield(Entry{}, fmt.Errorf("chainstore: read %s: %w", id, err))
					return
				}
				n++
				next = m.Sequence + 1
				ev, err := chain.Decode(m.Data)
				if err != nil {
					yield(Entry{}, fmt.Errorf("%w: %s stream seq %d: %w", ErrBroken, id, m.Sequence, err))
					return
				}
				if ev.Actor == id && ev.Seq <= after.Seq && prev == after.Head {
					continue // at or before the head read from
				}
				if ev.Actor != id || ev.Seq != prev.Seq+1 || ev.Parent != prev.Hash {
					yield(Entry{}, fmt.Errorf("%w: %s stream seq %d: event %d of %q does not follow event %d", ErrBroken, id, m.Sequence, ev.Seq, ev.Actor, prev.Seq))
					return
				}
				e := Entry{Event: ev, Hash: chain.Sum(m.Data), StreamSeq: m.Sequence}
				prev = chain.Head{Seq: ev.Seq, Hash: e.Hash}
				if !yield(e, nil) {
					return
				}
			}
			if n < readPage {
				return
			}
		}
	}
}
