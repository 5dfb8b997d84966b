package supervisor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// child is a run's record of one child.
type child struct {
	spec ChildSpec
	// gen identifies the running incarnation: exit reports carry the gen
	// they were started with, so a late report from an incarnation the
	// supervisor already stopped or replaced is recognised and dropped.
	// Zero when the child is not running.
	gen uint64
	// restarting is set when a restart's Start failed and a retry is
	// queued (OTP's "restarting" pid).
	restarting bool
	restarts   int
	// recent are the times of the child's restarts by its strategy, less
	// than Period old: their number is the backoff exponent.
	recent []time.Time
	// wait identifies the backoff timer the child waits for (zero: none),
	// so that a timer overtaken by another restart or a terminate is
	// recognised and dropped.
	wait uint64
}

// run is one life of a supervisor, from Start to Stop or escalation: an
// OTP process. Its mailbox is unbounded so that posting never blocks: a
// child reporting its exit must not wait for a supervisor that is busy
// stopping that very child.
type run struct {
	sup    *Supervisor
	exited func(error)
	// ctx bounds the run's own work (restarts, escalation); Stop cancels
	// it when its caller gives up, which forces down a child being
	// started or stopped.
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when the run has ended

	mu    sync.Mutex
	inbox []func()
	wake  chan struct{} // one pending signal means "inbox not empty"

	// The rest belongs to the run's goroutine (to Start's caller before
	// that goroutine exists).
	children []*child
	restarts []time.Time // restart times within the period, for intensity
	gen      uint64
	timers   map[uint64]func() bool // pending backoff timers' stop functions
	over     bool                   // the run ends after the current message
	exit     error                  // the escalation error given to exited
}

func newRun(s *Supervisor, exited func(error)) *run {
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{sup: s, exited: exited, ctx: ctx, cancel: cancel,
		done: make(chan struct{}), wake: make(chan struct{}, 1), timers: map[uint64]func() bool{}}
	for _, cs := range s.spec.Children {
		r.children = append(r.children, &child{spec: cs})
	}
	return r
}

// post queues a message for the run's goroutine; it never blocks.
func (r *run) post(m func()) {
	r.mu.Lock()
	r.inbox = append(r.inbox, m)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

func (r *run) loop() {
	for !r.over {
		<-r.wake
		r.mu.Lock()
		batch := r.inbox
		r.inbox = nil
		r.mu.Unlock()
		for _, m := range batch {
			m()
			if r.over {
				break
			}
		}
	}
	r.end()
}

// end detaches the run from its supervisor, so that it can be started
// again, and then reports an escalation. Messages left in the mailbox are
// dropped; their callers see done.
func (r *run) end() {
	r.cancel()
	for _, stop := range r.timers {
		stop()
	}
	r.sup.mu.Lock()
	r.sup.cur = nil
	r.sup.mu.Unlock()
	close(r.done)
	if r.exit != nil && r.exited != nil {
		r.exited(r.exit)
	}
}

func (r *run) emit(c *child, kind EventKind, err error) {
	r.sup.emit(Event{Child: c.spec.ID, Kind: kind, Reason: reason(err), Restarts: c.restarts})
}

func (r *run) startAll(ctx context.Context, from StartFrom) error {
	for i, c := range r.children {
		f := from
		if f == StartLast {
			f = c.spec.StartFrom
		}
		if err := r.start(ctx, c, f, Started); err != nil {
			for _, prev := range slices.Backward(r.children[:i]) {
				r.stop(ctx, prev)
			}
			return fmt.Errorf("supervisor: start child %q: %w", c.spec.ID, err)
		}
	}
	return nil
}

// start starts one child and records it as running; kind is Started or
// Restarted.
func (r *run) start(ctx context.Context, c *child, from StartFrom, kind EventKind) error {
	r.gen++
	gen, id := r.gen, c.spec.ID
	err := c.spec.Child.Start(ctx, from, func(err error) {
		r.post(func() { r.childExited(id, gen, err) })
	})
	if err != nil {
		r.emit(c, StartFailed, err)
		return err
	}
	c.gen, c.restarting, c.wait = gen, false, 0
	if kind == Restarted {
		c.restarts++
	}
	r.emit(c, kind, nil)
	return nil
}

// stop stops a running child within its shutdown timeout (and ctx).
func (r *run) stop(ctx context.Context, c *child) {
	if c.gen == 0 {
		return
	}
	c.gen = 0
	sctx, cancel := context.WithTimeout(ctx, time.Duration(c.spec.Shutdown))
	defer cancel()
	err := c.spec.Child.Stop(sctx)
	kind := Stopped
	if err != nil && sctx.Err() != nil {
		kind = Killed
	}
	r.emit(c, kind, err)
}

func (r *run) childExited(id string, gen uint64, err error) {
	i := indexOf(r.children, id)
	if i < 0 || r.children[i].gen != gen {
		return // stale: that incarnation was stopped or replaced
	}
	c := r.children[i]
	c.gen = 0
	if err == nil {
		r.emit(c, Exited, nil)
	} else {
		r.emit(c, Failed, err)
	}
	switch {
	case c.spec.Restart == Temporary:
		r.children = slices.Delete(r.children, i, i+1)
	case c.spec.Restart == Transient && err == nil:
		// Kept, not running: RestartChild, or a sibling's one_for_all or
		// rest_for_one restart, starts it again.
	default:
		r.restart(i, err)
	}
}

// restart applies the strategy for the child at index i, which has
// ended (or whose restart failed) with cause.
func (r *run) restart(i int, cause error) {
	if !r.allowRestart() {
		r.escalate(r.children[i].spec.ID, cause)
		return
	}
	ended := r.children[i]
	lo, hi := i, i+1
	switch r.sup.spec.Strategy {
	case OneForAll:
		lo, hi = 0, len(r.children)
	case RestForOne:
		hi = len(r.children)
	}
	group := slices.Clone(r.children[lo:hi])
	for _, c := range slices.Backward(group) {
		r.stop(r.ctx, c)
	}
	// Temporary children are never restarted: the ones just stopped are
	// forgotten (a temporary child in the list is always running, so every
	// stopped one is in the group).
	r.children = slices.DeleteFunc(r.children, func(c *child) bool { return c.spec.Restart == Temporary && c.gen == 0 })
	group = slices.DeleteFunc(group, func(c *child) bool { return c.spec.Restart == Temporary })
	if b := r.sup.spec.Backoff; b != nil {
		r.delay(ended, group, *b)
		return
	}
	r.startGroup(group)
}

// delay schedules the restart of group after the backoff delay of the
// child that ended. The group waits as "restarting": not running, and a
// terminate (which clears restarting) or a newer restart (which replaces
// wait) makes the timer's message a no-op.
func (r *run) delay(ended *child, group []*child, b Backoff) {
	now := r.sup.clock.Now()
	period := time.Duration(r.sup.spec.Period)
	ended.recent = slices.DeleteFunc(ended.recent, func(t time.Time) bool { return now.Sub(t) >= period })
	d := b.Delay(len(ended.recent))
	ended.recent = append(ended.recent, now)
	r.gen++
	token := r.gen
	for _, c := range group {
		c.restarting, c.wait = true, token
	}
	r.sup.emit(Event{Child: ended.spec.ID, Kind: RestartDelayed, Restarts: ended.restarts, Delay: d})
	r.timers[token] = r.sup.clock.AfterFunc(d, func() {
		r.post(func() {
			delete(r.timers, token)
			var due []*child
			for _, c := range group {
				if c.restarting && c.wait == token && slices.Contains(r.children, c) {
					due = append(due, c)
				}
			}
			r.startGroup(due)
		})
	})
}

// startGroup starts the children of a restart, in order.
func (r *run) startGroup(group []*child) {
	for _, c := range group {
		if err := r.start(r.ctx, c, c.spec.StartFrom, Restarted); err != nil {
			// Like OTP, try again through the mailbox, so that a Stop or
			// other requests get their turn; each try counts towards the
			// intensity (and waits its backoff), so a child that cannot
			// start escalates.
			c.restarting, c.wait = true, 0
			r.post(func() { r.retry(c, err) })
			return
		}
	}
}

func (r *run) retry(c *child, cause error) {
	i := slices.Index(r.children, c)
	if i < 0 || !c.restarting {
		return // restarted, terminated or deleted meanwhile
	}
	r.restart(i, cause)
}

// allowRestart records a restart now and says whether it stays within
// the intensity: at most Intensity restarts less than Period ago.
func (r *run) allowRestart() bool {
	now := r.sup.clock.Now()
	period := time.Duration(r.sup.spec.Period)
	r.restarts = slices.DeleteFunc(r.restarts, func(t time.Time) bool { return now.Sub(t) >= period })
	r.restarts = append(r.restarts, now)
	return len(r.restarts) <= r.sup.spec.Intensity
}

func (r *run) escalate(id string, cause error) {
	if cause == nil {
		cause = errors.New("exited")
	}
	r.exit = fmt.Errorf("%w (more than %d in %v): child %q: %w",
		ErrIntensity, r.sup.spec.Intensity, time.Duration(r.sup.spec.Period), id, cause)
	for _, c := range slices.Backward(r.children) {
		r.stop(r.ctx, c)
	}
	r.sup.emit(Event{Kind: Escalated, Reason: r.exit.Error()})
	r.over = true
}

func (r *run) shutdown(ctx context.Context) {
	for _, c := range slices.Backward(r.children) {
		r.stop(ctx, c)
	}
	r.sup.emit(Event{Kind: Shutdown})
	r.over = true
}

func (r *run) startChild(ctx context.Context, spec ChildSpec) error {
	if indexOf(r.children, spec.ID) >= 0 {
		return fmt.Errorf("%w: %q", ErrChildExists, spec.ID)
	}
	c := &child{spec: spec}
	if err := r.start(ctx, c, StartInitial, Started); err != nil {
		return fmt.Errorf("supervisor: start child %q: %w", spec.ID, err)
	}
	r.children = append(r.children, c)
	return nil
}

func (r *run) terminateChild(ctx context.Context, id string) error {
	i := indexOf(r.children, id)
	if i < 0 {
		return fmt.Errorf("%w: %q", ErrUnknownChild, id)
	}
	c := r.children[i]
	r.stop(ctx, c)
	c.restarting, c.wait = false, 0 // cancels a queued retry or a backoff
	if c.spec.Restart == Temporary {
		r.children = slices.Delete(r.children, i, i+1)
	}
	return nil
}

func (r *run) restartChild(ctx context.Context, id string) error {
	i := indexOf(r.children, id)
	if i < 0 {
		return fmt.Errorf("%w: %q", ErrUnknownChild, id)
	}
	c := r.children[i]
	if c.gen != 0 || c.restarting {
		return fmt.Errorf("%w: %q", ErrChildRunning, id)
	}
	if err := r.start(ctx, c, c.spec.StartFrom, Restarted); err != nil {
		return fmt.Errorf("supervisor: restart child %q: %w", id, err)
	}
	return nil
}

func (r *run) deleteChild(id string) error {
	i := indexOf(r.children, id)
	if i < 0 {
		return fmt.Errorf("%w: %q", ErrUnknownChild, id)
	}
	c := r.children[i]
	if c.gen != 0 || c.restarting {
		return fmt.Errorf("%w: %q", ErrChildRunning, id)
	}
	r.children = slices.Delete(r.children, i, i+1)
	r.emit(c, Deleted, nil)
	return nil
}

func (r *run) which() []ChildInfo {
	infos := make([]ChildInfo, len(r.children))
	for i, c := range r.children {
		infos[i] = ChildInfo{ID: c.spec.ID, Restart: c.spec.Restart, Running: c.gen != 0, Restarts: c.restarts}
	}
	return infos
}
