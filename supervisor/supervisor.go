package supervisor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// Errors of the supervisor's operations.
var (
	ErrRunning      = errors.New("supervisor: already running")
	ErrNotRunning   = errors.New("supervisor: not running")
	ErrUnknownChild = errors.New("supervisor: unknown child")
	ErrChildExists  = errors.New("supervisor: child already exists")
	// ErrChildRunning is returned by RestartChild and DeleteChild for a
	// child that is running or waiting for a restart to be retried.
	ErrChildRunning = errors.New("supervisor: child is running")
	// ErrIntensity is wrapped by the error a supervisor exits with when
	// it escalates.
	ErrIntensity = errors.New("supervisor: restart intensity exceeded")
)

// Child is anything a supervisor supervises: for the node an actor, and
// [*Supervisor] itself, so that trees nest.
type Child interface {
	// Start starts the child from the given state and returns once it
	// runs (or failed to start). If the running child later ends on its
	// own, it calls exited, once, with nil for a normal ending or the
	// error it failed with (an actor passes its actor.Failure). exited
	// never blocks and is safe from any goroutine, during Start too;
	// calls after the supervisor stopped the child, or from an earlier
	// start, are ignored.
	Start(ctx context.Context, from StartFrom, exited func(error)) error
	// Stop stops the child and returns when it no longer runs. ctx
	// carries the child's shutdown timeout: when it is done, Stop must
	// stop the child forcibly (an actor closes its instance) and return
	// promptly. A child that is not running returns nil.
	Stop(ctx context.Context) error
}

// A supervisor is a child of its parent supervisor.
var _ Child = (*Supervisor)(nil)

// ChildInfo describes one child, as [Supervisor.WhichChildren] returns it.
type ChildInfo struct {
	ID       string
	Restart  Restart
	Running  bool
	Restarts int
}

// Option configures a [Supervisor].
type Option func(*Supervisor)

// WithClock sets the clock of event times and restart intensity; the
// default is the system clock.
func WithClock(c Clock) Option { return func(s *Supervisor) { s.clock = c } }

// WithEvents sets where the supervisor's events go; by default they are
// dropped.
func WithEvents(sink EventSink) Option { return func(s *Supervisor) { s.sink = sink } }

// Supervisor starts, watches and restarts its children as its [Spec]
// says. It is itself a [Child]: each Start begins a new run from the spec
// (dynamic children of an earlier run are gone, as in OTP), and a run
// that escalates ends by calling the exited function given to Start.
//
// All decisions of a run are taken by one goroutine, in the order the
// requests and child exits arrive; the methods only hand requests to it.
type Supervisor struct {
	spec  Spec
	clock Clock
	sink  EventSink

	mu  sync.Mutex
	cur *run // the current run; nil when not running
}

// New validates spec (see [Validate]) and returns a supervisor that is
// not yet started.
func New(spec Spec, opts ...Option) (*Supervisor, error) {
	spec, err := Validate(spec)
	if err != nil {
		return nil, err
	}
	s := &Supervisor{spec: spec, clock: systemClock{}, sink: EventSinkFunc(func(Event) {})}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Start starts the children in order. If one fails to start, the ones
// already started are stopped in reverse order and Start returns the
// error. With StartInitial every child starts afresh; with StartLast
// (the supervisor itself is being restarted from its last state) each
// child starts from its own spec's StartFrom.
//
// exited, which may be nil for a root supervisor, is called once if the
// run escalates, with an error wrapping [ErrIntensity]; it is not called
// after [Supervisor.Stop].
func (s *Supervisor) Start(ctx context.Context, from StartFrom, exited func(error)) error {
	s.mu.Lock()
	if s.cur != nil {
		s.mu.Unlock()
		return ErrRunning
	}
	r := newRun(s, exited)
	s.cur = r
	s.mu.Unlock()

	// The children start on the caller's goroutine, before the run's
	// goroutine exists, so nothing else can touch the run meanwhile;
	// requests and exits that arrive now wait in the mailbox.
	if err := r.startAll(ctx, from); err != nil {
		r.end()
		return err
	}
	go r.loop()
	return nil
}

// Stop stops the children in reverse order, each within its shutdown
// timeout, and ends the run. If ctx ends first, the children still
// running are stopped forcibly and Stop returns ctx.Err(). Stopping a
// supervisor that is not running returns nil.
func (s *Supervisor) Stop(ctx context.Context) error {
	r := s.running()
	if r == nil {
		return nil
	}
	r.post(func() { r.shutdown(ctx) })
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		// Abort whatever the run is waiting for (a restart's Start); the
		// shutdown message then stops the rest with the done ctx.
		r.cancel()
		<-r.done
		return ctx.Err()
	}
}

// StartChild adds a child at the end of the children and starts it
// afresh. If the start fails, the child is not added.
func (s *Supervisor) StartChild(ctx context.Context, spec ChildSpec) error {
	spec, err := validateChild(spec)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidSpec, err)
	}
	return s.call(ctx, func(r *run) error { return r.startChild(ctx, spec) })
}

// TerminateChild stops a child, within its shutdown timeout, and keeps
// its spec so that RestartChild can start it again; a temporary child is
// forgotten instead. Terminating a child that is not running is not an
// error.
func (s *Supervisor) TerminateChild(ctx context.Context, id string) error {
	return s.call(ctx, func(r *run) error { return r.terminateChild(ctx, id) })
}

// RestartChild starts a child that is not running (it was terminated, or
// it exited and its restart type kept it stopped) from its StartFrom. It
// does not count towards the restart intensity.
func (s *Supervisor) RestartChild(ctx context.Context, id string) error {
	return s.call(ctx, func(r *run) error { return r.restartChild(ctx, id) })
}

// DeleteChild forgets the spec of a child that is not running.
func (s *Supervisor) DeleteChild(ctx context.Context, id string) error {
	return s.call(ctx, func(r *run) error { return r.deleteChild(id) })
}

// WhichChildren lists the children in start order.
func (s *Supervisor) WhichChildren(ctx context.Context) ([]ChildInfo, error) {
	var infos []ChildInfo
	err := s.call(ctx, func(r *run) error {
		infos = r.which()
		return nil
	})
	return infos, err
}

func (s *Supervisor) running() *run {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// call runs op on the run's goroutine and waits for its result. An op
// whose caller has given up by the time its turn comes is not run.
func (s *Supervisor) call(ctx context.Context, op func(*run) error) error {
	r := s.running()
	if r == nil {
		return ErrNotRunning
	}
	reply := make(chan error, 1) // buffered: the run never waits for a caller
	r.post(func() {
		if err := ctx.Err(); err != nil {
			reply <- err
			return
		}
		reply <- op(r)
	})
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-r.done:
		// The run may have answered just before it ended.
		select {
		case err := <-reply:
			return err
		default:
			return ErrNotRunning
		}
	}
}

func (s *Supervisor) emit(e Event) {
	e.Time = s.clock.Now()
	e.Supervisor = s.spec.Name
	s.sink.Record(e)
}

// reason is an error's text for an event; "" for nil.
func reason(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// indexOf returns the index of the child with the given id, or -1.
func indexOf(children []*child, id string) int {
	return slices.IndexFunc(children, func(c *child) bool { return c.spec.ID == id })
}
