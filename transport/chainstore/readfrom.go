package chainstore

import (
	"context"
	"fmt"
	"iter"

	"github.com/theater-go/theater/actor/chain"
)

// ReadFrom iterates actor id's events after a known head: its chain
// sequence and hash and the stream sequence of the message holding it
// (from [Store.Head], a [Pending] or an [Entry] read earlier), so a
// restore reads only the tail. The read starts at after.StreamSeq: that
// message must hold event after.Seq with hash after.Hash, its events up
// to it are skipped, and every event after must continue the chain from
// it; anything else ends the iteration with an error wrapping
// [ErrBroken]. The zero Head reads the whole chain, as [Store.Read].
func (s *Store) ReadFrom(ctx context.Context, id string, after Head) iter.Seq2[Entry, error] {
	if after.Seq == 0 && after.StreamSeq == 0 {
		return s.Read(ctx, id, 1)
	}
	if after.Seq == 0 || after.StreamSeq == 0 {
		return func(yield func(Entry, error) bool) {
			yield(Entry{}, fmt.Errorf("%w: head seq %d at stream seq %d", ErrInvalid, after.Seq, after.StreamSeq))
		}
	}
	return func(yield func(Entry, error) bool) {
		found, failed := false, false
		first := func(r chain.Record, ps [][]byte) (chain.Head, error) {
			if r.StreamSeq != after.StreamSeq {
				return chain.Head{}, fmt.Errorf("%w: %s: no message at stream seq %d (the next is at %d)", ErrBroken, id, after.StreamSeq, r.StreamSeq)
			}
			for _, p := range ps {
				ev, err := chain.Decode(p)
				if err != nil {
					return chain.Head{}, fmt.Errorf("%w: %s stream seq %d: %w", ErrBroken, id, r.StreamSeq, err)
				}
				if ev.Seq == after.Seq {
					if h := chain.Sum(p); h != after.Hash || ev.Actor != id {
						return chain.Head{}, fmt.Errorf("%w: %s: event %d at stream seq %d has hash %s, not %s", ErrBroken, id, after.Seq, r.StreamSeq, h, after.Hash)
					}
					found = true
					return after.Head, nil
				}
			}
			return chain.Head{}, fmt.Errorf("%w: %s: the message at stream seq %d does not hold event %d", ErrBroken, id, r.StreamSeq, after.Seq)
		}
		for e, err := range s.read(ctx, id, after.StreamSeq, after.Seq+1, first) {
			failed = err != nil
			if !yield(e, err) {
				return
			}
		}
		if !found && !failed {
			// Not even the message holding the head is stored.
			yield(Entry{}, fmt.Errorf("%w: %s: no message at stream seq %d or after", ErrBroken, id, after.StreamSeq))
		}
	}
}
