package actor

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

// Actor is one spawned actor: its mailbox, its explicit state, and, while
// it is live, one module instance. A hibernated actor has no instance and
// no goroutine; the next message recreates the instance from the state.
//
// Messages are handled one at a time, in the order they were accepted. A
// goroutine drains the mailbox only while it is not empty; a [Actor.Request]
// that finds the actor idle runs the handler on the caller's goroutine.
type Actor struct {
	rt   *Runtime
	mod  *module
	spec Spec

	mu      sync.Mutex // guards the mailbox fields and the state swap
	queue   []envelope
	head    int
	running bool          // a goroutine is draining the mailbox
	notFull chan struct{} // closed when a slot frees; made only when a sender waits
	drained chan struct{} // closed when running turns false; made only when Stop waits
	stopped bool          // no new messages are accepted

	// sem is held by whoever uses the instance or the state: a handler,
	// hibernation, eviction, Stop. A channel rather than a mutex so that
	// Stop can give up with its context and eviction can try without
	// blocking.
	sem   chan struct{}
	inst  *instance
	state []byte // the last good state
	spare []byte // the buffer the next state is copied into
	done  bool   // stopped for good
	live  atomic.Bool

	// Guarded by rt.lruMu.
	lruPrev, lruNext *Actor
	lruLinked        bool
}

type envelope struct {
	payload []byte
	request bool
	reply   *replySlot // nil for a send nobody waits for
}

type replySlot struct {
	ctx  context.Context
	done chan struct{}
	data []byte // the reply of a request, the new state of a delivered send
	err  error
}

// ID returns the actor's id.
func (a *Actor) ID() string { return a.spec.ID }

// Live reports whether the actor has an open instance (false when it is
// hibernated or stopped).
func (a *Actor) Live() bool { return a.live.Load() }

// State returns a copy of the actor's last good state.
func (a *Actor) State() []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]byte(nil), a.state...)
}

// check refuses a message over the size limit or not of type t.
func (a *Actor) check(msg []byte, t wit.Type) error {
	if len(msg) > a.spec.Limits.MaxMessageSize {
		return &TooLargeError{Size: len(msg), Limit: a.spec.Limits.MaxMessageSize}
	}
	if t != nil {
		if err := codec.Validate(t, msg); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidMessage, err)
		}
	}
	return nil
}

// Send puts a one-way message in the mailbox and returns once it is
// accepted. A message over the size limit ([TooLargeError]) or not of the
// declared type ([ErrInvalidMessage]) is refused and reaches nobody. When the mailbox is full, Send waits for room until ctx is
// done and then returns an error wrapping both [ErrMailboxFull] and the
// context's error. msg is copied.
func (a *Actor) Send(ctx context.Context, msg []byte) error {
	if err := a.check(msg, a.spec.Types.Send); err != nil {
		return err
	}
	e := envelope{payload: append([]byte(nil), msg...)}
	a.mu.Lock()
	return a.enqueue(ctx, e, true)
}

// TrySend is [Actor.Send] without waiting: a full mailbox gives
// [ErrMailboxFull] at once.
func (a *Actor) TrySend(msg []byte) error {
	if err := a.check(msg, a.spec.Types.Send); err != nil {
		return err
	}
	e := envelope{payload: append([]byte(nil), msg...)}
	a.mu.Lock()
	return a.enqueue(context.Background(), e, false)
}

// Deliver puts a one-way message in the mailbox, as [Actor.Send] does, and
// waits until its handler has run; it returns the state that handler left
// (the next message has not started yet when it was taken) or the
// handler's [Failure]. A node uses it to record, with that state, that a
// durable message was processed. If ctx ends while the message waits, the
// message is not run.
func (a *Actor) Deliver(ctx context.Context, msg []byte) ([]byte, error) {
	if err := a.check(msg, a.spec.Types.Send); err != nil {
		return nil, err
	}
	return a.await(ctx, msg, false)
}

// Request sends a request and waits for the reply until ctx is done. A
// full mailbox makes it wait for room, as [Actor.Send] does. A failed
// handler gives a [Failure] (a guest error included); msg is not modified.
func (a *Actor) Request(ctx context.Context, msg []byte) ([]byte, error) {
	if err := a.check(msg, a.spec.Types.Request); err != nil {
		return nil, err
	}
	return a.await(ctx, msg, true)
}

// await runs a request, or a send whose caller waits, and returns the
// reply, or the new state for a send.
func (a *Actor) await(ctx context.Context, msg []byte, request bool) ([]byte, error) {
	a.mu.Lock()
	if a.stopped {
		a.mu.Unlock()
		return nil, ErrStopped
	}
	if !a.running && a.qlen() == 0 {
		// Nobody drains the mailbox and it is empty, so this goroutine may
		// take the drainer's place for one message: that saves two
		// goroutine switches per request, the bulk of the hot path.
		a.running = true
		a.mu.Unlock()
		reply, err := a.process(ctx, msg, request, true)
		a.mu.Lock()
		if a.qlen() > 0 {
			go a.drain()
		} else {
			a.idle()
		}
		a.mu.Unlock()
		return reply, err
	}
	// Queued, msg outlives this call if ctx ends first: copy it.
	slot := &replySlot{ctx: ctx, done: make(chan struct{})}
	if err := a.enqueue(ctx, envelope{payload: append([]byte(nil), msg...), request: request, reply: slot}, true); err != nil {
		return nil, err
	}
	select {
	case <-slot.done:
		return slot.data, slot.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (a *Actor) qlen() int { return len(a.queue) - a.head }

// enqueue is called with a.mu held and returns with it released.
func (a *Actor) enqueue(ctx context.Context, e envelope, wait bool) error {
	for {
		if a.stopped {
			a.mu.Unlock()
			return ErrStopped
		}
		if a.qlen() < a.spec.Limits.MailboxLen {
			if a.head > 0 && len(a.queue) == cap(a.queue) {
				n := copy(a.queue, a.queue[a.head:])
				clear(a.queue[n:])
				a.queue, a.head = a.queue[:n], 0
			}
			a.queue = append(a.queue, e)
			if !a.running {
				a.running = true
				go a.drain()
			}
			a.mu.Unlock()
			return nil
		}
		if !wait {
			a.mu.Unlock()
			return ErrMailboxFull
		}
		if a.notFull == nil {
			a.notFull = make(chan struct{})
		}
		ch := a.notFull
		a.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrMailboxFull, ctx.Err())
		}
		a.mu.Lock()
	}
}

// pop takes the oldest message; a.mu is held.
func (a *Actor) pop() envelope {
	e := a.queue[a.head]
	a.queue[a.head] = envelope{}
	a.head++
	if a.head == len(a.queue) {
		a.queue, a.head = a.queue[:0], 0
	}
	if a.notFull != nil {
		close(a.notFull)
		a.notFull = nil
	}
	return e
}

// idle records that no goroutine drains the mailbox; a.mu is held.
func (a *Actor) idle() {
	a.running = false
	if a.drained != nil {
		close(a.drained)
		a.drained = nil
	}
}

// drain handles queued messages until the mailbox is empty; then the
// goroutine ends, so an idle actor has none.
func (a *Actor) drain() {
	for {
		a.mu.Lock()
		if a.qlen() == 0 {
			a.idle()
			a.mu.Unlock()
			return
		}
		e := a.pop()
		a.mu.Unlock()
		if e.reply == nil {
			_, _ = a.process(context.Background(), e.payload, false, false) // failures go to OnFailure
			continue
		}
		if err := e.reply.ctx.Err(); err != nil {
			e.reply.err = err // the caller has gone; do not run its message
		} else {
			e.reply.data, e.reply.err = a.process(e.reply.ctx, e.payload, e.request, true)
		}
		close(e.reply.done)
	}
}

// process runs one message through the guest. When waited is set and the
// message is a send, it returns a copy of the state the handler left.
func (a *Actor) process(ctx context.Context, msg []byte, request, waited bool) ([]byte, error) {
	select {
	case a.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if a.done {
		<-a.sem
		return nil, ErrStopped
	}
	reply, f := a.handle(msg, request)
	if f == nil && waited && !request {
		reply = a.State() // still holding the semaphore: no other handler ran
	}
	<-a.sem
	if f != nil {
		if a.spec.OnFailure != nil {
			a.spec.OnFailure(*f)
		}
		return nil, *f
	}
	return reply, nil
}

func (a *Actor) trySem() bool {
	select {
	case a.sem <- struct{}{}:
		return true
	default:
		return false
	}
}

func (a *Actor) releaseSem() { <-a.sem }

// hibernate closes the instance and keeps the state; the caller holds
// the semaphore.
func (a *Actor) hibernate() {
	if a.inst != nil {
		a.inst.close()
		a.inst = nil
		a.live.Store(false)
		a.rt.removeLive(a)
	}
	a.mu.Lock()
	if a.qlen() == 0 {
		a.queue, a.head = nil, 0 // a hibernated actor keeps no mailbox buffer
	}
	a.mu.Unlock()
	a.spare = nil
}

// Hibernate closes the actor's instance now, keeping its state, as the
// idle timer would. It waits for a handler in progress until ctx is done.
func (a *Actor) Hibernate(ctx context.Context) error {
	select {
	case a.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("actor: hibernate %q: %w", a.spec.ID, ctx.Err())
	}
	a.hibernate()
	<-a.sem
	return nil
}

// closeMailbox stops accepting messages and fails the queued ones.
func (a *Actor) closeMailbox() {
	a.mu.Lock()
	a.stopped = true
	queued := a.queue[a.head:]
	a.queue, a.head = nil, 0
	if a.notFull != nil {
		close(a.notFull) // waiting senders wake up and see stopped
		a.notFull = nil
	}
	a.mu.Unlock()
	for _, e := range queued {
		if e.reply != nil {
			e.reply.err = ErrStopped
			close(e.reply.done)
		}
	}
}

// Stop stops the actor gracefully: new messages get [ErrStopped], the
// messages already accepted are handled, theater_on_stop runs if the
// guest exports it, and the instance is closed; the actor's id is then
// free. If ctx ends first, Stop returns its error and the actor stays
// closed to new messages. A failing theater_on_stop is reported like any
// failure and returned; the actor is stopped all the same.
//
// Stop waits for the goroutine that drains the mailbox, so it must not be
// called from the actor's own OnFailure callback, which runs on that
// goroutine: hand the failure to another goroutine instead.
func (a *Actor) Stop(ctx context.Context) error {
	a.mu.Lock()
	a.stopped = true
	if a.notFull != nil {
		close(a.notFull) // waiting senders wake up and see stopped
		a.notFull = nil
	}
	for a.running {
		if a.drained == nil {
			a.drained = make(chan struct{})
		}
		ch := a.drained
		a.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("actor: stop %q: %w", a.spec.ID, ctx.Err())
		}
		a.mu.Lock()
	}
	a.mu.Unlock()
	select {
	case a.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("actor: stop %q: %w", a.spec.ID, ctx.Err())
	}
	var f *Failure
	if !a.done && a.mod.info.OnStop {
		f = a.onStop()
	}
	a.finish()
	<-a.sem
	if f != nil {
		if a.spec.OnFailure != nil {
			a.spec.OnFailure(*f)
		}
		return *f
	}
	return nil
}

// kill stops the actor at once: queued messages are dropped and
// theater_on_stop does not run.
func (a *Actor) kill(ctx context.Context) {
	a.closeMailbox()
	select {
	case a.sem <- struct{}{}:
		a.finish()
		<-a.sem
	case <-ctx.Done():
	}
}

// finish closes the instance and frees the id; the caller holds the
// semaphore.
func (a *Actor) finish() {
	if a.done {
		return
	}
	a.hibernate()
	a.done = true
	a.rt.remove(a)
}
