package supervisor_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/theater-go/theater/supervisor"
)

// journal records what the workers did, in the order they did it: the
// supervisor's start and stop order is read from it.
type journal struct {
	mu    sync.Mutex
	lines []string
}

func (j *journal) add(format string, args ...any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.lines = append(j.lines, fmt.Sprintf(format, args...))
}

// take returns the lines so far and starts afresh.
func (j *journal) take() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	lines := j.lines
	j.lines = nil
	return lines
}

// worker is a real concurrent child: each Start runs a goroutine (an
// incarnation) until it is stopped, killed or made to end.
type worker struct {
	id string
	j  *journal

	mu       sync.Mutex
	startErr error // Start fails with it while set
	// stubborn incarnations ignore the polite stop and end only when
	// Stop's context ends (the forced path).
	stubborn bool
	// sloppy incarnations report an exit when they are stopped, which the
	// supervisor must ignore.
	sloppy bool
	// While entered is set, Start announces itself on it and then waits
	// for release or for its context to end.
	entered chan struct{}
	release chan struct{}
	cur     *incarnation
}

type incarnation struct {
	stop chan struct{} // closed by Stop: please end
	kill chan struct{} // closed when Stop's context ends: end now
	fail chan error    // the test makes the incarnation end with a value
	done chan struct{} // closed when the goroutine has ended
}

func newWorker(j *journal, id string) *worker { return &worker{id: id, j: j} }

func (w *worker) Start(ctx context.Context, from supervisor.StartFrom, exited func(error)) error {
	w.mu.Lock()
	entered, release := w.entered, w.release
	w.mu.Unlock()
	if entered != nil {
		entered <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
			w.j.add("start %s abandoned", w.id)
			return ctx.Err()
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.startErr != nil {
		w.j.add("start %s failed", w.id)
		return w.startErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	in := &incarnation{stop: make(chan struct{}), kill: make(chan struct{}),
		fail: make(chan error), done: make(chan struct{})}
	w.cur = in
	w.j.add("start %s %s", w.id, from)
	go in.run(w.stubborn, w.sloppy, exited)
	return nil
}

func (in *incarnation) run(stubborn, sloppy bool, exited func(error)) {
	defer close(in.done)
	stop := in.stop
	for {
		select {
		case err := <-in.fail:
			exited(err)
			return
		case <-stop:
			if sloppy {
				exited(errors.New("stopped"))
			}
			if !stubborn {
				return
			}
			stop = nil // keep running until killed
		case <-in.kill:
			return
		}
	}
}

func (w *worker) Stop(ctx context.Context) error {
	w.mu.Lock()
	in := w.cur
	w.cur = nil
	w.mu.Unlock()
	if in == nil {
		return nil
	}
	close(in.stop)
	select {
	case <-in.done:
		w.j.add("stop %s", w.id)
		return nil
	case <-ctx.Done():
		close(in.kill)
		<-in.done
		w.j.add("kill %s", w.id)
		return ctx.Err()
	}
}

// tryExit makes the running incarnation end on its own with err (nil:
// normally) and returns once it has reported that; false if none runs.
func (w *worker) tryExit(err error) bool {
	w.mu.Lock()
	in := w.cur
	w.cur = nil
	w.mu.Unlock()
	if in == nil {
		return false
	}
	in.fail <- err
	<-in.done
	return true
}

func (w *worker) exit(t *testing.T, err error) {
	t.Helper()
	if !w.tryExit(err) {
		t.Fatalf("worker %s is not running", w.id)
	}
}

// hold makes the next Starts wait; it returns the channel on which each
// announces itself.
func (w *worker) hold() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.entered, w.release = make(chan struct{}), make(chan struct{})
	return w.entered
}

func (w *worker) setStartErr(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.startErr = err
}

// recorder is an EventSink that keeps every event; several supervisors
// of a tree may share one.
type recorder struct {
	mu     sync.Mutex
	events []supervisor.Event
}

func (r *recorder) Record(e supervisor.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) all() []supervisor.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// lines writes the events as "sup: kind child (reason) #restarts", the
// form the tests compare, and starts afresh.
func (r *recorder) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var lines []string
	for _, e := range r.events {
		s := fmt.Sprintf("%s: %s", e.Supervisor, e.Kind)
		if e.Child != "" {
			s += " " + e.Child
		}
		if e.Reason != "" {
			s += " (" + e.Reason + ")"
		}
		if e.Restarts != 0 {
			s += fmt.Sprintf(" #%d", e.Restarts)
		}
		if e.Delay != 0 {
			s += fmt.Sprintf(" +%v", e.Delay)
		}
		lines = append(lines, s)
	}
	r.events = nil
	return lines
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// fakeClock is a Clock the test moves by hand: its timers fire only
// when advance reaches them.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at time.Time
	f  func()
}

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newClock() *fakeClock { return &fakeClock{now: epoch} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		i := slices.Index(c.timers, t)
		if i < 0 {
			return false
		}
		c.timers = slices.Delete(c.timers, i, i+1)
		return true
	}
}

// pending returns the delays of the timers not yet fired, from now.
func (c *fakeClock) pending() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ds []time.Duration
	for _, t := range c.timers {
		ds = append(ds, t.at.Sub(c.now))
	}
	return ds
}

// advance moves the clock and fires, in order, the timers it reaches.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	c.timers = slices.DeleteFunc(c.timers, func(t *fakeTimer) bool {
		if t.at.After(c.now) {
			return false
		}
		due = append(due, t)
		return true
	})
	c.mu.Unlock()
	slices.SortStableFunc(due, func(a, b *fakeTimer) int { return a.at.Compare(b.at) })
	for _, t := range due {
		t.f()
	}
}

// eventually polls cond until it holds or a deadline passes: the tests
// wait for other goroutines this way, never by sleeping a fixed time.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// noLeaks fails the test if goroutines it started outlive it. Call it
// first: cleanups run last-in first-out, so it checks after the others
// (stopping supervisors) have run. Tests are not parallel, so the count
// is the test's own.
func noLeaks(t *testing.T) {
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		eventually(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= base })
	})
}

// tree holds what a test's supervisors share.
type tree struct {
	t     *testing.T
	j     *journal
	rec   *recorder
	clock *fakeClock
}

func newTree(t *testing.T) *tree {
	noLeaks(t)
	return &tree{t: t, j: &journal{}, rec: &recorder{}, clock: newClock()}
}

// sup builds a supervisor sharing the tree's clock and events; the
// caller starts it.
func (tr *tree) sup(spec supervisor.Spec) *supervisor.Supervisor {
	tr.t.Helper()
	s, err := supervisor.New(spec, supervisor.WithClock(tr.clock), supervisor.WithEvents(tr.rec))
	if err != nil {
		tr.t.Fatal(err)
	}
	return s
}

// start builds and starts a root supervisor and stops it when the test
// ends. Its escalation error, if any, arrives on the returned channel.
func (tr *tree) start(spec supervisor.Spec) (*supervisor.Supervisor, <-chan error) {
	tr.t.Helper()
	s := tr.sup(spec)
	exits := make(chan error, 1)
	if err := s.Start(context.Background(), supervisor.StartInitial, func(err error) { exits <- err }); err != nil {
		tr.t.Fatal(err)
	}
	tr.t.Cleanup(func() {
		if err := s.Stop(context.Background()); err != nil {
			tr.t.Error(err)
		}
	})
	return s, exits
}

func (tr *tree) expectJournal(want ...string) {
	tr.t.Helper()
	if got := tr.j.take(); !slices.Equal(got, want) {
		tr.t.Errorf("journal:\n got %q\nwant %q", got, want)
	}
}

func (tr *tree) expectEvents(want ...string) {
	tr.t.Helper()
	if got := tr.rec.lines(); !slices.Equal(got, want) {
		tr.t.Errorf("events:\n got %q\nwant %q", got, want)
	}
}

// which is WhichChildren as "id" or "id(stopped)" strings. It also
// waits for everything posted to the supervisor before it, such as an
// exit report.
func which(t *testing.T, s *supervisor.Supervisor) []string {
	t.Helper()
	infos, err := s.WhichChildren(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, in := range infos {
		id := in.ID
		if !in.Running {
			id += "(stopped)"
		}
		ids = append(ids, id)
	}
	return ids
}
