package chainstore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/transport"
)

// Defaults and limits of the options.
const (
	// DefaultMaxInflight bounds the batches one Store has in flight. The
	// server allows 50 atomic batches in flight per stream, across every
	// writer; the default leaves room for a second node.
	DefaultMaxInflight = 25
	// MaxBatch is the server's limit on messages in one atomic batch,
	// and the default batch bound.
	MaxBatch = 1000
	// DefaultAckTimeout bounds one commit's round trip.
	DefaultAckTimeout = 5 * time.Second
	// readPage is how many messages one direct batch get asks for.
	readPage = 1000
)

// Store reads and appends actor chains in the layout's chain stream
// (<prefix>_chain, one subject per actor). It is safe for concurrent use;
// a node holds one and opens an [Appender] per hosted actor.
type Store struct {
	js     jetstream.JetStream
	layout transport.Layout
	stream jetstream.Stream
	slots  chan struct{}
	opts   options
	// atomicMin is the fewest separate records sent as one atomic batch.
	atomicMin int
}

type options struct {
	maxInflight int
	maxBatch    int
	atomicMin   int
	ackTimeout  time.Duration
}

// Option tunes a [Store].
type Option func(*options) error

// WithMaxInflight bounds the batches the Store has in flight over all its
// appenders, 1 to 50 (default [DefaultMaxInflight]). Every node writing
// one stream should keep the sum under the server's 50.
func WithMaxInflight(n int) Option {
	return func(o *options) error {
		if n < 1 || n > 50 {
			return fmt.Errorf("%w: max inflight %d is not 1 to 50", ErrInvalid, n)
		}
		o.maxInflight = n
		return nil
	}
}

// WithMaxBatch bounds the records of one append, 1 to [MaxBatch] (the
// default).
func WithMaxBatch(n int) Option {
	return func(o *options) error {
		if n < 1 || n > MaxBatch {
			return fmt.Errorf("%w: max batch %d is not 1 to %d", ErrInvalid, n, MaxBatch)
		}
		o.maxBatch = n
		return nil
	}
}

// WithAtomicMin sets how many queued records (of separate Append calls)
// an appender needs before it sends them as one atomic batch, 2 to
// [MaxBatch]; fewer go one after another, each fenced on the one before.
// The default is [MaxBatch] (only a full queue goes as one batch) on a
// stream of one file-stored replica, where the server stages every atomic
// batch in a file store of its own, created, synced and deleted under the
// stream's lock (about 2 ms per batch, against about 30 µs per single
// publish on loopback); and 2 on a replicated stream, which stages
// batches in memory.
// [Appender.AppendAll] groups are always one atomic batch.
func WithAtomicMin(n int) Option {
	return func(o *options) error {
		if n < 2 || n > MaxBatch {
			return fmt.Errorf("%w: atomic minimum %d is not 2 to %d", ErrInvalid, n, MaxBatch)
		}
		o.atomicMin = n
		return nil
	}
}

// WithAckTimeout bounds how long one append waits for JetStream's ack
// (default [DefaultAckTimeout]). When it passes, the appender reads the
// chain's head to learn whether the append landed.
func WithAckTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("%w: ack timeout %v", ErrInvalid, d)
		}
		o.ackTimeout = d
		return nil
	}
}

// New returns a Store on the chain stream of layout, which must exist
// with AllowAtomicPublish (see docs/CHAIN.md for the settings).
func New(ctx context.Context, js jetstream.JetStream, layout transport.Layout, opts ...Option) (*Store, error) {
	o := options{maxInflight: DefaultMaxInflight, maxBatch: MaxBatch, ackTimeout: DefaultAckTimeout}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if js == nil {
		return nil, fmt.Errorf("%w: no JetStream context", ErrInvalid)
	}
	st, err := js.Stream(ctx, layout.ChainStream())
	if err != nil {
		return nil, fmt.Errorf("chainstore: stream %s: %w", layout.ChainStream(), err)
	}
	if !st.CachedInfo().Config.AllowAtomicPublish {
		return nil, fmt.Errorf("%w: stream %s does not allow atomic publish", ErrInvalid, layout.ChainStream())
	}
	s := &Store{js: js, layout: layout, stream: st, slots: make(chan struct{}, o.maxInflight), opts: o, atomicMin: o.atomicMin}
	if s.atomicMin == 0 {
		s.atomicMin = 2
		if cfg := st.CachedInfo().Config; cfg.Replicas <= 1 && cfg.Storage == jetstream.FileStorage {
			s.atomicMin = MaxBatch
		}
	}
	// A batch is never larger than the max batch: at most that many are
	// queued at once.
	s.atomicMin = min(s.atomicMin, o.maxBatch)
	return s, nil
}

// Head is where a chain ends: its last event's sequence and hash, and
// that event's sequence in the stream (the fence of the next append).
// The zero Head is an empty chain.
type Head struct {
	chain.Head
	StreamSeq uint64
}

// Head returns the end of actor id's chain, from the last message on its
// subject (a direct get, served by any replica). The sequence and hash
// are those of the stored payload, not of its headers.
func (s *Store) Head(ctx context.Context, id string) (Head, error) {
	if err := transport.ValidID(id); err != nil {
		return Head{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	m, err := s.stream.GetLastMsgForSubject(ctx, s.layout.ChainSubject(id))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return Head{}, nil
	}
	if err != nil {
		return Head{}, fmt.Errorf("chainstore: head of %s: %w", id, err)
	}
	ev, err := chain.Decode(m.Data)
	if err != nil {
		return Head{}, fmt.Errorf("%w: last event of %s (stream seq %d): %w", ErrBroken, id, m.Sequence, err)
	}
	return Head{Head: chain.Head{Seq: ev.Seq, Hash: chain.Sum(m.Data)}, StreamSeq: m.Sequence}, nil
}

// Records iterates the stored messages of actor id's chain subject in
// stream order, as they are (for [chain.Verifier] and tools). It reads
// with direct batch gets, pages of 1,000, and no consumer.
func (s *Store) Records(ctx context.Context, id string) iter.Seq2[chain.Record, error] {
	return func(yield func(chain.Record, error) bool) {
		if err := transport.ValidID(id); err != nil {
			yield(chain.Record{}, fmt.Errorf("%w: %w", ErrInvalid, err))
			return
		}
		subj := s.layout.ChainSubject(id)
		next := uint64(1)
		for {
			msgs, err := jetstreamext.GetBatch(ctx, s.js, s.layout.ChainStream(), readPage,
				jetstreamext.GetBatchSeq(next), jetstreamext.GetBatchSubject(subj))
			if err != nil {
				yield(chain.Record{}, fmt.Errorf("chainstore: read %s: %w", id, err))
				return
			}
			n := 0
			for m, err := range msgs {
				if errors.Is(err, jetstreamext.ErrNoMessages) {
					return
				}
				if err != nil {
					yield(chain.Record{}, fmt.Errorf("chainstore: read %s: %w", id, err))
					return
				}
				n++
				next = m.Sequence + 1
				if !yield(chain.Record{StreamSeq: m.Sequence, Header: m.Header, Data: m.Data}, nil) {
					return
				}
			}
			if n < readPage {
				return
			}
		}
	}
}

// Entry is one event read back from a chain.
type Entry struct {
	Event chain.Event
	// Hash is the event's hash, StreamSeq where it is stored.
	Hash      chain.Hash
	StreamSeq uint64
}

// Read iterates actor id's events from chain sequence fromSeq (1 for all)
// in order. Every event must continue the chain (sequence and parent);
// the first that does not ends the iteration with an error wrapping
// [ErrBroken], so nothing replays a damaged chain.
func (s *Store) Read(ctx context.Context, id string, fromSeq uint64) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		fromSeq = max(fromSeq, 1)
		var prev chain.Head // the event before the next one, once known
		for r, err := range s.Records(ctx, id) {
			if err != nil {
				yield(Entry{}, err)
				return
			}
			// Events before fromSeq are skipped by their header; only the
			// one right before is hashed, to check the first link.
			if hs, ok := r.Header[chain.HeaderSeq]; ok && len(hs) > 0 {
				if seq, err := strconv.ParseUint(hs[0], 10, 64); err == nil && seq < fromSeq {
					if seq == fromSeq-1 {
						prev = chain.Head{Seq: seq, Hash: chain.Sum(r.Data)}
					}
					continue
				}
			}
			ev, err := chain.Decode(r.Data)
			if err != nil {
				yield(Entry{}, fmt.Errorf("%w: %s stream seq %d: %w", ErrBroken, id, r.StreamSeq, err))
				return
			}
			wantParent := prev.Hash
			if prev.Seq == 0 && fromSeq > 1 {
				// The event before fromSeq was not seen: the chain is
				// shorter, or its headers lie. Either way it is broken.
				yield(Entry{}, fmt.Errorf("%w: %s: event %d before %d is missing", ErrBroken, id, fromSeq-1, ev.Seq))
				return
			}
			if ev.Actor != id || ev.Seq != prev.Seq+1 || ev.Parent != wantParent {
				yield(Entry{}, fmt.Errorf("%w: %s stream seq %d: event %d of %q does not follow event %d", ErrBroken, id, r.StreamSeq, ev.Seq, ev.Actor, prev.Seq))
				return
			}
			e := Entry{Event: ev, Hash: chain.Sum(r.Data), StreamSeq: r.StreamSeq}
			prev = chain.Head{Seq: ev.Seq, Hash: e.Hash}
			if !yield(e, nil) {
				return
			}
		}
	}
}

// Verify reads actor id's whole chain and reports every modified,
// removed, reordered or inserted event ([chain.Verifier]); expect is the
// head the caller knows the chain reached, or the zero Head. The error is
// for failing to read, not for findings.
func (s *Store) Verify(ctx context.Context, id string, expect chain.Head) (chain.Report, error) {
	v := chain.NewVerifier(id, expect)
	for r, err := range s.Records(ctx, id) {
		if err != nil {
			return chain.Report{}, err
		}
		v.Add(r)
	}
	return v.Report(), nil
}
