package chainstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/transport"
)

// Appender appends events to one actor's chain, fenced and in group
// commits: at most one message is in flight, and the records that arrive
// meanwhile go into the next one, one frame (up to the Store's max batch
// and the stream's max message size). Each record's [Pending] completes
// when that record is durable in JetStream, or failed; this is the gate
// on effects: a node releases a handler's reply and sends only once its
// record is durable.
//
// Every message carries the fence Nats-Expected-Last-Subject-Sequence, so
// it lands only right after the last event this appender wrote (or the
// head it started from). When another writer got there first the append
// fails with [ErrFenced]; any failure stops the appender for good, and
// nothing after it is acknowledged.
type Appender struct {
	s    *Store
	id   string
	subj string
	room chan struct{} // one token per queued, unresolved record

	mu     sync.Mutex
	head   chain.Head // of the last record accepted by Append
	queue  []*Pending
	err    error // sticky: why the appender stopped
	closed bool
	stats  Stats

	wake   chan struct{}
	done   chan struct{}
	ctx    context.Context // ends the loop's waits on Close timeout
	cancel context.CancelFunc

	// owned by the loop
	fence uint64      // stream sequence of the chain's last durable message
	timer *time.Timer // bounds the wait for a publish's ack
}

// Stats counts what an appender wrote.
type Stats struct {
	// Records is how many records are durable, Messages in how many
	// stream messages (single events or frames) they went.
	Records, Messages uint64
}

// Pending is one record on its way to the stream.
type Pending struct {
	seq       uint64
	hash      chain.Hash
	group     int       // on the first record of an AppendAll: how many
	size      int       // the record's bytes in a frame
	msg       *nats.Msg // as a message of its own
	streamSeq uint64
	err       error
	done      chan struct{}
}

// Seq and Hash are the record's place in the chain, known at once.
func (p *Pending) Seq() uint64      { return p.seq }
func (p *Pending) Hash() chain.Hash { return p.hash }

// Done is closed when the record is durable or failed.
func (p *Pending) Done() <-chan struct{} { return p.done }

// Err is the record's outcome once Done is closed: nil if it is durable.
func (p *Pending) Err() error {
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}

// StreamSeq is where the record is stored, once it is durable: the
// stream sequence of its message, which the records of one frame share.
func (p *Pending) StreamSeq() uint64 {
	select {
	case <-p.done:
		return p.streamSeq
	default:
		return 0
	}
}

// Wait waits until the record is durable (nil) or failed, or ctx ends.
func (p *Pending) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Appender starts an appender of actor id's chain after head, which the
// caller read with [Store.Head] (or its own records) once it owned the
// actor. Close it when done.
func (s *Store) Appender(id string, head Head) (*Appender, error) {
	if err := transport.ValidID(id); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if (head.Seq == 0) != (head.StreamSeq == 0) {
		return nil, fmt.Errorf("%w: head seq %d at stream seq %d", ErrInvalid, head.Seq, head.StreamSeq)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &Appender{
		s: s, id: id, subj: s.layout.ChainSubject(id),
		room: make(chan struct{}, 2*s.opts.maxBatch),
		head: head.Head, fence: head.StreamSeq,
		wake: make(chan struct{}, 1), done: make(chan struct{}),
		ctx: ctx, cancel: cancel,
	}
	go a.loop()
	return a, nil
}

// Append seals body as the chain's next event and queues it. It waits
// only for room in the queue (two batches' worth); durability is the
// returned Pending's. The record's sequence and hash are final at once,
// so the caller can derive ids (chain.MessageID) before it is durable.
func (a *Appender) Append(ctx context.Context, body chain.Body) (*Pending, error) {
	ps, err := a.AppendAll(ctx, body)
	if err != nil {
		return nil, err
	}
	return ps[0], nil
}

// AppendAll is [Appender.Append] for events that must land together (the
// events of one handler call): they go in one message (a frame), all
// durable or all failed. At most the Store's max batch of them, and
// together they must fit in one message of the stream, else AppendAll
// returns an error wrapping [ErrTooLarge] and the appender goes on.
func (a *Appender) AppendAll(ctx context.Context, bodies ...chain.Body) ([]*Pending, error) {
	n := len(bodies)
	if n == 0 || n > a.s.opts.maxBatch {
		return nil, fmt.Errorf("%w: %d events in one append (1 to %d)", ErrInvalid, n, a.s.opts.maxBatch)
	}
	for i := range n {
		select {
		case a.room <- struct{}{}:
		case <-ctx.Done():
			a.unroom(i)
			return nil, ctx.Err()
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil || a.closed {
		a.unroom(n)
		if a.err != nil {
			return nil, a.err
		}
		return nil, ErrClosed
	}
	ps := make([]*Pending, n)
	head := a.head
	size := 0
	for i, body := range bodies {
		sealed, err := chain.Seal(head.Next(a.id, body))
		if err != nil {
			a.unroom(n)
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		head = sealed.Head()
		ps[i] = &Pending{
			seq: sealed.Event.Seq, hash: sealed.Hash, done: make(chan struct{}),
			size: len(sealed.Payload) + chain.FrameOverhead,
			msg:  &nats.Msg{Subject: a.subj, Header: nats.Header(sealed.Header()), Data: sealed.Payload},
		}
		size += ps[i].size
	}
	if size > a.s.maxFrame {
		a.unroom(n)
		return nil, fmt.Errorf("%w: %s: %d events of %d bytes in all, over the %d one chain message holds", ErrTooLarge, a.id, n, size, a.s.maxFrame)
	}
	ps[0].group = n
	a.head = head
	a.queue = append(a.queue, ps...)
	select {
	case a.wake <- struct{}{}:
	default:
	}
	return ps, nil
}

func (a *Appender) unroom(n int) {
	for range n {
		<-a.room
	}
}

// Head is the chain position after the last record Append accepted
// (durable or not).
func (a *Appender) Head() chain.Head {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.head
}

// Err is why the appender stopped, or nil while it runs.
func (a *Appender) Err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// Stats returns the counts so far.
func (a *Appender) Stats() Stats {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stats
}

// Close stops accepting records, waits until the queued ones are durable
// or failed, and stops. If ctx ends first, the records still queued fail
// with [ErrClosed] (one in flight may still land; [Store.Head] tells).
func (a *Appender) Close(ctx context.Context) error {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
	select {
	case <-a.done:
	case <-ctx.Done():
		a.cancel()
		<-a.done
		return ctx.Err()
	}
	a.cancel()
	return nil
}

func (a *Appender) loop() {
	defer close(a.done)
	for {
		a.mu.Lock()
		n := 0 // whole AppendAll groups, up to the max batch
		for n < len(a.queue) && n+a.queue[n].group <= a.s.opts.maxBatch {
			n += a.queue[n].group
		}
		batch := a.queue[:n:n]
		closed := a.closed
		a.mu.Unlock()
		if n == 0 {
			if closed {
				a.stop(ErrClosed, nil)
				return
			}
			select {
			case <-a.wake:
			case <-a.ctx.Done():
			}
			continue
		}
		for _, part := range a.frames(batch) {
			last, err := a.commit(part)
			a.mu.Lock()
			a.queue = a.queue[len(part):]
			if err == nil {
				a.stats.Records += uint64(len(part))
				a.stats.Messages++
			}
			a.mu.Unlock()
			if err != nil {
				a.stop(err, part) // and the parts after it
				return
			}
			a.resolve(part, last, nil)
		}
	}
}

// frames cuts the queued records into messages: as many whole AppendAll
// groups as fit in one stream message go in one frame (a lone record as
// a plain message), each fenced on the one before. Every group fits on
// its own (AppendAll refuses one that does not).
func (a *Appender) frames(batch []*Pending) [][]*Pending {
	var parts [][]*Pending
	start, size := 0, 0
	for i := 0; i < len(batch); i += batch[i].group {
		g := 0
		for _, p := range batch[i : i+batch[i].group] {
			g += p.size
		}
		if i > start && size+g > a.s.maxFrame {
			parts = append(parts, batch[start:i])
			start, size = i, 0
		}
		size += g
	}
	return append(parts, batch[start:])
}

// maxTries bounds the attempts of one append the server could not take
// yet or whose ack was lost; with the backoff, about 5 s.
const maxTries = 50

// resolve completes the batch's records: stored in the message at
// stream seq last, or failed with err.
func (a *Appender) resolve(batch []*Pending, last uint64, err error) {
	for _, p := range batch {
		if err == nil {
			p.streamSeq = last
		}
		p.err = err
		p.msg = nil
		close(p.done)
		<-a.room
	}
}

// stop makes err sticky, then fails the records of the failed append and
// every queued one with it. Sticky first: once a record is seen failed,
// no later Append is accepted.
func (a *Appender) stop(err error, failed []*Pending) {
	a.mu.Lock()
	if a.err == nil {
		a.err = err
	}
	rest := a.queue
	a.queue = nil
	a.mu.Unlock()
	a.resolve(failed, 0, err)
	a.resolve(rest, 0, err)
}

// commit appends batch, one message, after a.fence and returns its
// stream sequence. A lost ack is settled by reading the head; a refusal
// stops the appender.
func (a *Appender) commit(batch []*Pending) (uint64, error) {
	m, err := a.message(batch)
	if err != nil {
		return 0, err
	}
	backoff := time.Millisecond
	for try := 1; ; try++ {
		last, err := a.publish(m)
		if err == nil {
			a.fence = last
			return last, nil
		}
		var apiErr *jetstream.APIError
		switch {
		case errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant):
			// After a lost ack and a retry, the first try may have landed
			// late and fenced the retry: the head tells.
			if landed, last, herr := a.settle(batch); herr == nil && landed {
				a.fence = last
				return last, nil
			}
			return 0, fmt.Errorf("%w: %s after stream seq %d: %v", ErrFenced, a.id, a.fence, err)
		case errors.As(err, &apiErr), errors.Is(err, nats.ErrMaxPayload):
			// Refused (over a limit, say): nothing of the message is
			// stored.
			return 0, fmt.Errorf("%w: %s: the server refused %d records: %w", ErrAppend, a.id, len(batch), err)
		default:
			// The ack was lost (timeout, disconnect): the batch may or may
			// not be stored. The head says which.
			landed, last, herr := a.settle(batch)
			if herr != nil {
				return 0, herr
			}
			if landed {
				a.fence = last
				return last, nil
			}
		}
		if try >= maxTries {
			return 0, fmt.Errorf("%w: %s: %d records not stored after %d tries: %w", ErrAppend, a.id, len(batch), try, err)
		}
		select {
		case <-time.After(backoff):
		case <-a.ctx.Done():
			return 0, fmt.Errorf("%w: %s: closed while retrying: %v", ErrClosed, a.id, err)
		}
		backoff = min(2*backoff, 100*time.Millisecond)
	}
}

// message is the one stream message of batch: the record's own for one,
// a frame of them for more.
func (a *Appender) message(batch []*Pending) (*nats.Msg, error) {
	if len(batch) == 1 {
		return batch[0].msg, nil
	}
	ss := make([]chain.Sealed, len(batch))
	for i, p := range batch {
		ss[i] = chain.Sealed{Event: chain.Event{Seq: p.seq}, Payload: p.msg.Data, Hash: p.hash}
	}
	data, h, err := chain.EncodeFrame(ss)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrAppend, a.id, err)
	}
	return &nats.Msg{Subject: a.subj, Header: nats.Header(h), Data: data}, nil
}

// publish is one fenced publish. It goes through the async publisher,
// whose one reply subscription serves every appender of the connection,
// and waits for the ack on the appender's reusable timer: a synchronous
// request costs a context and a timer per message. Each appender has at
// most one in flight.
func (a *Appender) publish(m *nats.Msg) (uint64, error) {
	f, err := a.s.js.PublishMsgAsync(m, jetstream.WithExpectLastSequencePerSubject(a.fence))
	if err != nil {
		return 0, err
	}
	if a.timer == nil {
		a.timer = time.NewTimer(a.s.opts.ackTimeout)
	} else {
		a.timer.Reset(a.s.opts.ackTimeout)
	}
	defer a.timer.Stop()
	select {
	case ack := <-f.Ok():
		return ack.Sequence, nil
	case err := <-f.Err():
		return 0, err
	case <-a.timer.C:
		return 0, fmt.Errorf("chainstore: no ack within %v", a.s.opts.ackTimeout)
	case <-a.ctx.Done():
		return 0, a.ctx.Err()
	}
}

// settle learns from the head whether batch landed after a lost ack:
// the head is the batch's last record (landed: the last event of the
// message at the head), still the fence (not stored, retry), or anything
// else (another writer: fenced).
func (a *Appender) settle(batch []*Pending) (bool, uint64, error) {
	ctx, cancel := context.WithTimeout(a.ctx, max(a.s.opts.ackTimeout, DefaultAckTimeout))
	defer cancel()
	h, err := a.s.Head(ctx, a.id)
	if err != nil {
		return false, 0, fmt.Errorf("%w: %s: ack lost and head unreadable: %w", ErrAppend, a.id, err)
	}
	switch last := batch[len(batch)-1]; {
	case h.Seq == last.seq && h.Hash == last.hash:
		return true, h.StreamSeq, nil
	case h.StreamSeq == a.fence:
		return false, 0, nil
	default:
		return false, 0, fmt.Errorf("%w: %s: head moved to stream seq %d, not ours", ErrFenced, a.id, h.StreamSeq)
	}
}
