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
	// MaxBatch bounds the records of one append (one frame), and is the
	// default bound.
	MaxBatch = 1000
	// DefaultAckTimeout bounds one commit's round trip.
	DefaultAckTimeout = 5 * time.Second
	// readPage is how many messages one direct batch get asks for.
	readPage = 1000
	// headerRoom is kept in every message for its headers: the Theater
	// ones of a frame and the fence, about 300 bytes at most.
	headerRoom = 512
)

// Store reads and appends actor chains in the layout's chain stream
// (<prefix>_chain, one subject per actor). It is safe for concurrent use;
// a node holds one and opens an [Appender] per hosted actor.
type Store struct {
	js     jetstream.JetStream
	layout transport.Layout
	stream jetstream.Stream
	opts   options
	// maxFrame bounds the events of one message, with their frame
	// overhead: the connection's max payload (and the stream's max
	// message size, if smaller) less room for the headers.
	maxFrame int
}

type options struct {
	maxBatch   int
	ackTimeout time.Duration
}

// Option tunes a [Store].
type Option func(*options) error

// WithMaxBatch bounds the records of one append (one message), 1 to
// [MaxBatch] (the default).
func WithMaxBatch(n int) Option {
	return func(o *options) error {
		if n < 1 || n > MaxBatch {
			return fmt.Errorf("%w: max batch %d is not 1 to %d", ErrInvalid, n, MaxBatch)
		}
		o.maxBatch = n
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
// (see docs/CHAIN.md for the settings).
func New(ctx context.Context, js jetstream.JetStream, layout transport.Layout, opts ...Option) (*Store, error) {
	o := options{maxBatch: MaxBatch, ackTimeout: DefaultAckTimeout}
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
	limit := js.Conn().MaxPayload()
	if m := int64(st.CachedInfo().Config.MaxMsgSize); m > 0 {
		limit = min(limit, m)
	}
	if limit <= headerRoom {
		return nil, fmt.Errorf("%w: stream %s takes messages of %d bytes at most", ErrInvalid, layout.ChainStream(), limit)
	}
	return &Store{js: js, layout: layout, stream: st, opts: o, maxFrame: int(limit - headerRoom)}, nil
}

// Head is where a chain ends: its last event's sequence and hash, and
// the stream sequence of the message holding that event (the fence of
// the next append; a frame's events share it). The zero Head is an
// empty chain.
type Head struct {
	chain.Head
	StreamSeq uint64
}

// Head returns the end of actor id's chain, from the last message on its
// subject (a direct get, served by any replica): its event, or the last
// event of a frame. The sequence and hash are those of the stored
// payload, not of its headers.
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
	ps, err := chain.Payloads(m.Data)
	if err != nil {
		return Head{}, fmt.Errorf("%w: last message of %s (stream seq %d): %w", ErrBroken, id, m.Sequence, err)
	}
	last := ps[len(ps)-1]
	ev, err := chain.Decode(last)
	if err != nil {
		return Head{}, fmt.Errorf("%w: last event of %s (stream seq %d): %w", ErrBroken, id, m.Sequence, err)
	}
	return Head{Head: chain.Head{Seq: ev.Seq, Hash: chain.Sum(last)}, StreamSeq: m.Sequence}, nil
}

// Records iterates the stored messages of actor id's chain subject in
// stream order, as they are (a message is one event or a frame; for
// [chain.Verifier] and tools). It reads with direct batch gets, pages of
// 1,000, and no consumer.
func (s *Store) Records(ctx context.Context, id string) iter.Seq2[chain.Record, error] {
	return s.records(ctx, id, 1)
}

// records is Records from stream sequence from on.
func (s *Store) records(ctx context.Context, id string, from uint64) iter.Seq2[chain.Record, error] {
	return func(yield func(chain.Record, error) bool) {
		if err := transport.ValidID(id); err != nil {
			yield(chain.Record{}, fmt.Errorf("%w: %w", ErrInvalid, err))
			return
		}
		subj := s.layout.ChainSubject(id)
		next := from
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
	// Hash is the event's hash, StreamSeq the stream sequence of the
	// message holding it (the events of one frame share it).
	Hash      chain.Hash
	StreamSeq uint64
}

// Read iterates actor id's events from chain sequence fromSeq (1 for all)
// in order. Every event must continue the chain (sequence and parent);
// the first that does not ends the iteration with an error wrapping
// [ErrBroken], so nothing replays a damaged chain.
func (s *Store) Read(ctx context.Context, id string, fromSeq uint64) iter.Seq2[Entry, error] {
	fromSeq = max(fromSeq, 1)
	return s.read(ctx, id, 1, fromSeq, nil)
}

// read iterates the events of the messages from stream sequence from on,
// those from chain sequence fromSeq. Events before fromSeq are skipped by
// their message's headers (a frame is split only if it holds fromSeq-1
// or later), and only the one right before fromSeq is hashed, to check
// the first link. first, if set, checks the first message read (its
// stream sequence and payloads) and returns the link before fromSeq.
func (s *Store) read(ctx context.Context, id string, from, fromSeq uint64, first func(chain.Record, [][]byte) (chain.Head, error)) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		var prev chain.Head // the event before the next one, once known
		started := first == nil
		for r, err := range s.records(ctx, id, from) {
			if err != nil {
				yield(Entry{}, err)
				return
			}
			frame := chain.IsFrame(r.Data)
			if started {
				lastKey := chain.HeaderSeq
				if frame {
					lastKey = chain.HeaderLastSeq
				}
				if last, ok := headerUint(r.Header, lastKey); ok && last < fromSeq-1 {
					continue
				}
			}
			ps, err := chain.Payloads(r.Data)
			if err != nil {
				yield(Entry{}, fmt.Errorf("%w: %s stream seq %d: %w", ErrBroken, id, r.StreamSeq, err))
				return
			}
			if !started {
				started = true
				if prev, err = first(r, ps); err != nil {
					yield(Entry{}, err)
					return
				}
			}
			firstSeq, _ := headerUint(r.Header, chain.HeaderSeq)
			for i, p := range ps {
				if guess := firstSeq + uint64(i); firstSeq > 0 && guess < fromSeq {
					if guess == fromSeq-1 {
						prev = chain.Head{Seq: guess, Hash: chain.Sum(p)}
					}
					continue
				}
				ev, err := chain.Decode(p)
				if err != nil {
					yield(Entry{}, fmt.Errorf("%w: %s stream seq %d: %w", ErrBroken, id, r.StreamSeq, err))
					return
				}
				if prev.Seq == 0 && fromSeq > 1 {
					// The event before fromSeq was not seen: the chain is
					// shorter, or its headers lie. Either way it is broken.
					yield(Entry{}, fmt.Errorf("%w: %s: event %d before %d is missing", ErrBroken, id, fromSeq-1, ev.Seq))
					return
				}
				if ev.Actor != id || ev.Seq != prev.Seq+1 || ev.Parent != prev.Hash {
					yield(Entry{}, fmt.Errorf("%w: %s stream seq %d: event %d of %q does not follow event %d", ErrBroken, id, r.StreamSeq, ev.Seq, ev.Actor, prev.Seq))
					return
				}
				e := Entry{Event: ev, Hash: chain.Sum(p), StreamSeq: r.StreamSeq}
				prev = chain.Head{Seq: ev.Seq, Hash: e.Hash}
				if !yield(e, nil) {
					return
				}
			}
		}
	}
}

func headerUint(h map[string][]string, k string) (uint64, bool) {
	vs := h[k]
	if len(vs) == 0 {
		return 0, false
	}
	n, err := strconv.ParseUint(vs[0], 10, 64)
	return n, err == nil
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
