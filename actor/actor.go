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
//
// An actor ends once: stopped ([Actor.Stop]), killed ([Actor.Kill]), or
// failed (see [FailurePolicy]). Then its id is free, every message gets an
// error wrapping [ErrStopped], [Actor.Done] is closed and [Actor.Exit] says
// how it ended.
type Actor struct {
	rt   *Runtime
	mod  *module
	spec Spec

	mu      sync.Mutex // guards the mailbox fields, the lifecycle fields and the state swap
	queue   []envelope
	head    int
	running bool          // a goroutine is draining the mailbox or handling a request
	notFull chan struct{} // closed when a slot frees; made only when a sender waits
	drained chan struct{} // closed when running turns false; made only when Stop waits
	stopped bool          // no new messages are accepted
	refusal error         // what a refused message gets once stopped is set
	cctx    *callCtx      // the calls' context of the newest instance, for Kill
	ended   bool          // the instance is closed and the id free (done, seen under mu)
	exited  bool          // ended and no goroutine runs for the actor: fully ended
	exit    Exit
	doneCh  chan struct{} // closed when exited; made on demand
	notes   []note        // reports for OnFailure and OnExit, in order
	telling bool          // a goroutine is giving notes to the callbacks
	silent  bool          // a failed spawn: nothing is told

	// killed is set, under mu, by Kill (and a Stop whose context ended):
	// the handler in flight is aborted and nothing runs any more. Atomic
	// so that a handler can check it without the lock.
	killed atomic.Bool

	usage usage // of the budget, by the current handler call

	// sem is held by whoever uses the instance or the state: a handler,
	// hibernation, eviction, Stop. A channel rather than a mutex so that
	// Stop can give up with its context and eviction can try without
	// blocking.
	sem   chan struct{}
	inst  *instance
	state []byte // the last good state
	spare []byte // the buffer the next state is copied into
	// revertable: spare holds the state before the last handler call,
	// which succeeded ([Actor.Revert]); guarded by mu.
	revertable bool
	done       bool // ended; guarded by sem
	live       atomic.Bool
	// lastFuel is the fuel of the last successful handler call (fuel.go).
	lastFuel atomic.Uint64
	// instances counts the instances opened (fuel.go, Instances).
	instances atomic.Uint64
	probing   bool // the probe of a module (Runtime.probe), not an actor

	// Guarded by rt.lruMu.
	lruPrev, lruNext *Actor
	lruLinked        bool
}

type envelope struct {
	payload []byte
	request bool
	reply   *replySlot // nil for a send nobody waits for
}

// The states of a replySlot: a waiting caller and the drainer agree on
// who owns the message with one compare-and-swap, so that a message whose
// caller gave up never runs, and one that started always reports its
// outcome.
const (
	slotQueued    int32 = iota
	slotTaken           // the drainer runs it; the caller waits for the outcome
	slotAbandoned       // the caller's context ended first; it must not run
)

type replySlot struct {
	ctx   context.Context
	done  chan struct{}
	state atomic.Int32
	data  []byte // the reply of a request, the new state of a delivered send
	err   error
}

// note is one report for the owner's callbacks.
type note struct {
	failure *Failure
	exit    *Exit
}

// ID returns the actor's id.
func (a *Actor) ID() string { return a.spec.ID }

// Live reports whether the actor has an open instance (false when it is
// hibernated or has ended).
func (a *Actor) Live() bool { return a.live.Load() }

// State returns a copy of the actor's last good state. After the actor
// has ended it is the state it ended with: what a restart from the last
// state resumes from.
func (a *Actor) State() []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]byte(nil), a.state...)
}

// Done returns a channel that is closed when the actor has fully ended:
// its instance is closed, its id is free, and no goroutine runs any of
// its handlers. [Actor.Exit] then says how it ended.
func (a *Actor) Done() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.doneCh == nil {
		a.doneCh = make(chan struct{})
		if a.exited {
			close(a.doneCh)
		}
	}
	return a.doneCh
}

// Exit returns how the actor ended, and false while it has not fully
// ended.
func (a *Actor) Exit() (Exit, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.exit, a.exited
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
// declared type ([ErrInvalidMessage]) is refused and reaches nobody. When
// the mailbox is full, Send waits for room until ctx is done and then
// returns an error wrapping both [ErrMailboxFull] and the context's error.
// An actor that is stopping or has ended refuses it with an error
// wrapping [ErrStopped]. msg is copied.
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
// durable message was processed.
//
// ctx bounds the wait for the handler to start: if ctx is done first
// (already done included), the message is not run and Deliver returns
// ctx's error. Once the handler has started, Deliver returns its outcome,
// which the handler deadline bounds.
func (a *Actor) Deliver(ctx context.Context, msg []byte) ([]byte, error) {
	if err := a.check(msg, a.spec.Types.Send); err != nil {
		return nil, err
	}
	return a.await(ctx, msg, false)
}

// Request sends a request and waits for the reply. A full mailbox makes
// it wait for room, as [Actor.Send] does. A failed handler gives a
// [Failure] (a guest error included); msg is not modified.
//
// As with [Actor.Deliver], a request whose ctx is done before its handler
// starts is not run and gets ctx's error; once the handler has started,
// Request returns its outcome.
func (a *Actor) Request(ctx context.Context, msg []byte) ([]byte, error) {
	if err := a.check(msg, a.spec.Types.Request); err != nil {
		return nil, err
	}
	return a.await(ctx, msg, true)
}

// await runs a request, or a send whose caller waits, and returns the
// reply, or the new state for a send.
func (a *Actor) await(ctx context.Context, msg []byte, request bool) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a.mu.Lock()
	if a.stopped {
		err := a.refusal
		a.mu.Unlock()
		return nil, err
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
		if slot.state.CompareAndSwap(slotQueued, slotAbandoned) {
			return nil, ctx.Err()
		}
		<-slot.done // the handler has started: its outcome is the answer
		return slot.data, slot.err
	}
}

func (a *Actor) qlen() int { return len(a.queue) - a.head }

// enqueue is called with a.mu held and returns with it released.
func (a *Actor) enqueue(ctx context.Context, e envelope, wait bool) error {
	for {
		if a.stopped {
			err := a.refusal
			a.mu.Unlock()
			return err
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
	a.maybeExited()
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
		if e.reply.ctx.Err() != nil || !e.reply.state.CompareAndSwap(slotQueued, slotTaken) {
			e.reply.err = e.reply.ctx.Err() // the caller has gone; do not run its message
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
	if a.done || a.killed.Load() {
		err := a.settleKill()
		<-a.sem
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		// Both were ready and select chose the semaphore: a message whose
		// context ended before it started does not run.
		<-a.sem
		return nil, err
	}
	reply, f := a.handle(msg, request)
	if f == nil {
		if waited && !request {
			reply = a.State() // still holding the semaphore: no other handler ran
		}
		<-a.sem
		return reply, nil
	}
	a.mu.Lock()
	a.revertable = false
	a.mu.Unlock()
	if a.killed.Load() {
		// The failure is the abort: not the guest's, and not reported.
		err := a.settleKill()
		<-a.sem
		return nil, err
	}
	a.mu.Lock()
	a.tell(note{failure: f})
	a.mu.Unlock()
	if f.Kind != GuestError && a.spec.FailurePolicy == EndOnFailure {
		a.end(Exit{Actor: a.spec.ID, Reason: Failed, Failure: f})
	}
	<-a.sem
	return nil, *f
}

// settleKill ends a killed actor, if that is not done yet, and returns
// what a message to it gets; the caller holds the semaphore.
func (a *Actor) settleKill() error {
	if a.killed.Load() {
		a.end(Exit{Actor: a.spec.ID, Reason: Killed})
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.refusal
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
	a.spare, a.revertable = nil, false
	a.mu.Unlock()
}

// Revert undoes the last handler call's state change, for an owner that
// cannot keep its outcome (the node, when the call's record would not fit
// in the chain). That call must have succeeded, with no other call,
// hibernation or end since; otherwise Revert fails with
// [ErrNotRevertable]. The instance is closed too, so nothing the call
// left in memory or globals survives: the next message runs in a fresh
// instance on the state before it.
func (a *Actor) Revert(ctx context.Context) error {
	select {
	case a.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("actor: revert %q: %w", a.spec.ID, ctx.Err())
	}
	defer func() { <-a.sem }()
	a.mu.Lock()
	if !a.revertable || a.done {
		a.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrNotRevertable, a.spec.ID)
	}
	a.state, a.spare, a.revertable = a.spare, a.state, false
	a.mu.Unlock()
	a.discard()
	return nil
}

// Hibernate closes the actor's instance now, keeping its state, as the
// idle timer would. It waits for a handler in progress until ctx is done.
// On an actor that has ended it does nothing.
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

// closeMailbox stops accepting messages and refuses the queued ones with
// refusal, which new messages get too; a.mu is held.
func (a *Actor) closeMailbox(refusal error) {
	a.stopped, a.refusal = true, refusal
	if a.notFull != nil {
		close(a.notFull) // waiting senders wake up and see stopped
		a.notFull = nil
	}
	queued := a.queue[a.head:]
	a.queue, a.head = nil, 0
	for _, e := range queued {
		if e.reply != nil {
			e.reply.err = refusal
			close(e.reply.done)
		}
	}
}

// end ends the actor: the mailbox is closed and its queued messages
// refused, the instance closed, the id freed, and once no goroutine runs
// for the actor, Done is closed and OnExit told. The first call decides
// the exit; the caller holds the semaphore.
func (a *Actor) end(x Exit) {
	if a.done {
		return
	}
	a.mu.Lock()
	refusal := &endedError{id: a.spec.ID, exit: x.Reason}
	if x.Reason == Failed {
		refusal.failure = x.Failure
	}
	a.closeMailbox(refusal) // a stopping actor's refusal becomes the final one
	a.mu.Unlock()
	a.hibernate()
	a.done = true
	a.rt.remove(a)
	a.mu.Lock()
	a.ended, a.exit = true, x
	a.maybeExited()
	a.mu.Unlock()
}

// maybeExited completes the ending once the actor has ended and no
// goroutine drains its mailbox or handles a request; a.mu is held.
func (a *Actor) maybeExited() {
	if !a.ended || a.running || a.exited {
		return
	}
	a.exited = true
	if a.doneCh != nil {
		close(a.doneCh)
	}
	x := a.exit
	a.tell(note{exit: &x})
}

// tell queues a report for the owner's callbacks and starts the goroutine
// that gives them, if none runs; a.mu is held. The callbacks therefore
// never run on a goroutine that handles the actor's messages, and may
// call anything on it (Stop, Kill, Request) or on the runtime (Spawn).
func (a *Actor) tell(n note) {
	if a.silent || (n.failure != nil && a.spec.OnFailure == nil) || (n.exit != nil && a.spec.OnExit == nil) {
		return
	}
	a.notes = append(a.notes, n)
	if !a.telling {
		a.telling = true
		go a.teller()
	}
}

// teller gives the queued reports to the callbacks, one at a time and in
// order, and ends when there are none left.
func (a *Actor) teller() {
	for {
		a.mu.Lock()
		if len(a.notes) == 0 {
			a.notes, a.telling = nil, false
			a.mu.Unlock()
			return
		}
		n := a.notes[0]
		a.notes = a.notes[1:]
		a.mu.Unlock()
		if n.failure != nil {
			a.spec.OnFailure(*n.failure)
		} else {
			a.spec.OnExit(*n.exit)
		}
	}
}

// Stop stops the actor gracefully: new messages are refused (wrapping
// [ErrStopped]), the messages already accepted are handled,
// theater_on_stop runs if the guest exports it, and the instance is
// closed; the actor has then fully ended (its exit is [Stopped]) and its
// id is free. A failing theater_on_stop is reported like any failure and
// returned; the actor is stopped all the same.
//
// If ctx ends first, Stop kills the actor as [Actor.Kill] does, waits
// until it has fully ended (closing the context of the call in flight
// makes that prompt), and returns an error wrapping [ErrKilled] and ctx's
// error: a Stop never leaves an actor half-stopped. Stop on an actor that
// has already ended returns nil.
//
// Stop may be called from the actor's OnFailure and OnExit callbacks;
// from inside one of its own handlers (a host function), it would wait
// for itself.
func (a *Actor) Stop(ctx context.Context) error {
	a.mu.Lock()
	if !a.stopped {
		a.stopped, a.refusal = true, &endedError{id: a.spec.ID, stopping: true}
		if a.notFull != nil {
			close(a.notFull) // waiting senders wake up and see stopped
			a.notFull = nil
		}
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
			return a.killFor(ctx)
		}
		a.mu.Lock()
	}
	a.mu.Unlock()
	select {
	case a.sem <- struct{}{}:
	case <-ctx.Done():
		return a.killFor(ctx)
	}
	if a.done || a.killed.Load() {
		a.settleKill()
		<-a.sem
		<-a.Done() // a kill's handler has returned: only the ending is left
		return nil
	}
	var f *Failure
	if a.mod.info.OnStop {
		abort := context.AfterFunc(ctx, a.abort)
		f = a.onStop()
		abort()
	}
	if a.killed.Load() {
		a.settleKill()
		<-a.sem
		<-a.Done()
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("actor: stop %q: %w: %w", a.spec.ID, ErrKilled, err)
		}
		return nil // killed by someone else
	}
	if f != nil {
		a.mu.Lock()
		a.tell(note{failure: f})
		a.mu.Unlock()
	}
	a.end(Exit{Actor: a.spec.ID, Reason: Stopped, Failure: f})
	<-a.sem
	if f != nil {
		return *f
	}
	return nil
}

// killFor kills the actor for a Stop whose ctx ended and waits, without a
// deadline, until it has fully ended.
func (a *Actor) killFor(ctx context.Context) error {
	a.abort()
	done := a.Done()
	select {
	case a.sem <- struct{}{}:
		a.settleKill()
		<-a.sem
	case <-done:
	}
	<-done
	return fmt.Errorf("actor: stop %q: %w: %w", a.spec.ID, ErrKilled, ctx.Err())
}

// Kill stops the actor at once: theater_on_stop does not run, a handler
// in flight is aborted (its requester gets an error wrapping [ErrKilled]),
// queued requests and deliveries and new messages are refused with errors
// wrapping [ErrStopped] and [ErrKilled] (queued sends are dropped: their
// senders were told only that they were accepted), and the instance is
// closed. Kill returns when the
// actor has fully ended (its exit is [Killed]), or with ctx's error if ctx
// ends first; the actor then still ends as soon as the aborted call
// returns, and [Actor.Done] tells when. Kill on an actor that has already
// ended returns nil and leaves its exit as it was.
//
// Like Stop, Kill may be called from the actor's OnFailure and OnExit
// callbacks.
func (a *Actor) Kill(ctx context.Context) error {
	a.abort()
	done := a.Done()
	select {
	case a.sem <- struct{}{}:
		a.settleKill()
		<-a.sem
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("actor: kill %q: %w", a.spec.ID, ctx.Err())
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("actor: kill %q: %w", a.spec.ID, ctx.Err())
	}
}

// abort is the first half of a kill: nothing more runs, queued messages
// are refused, and the call in flight, if any, is killed: the guest
// stops at its next metering point and any host call waiting on the
// call's context returns.
func (a *Actor) abort() {
	a.mu.Lock()
	if a.ended || a.killed.Load() {
		a.mu.Unlock()
		return
	}
	a.killed.Store(true)
	refusal := &endedError{id: a.spec.ID, exit: Killed}
	a.closeMailbox(refusal)
	c := a.cctx
	a.mu.Unlock()
	if c != nil {
		c.kill()
	}
}
