package supervisor_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/theater-go/theater/supervisor"
)

var boom = errors.New("boom")

func TestStartInOrderStopInReverse(t *testing.T) {
	tr := newTree(t)
	a, b, c := newWorker(tr.j, "a"), newWorker(tr.j, "b"), newWorker(tr.j, "c")
	s := tr.sup(supervisor.Spec{Name: "s", Children: []supervisor.ChildSpec{
		{ID: "a", Child: a, StartFrom: supervisor.StartInitial},
		{ID: "b", Child: b},
		{ID: "c", Child: c},
	}})
	ctx := context.Background()

	// From StartInitial every child starts afresh; from StartLast each
	// as its spec says (b and c default to last).
	for _, from := range []supervisor.StartFrom{supervisor.StartInitial, supervisor.StartLast} {
		if err := s.Start(ctx, from, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.Start(ctx, from, nil); !errors.Is(err, supervisor.ErrRunning) {
			t.Errorf("second Start: %v, want ErrRunning", err)
		}
		if err := s.Stop(ctx); err != nil {
			t.Fatal(err)
		}
	}
	tr.expectJournal(
		"start a initial", "start b initial", "start c initial",
		"stop c", "stop b", "stop a",
		"start a initial", "start b last", "start c last",
		"stop c", "stop b", "stop a",
	)
	run := []string{"s: started a", "s: started b", "s: started c", "s: stopped c", "s: stopped b", "s: stopped a", "s: shutdown"}
	tr.expectEvents(slices.Concat(run, run)...)

	if err := s.Stop(ctx); err != nil {
		t.Errorf("Stop of a stopped supervisor: %v", err)
	}
	if _, err := s.WhichChildren(ctx); !errors.Is(err, supervisor.ErrNotRunning) {
		t.Errorf("WhichChildren of a stopped supervisor: %v, want ErrNotRunning", err)
	}
}

func TestEventFields(t *testing.T) {
	tr := newTree(t)
	w := newWorker(tr.j, "w")
	s, _ := tr.start(supervisor.Spec{Name: "s", Children: []supervisor.ChildSpec{{ID: "w", Child: w}}})
	tr.clock.advance(time.Second)
	w.exit(t, boom)
	which(t, s)
	want := []supervisor.Event{
		{Time: epoch, Supervisor: "s", Child: "w", Kind: supervisor.Started},
		{Time: epoch.Add(time.Second), Supervisor: "s", Child: "w", Kind: supervisor.Failed, Reason: "boom"},
		{Time: epoch.Add(time.Second), Supervisor: "s", Child: "w", Kind: supervisor.Restarted, Restarts: 1},
	}
	if got := tr.rec.all(); !slices.Equal(got, want) {
		t.Errorf("events:\n got %+v\nwant %+v", got, want)
	}
}

// TestStrategies runs every strategy with every restart type of the
// middle child b, which ends normally or fails; a and c are permanent.
func TestStrategies(t *testing.T) {
	// Whether b is restarted: the restart types' definition.
	restarted := map[supervisor.Restart]map[bool]bool{ // type -> failed -> restarted
		supervisor.Permanent: {false: true, true: true},
		supervisor.Transient: {false: false, true: true},
		supervisor.Temporary: {false: false, true: false},
	}
	// What a restart of b does, by strategy.
	restart := map[supervisor.Strategy]struct{ journal, events []string }{
		supervisor.OneForOne: {
			journal: []string{"start b last"},
			events:  []string{"s: restarted b #1"},
		},
		supervisor.OneForAll: {
			journal: []string{"stop c", "stop a", "start a initial", "start b last", "start c last"},
			events: []string{"s: stopped c", "s: stopped a",
				"s: restarted a #1", "s: restarted b #1", "s: restarted c #1"},
		},
		supervisor.RestForOne: {
			journal: []string{"stop c", "start b last", "start c last"},
			events:  []string{"s: stopped c", "s: restarted b #1", "s: restarted c #1"},
		},
	}
	for _, strategy := range []supervisor.Strategy{supervisor.OneForOne, supervisor.OneForAll, supervisor.RestForOne} {
		for _, typ := range []supervisor.Restart{supervisor.Permanent, supervisor.Transient, supervisor.Temporary} {
			for _, failed := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/failed=%v", strategy, typ, failed), func(t *testing.T) {
					tr := newTree(t)
					a, b, c := newWorker(tr.j, "a"), newWorker(tr.j, "b"), newWorker(tr.j, "c")
					s, _ := tr.start(supervisor.Spec{Name: "s", Strategy: strategy, Intensity: 5, Period: supervisor.Duration(time.Minute),
						Children: []supervisor.ChildSpec{
							{ID: "a", Child: a, StartFrom: supervisor.StartInitial},
							{ID: "b", Child: b, Restart: typ, StartFrom: supervisor.StartLast},
							{ID: "c", Child: c},
						}})
					tr.j.take()
					tr.rec.lines()

					var err error
					ending := "s: exited b"
					if failed {
						err, ending = boom, "s: failed b (boom)"
					}
					b.exit(t, err)
					got := which(t, s)

					if restarted[typ][failed] {
						r := restart[strategy]
						tr.expectJournal(r.journal...)
						tr.expectEvents(append([]string{ending}, r.events...)...)
						if want := []string{"a", "b", "c"}; !slices.Equal(got, want) {
							t.Errorf("children %q, want %q", got, want)
						}
						return
					}
					tr.expectJournal()
					tr.expectEvents(ending)
					want := []string{"a", "b(stopped)", "c"}
					if typ == supervisor.Temporary {
						want = []string{"a", "c"}
					}
					if !slices.Equal(got, want) {
						t.Errorf("children %q, want %q", got, want)
					}
				})
			}
		}
	}
}

// A temporary sibling stopped by a one_for_all restart is not restarted
// and is forgotten; a transient sibling that had ended normally is
// started with the others, as in OTP.
func TestOneForAllSiblings(t *testing.T) {
	tr := newTree(t)
	a, b, c := newWorker(tr.j, "a"), newWorker(tr.j, "b"), newWorker(tr.j, "c")
	s, _ := tr.start(supervisor.Spec{Name: "s", Strategy: supervisor.OneForAll, Intensity: 5, Period: supervisor.Duration(time.Minute),
		Children: []supervisor.ChildSpec{
			{ID: "a", Child: a, Restart: supervisor.Transient},
			{ID: "b", Child: b},
			{ID: "c", Child: c, Restart: supervisor.Temporary},
		}})
	a.exit(t, nil)
	which(t, s)
	tr.j.take()
	tr.rec.lines()

	b.exit(t, boom)
	if got, want := which(t, s), []string{"a", "b"}; !slices.Equal(got, want) {
		t.Errorf("children %q, want %q", got, want)
	}
	tr.expectJournal("stop c", "start a last", "start b last")
	tr.expectEvents("s: failed b (boom)", "s: stopped c", "s: restarted a #1", "s: restarted b #1")
}

// A nested supervisor that exceeds its intensity stops its children and
// fails; its parent treats it as a failed child and applies its own
// strategy (one_for_all here), restarting the subtree from its spec.
func TestIntensityEscalatesToParent(t *testing.T) {
	tr := newTree(t)
	x, w, v := newWorker(tr.j, "x"), newWorker(tr.j, "w"), newWorker(tr.j, "v")
	sub := tr.sup(supervisor.Spec{Name: "sub", Strategy: supervisor.OneForOne, Intensity: 1, Period: supervisor.Duration(10 * time.Second),
		Children: []supervisor.ChildSpec{
			{ID: "w", Child: w},
			{ID: "v", Child: v},
		}})
	root, rootExits := tr.start(supervisor.Spec{Name: "root", Strategy: supervisor.OneForAll, Intensity: 1, Period: supervisor.Duration(time.Minute),
		Children: []supervisor.ChildSpec{
			{ID: "x", Child: x},
			{ID: "sub", Child: sub, Shutdown: supervisor.Duration(time.Minute)},
		}})
	tr.expectJournal("start x initial", "start w initial", "start v initial")
	tr.expectEvents("root: started x", "sub: started w", "sub: started v", "root: started sub")

	w.exit(t, errors.New("boom1"))
	which(t, sub)
	tr.expectJournal("start w last")
	tr.expectEvents("sub: failed w (boom1)", "sub: restarted w #1")

	w.exit(t, errors.New("boom2"))
	eventually(t, "root to restart sub", func() bool { return tr.rec.len() >= 9 })
	reason := `supervisor: restart intensity exceeded (more than 1 in 10s): child "w": boom2`
	tr.expectJournal("stop v", "stop x", "start x last", "start w last", "start v last")
	tr.expectEvents(
		"sub: failed w (boom2) #1", "sub: stopped v", "sub: escalated ("+reason+")",
		"root: failed sub ("+reason+")", "root: stopped x", "root: restarted x #1",
		// sub begins a new run: its restart counts start again.
		"sub: started w", "sub: started v", "root: restarted sub #1",
	)
	if got, want := which(t, sub), []string{"w", "v"}; !slices.Equal(got, want) {
		t.Errorf("sub children %q, want %q", got, want)
	}
	if got, want := which(t, root), []string{"x", "sub"}; !slices.Equal(got, want) {
		t.Errorf("root children %q, want %q", got, want)
	}
	select {
	case err := <-rootExits:
		t.Fatalf("root exited: %v", err)
	default:
	}

	// Stopping the root stops the subtree, depth first, in reverse.
	if err := root.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	tr.expectJournal("stop v", "stop w", "stop x")
	tr.expectEvents("sub: stopped v", "sub: stopped w", "sub: shutdown", "root: stopped sub #1", "root: stopped x #1", "root: shutdown")
}

// Restarts count while they are less than Period old, by the injected
// clock; the root's escalation reaches its owner through exited.
func TestIntensityWindow(t *testing.T) {
	tr := newTree(t)
	w := newWorker(tr.j, "w")
	s, exits := tr.start(supervisor.Spec{Name: "s", Intensity: 2, Period: supervisor.Duration(10 * time.Second),
		Children: []supervisor.ChildSpec{{ID: "w", Child: w}}})
	fail := func() {
		t.Helper()
		w.exit(t, boom)
		which(t, s)
	}
	fail()
	fail() // two restarts at epoch: at the limit
	tr.clock.advance(10 * time.Second)
	fail() // the epoch restarts are now 10s old and no longer count
	tr.clock.advance(9 * time.Second)
	fail() // two within 10s
	tr.rec.lines()

	w.exit(t, boom) // a third within 10s
	err := <-exits
	if !errors.Is(err, supervisor.ErrIntensity) || !errors.Is(err, boom) {
		t.Errorf("exit error %v, want ErrIntensity wrapping boom", err)
	}
	tr.expectEvents("s: failed w (boom) #4", "s: escalated ("+err.Error()+")")
	if _, err := s.WhichChildren(context.Background()); !errors.Is(err, supervisor.ErrNotRunning) {
		t.Errorf("WhichChildren after escalation: %v, want ErrNotRunning", err)
	}
}

// A restart whose Start fails is retried through the mailbox, each try
// counting towards the intensity, until the supervisor escalates.
func TestRestartStartFailureEscalates(t *testing.T) {
	tr := newTree(t)
	a, b := newWorker(tr.j, "a"), newWorker(tr.j, "b")
	_, exits := tr.start(supervisor.Spec{Name: "s", Intensity: 2, Period: supervisor.Duration(time.Minute),
		Children: []supervisor.ChildSpec{{ID: "a", Child: a}, {ID: "b", Child: b}}})
	tr.j.take()
	tr.rec.lines()

	b.setStartErr(errors.New("no module"))
	b.exit(t, boom)
	err := <-exits
	if want := `supervisor: restart intensity exceeded (more than 2 in 1m0s): child "b": no module`; err.Error() != want {
		t.Errorf("exit error %q, want %q", err, want)
	}
	tr.expectJournal("start b failed", "start b failed", "stop a")
	tr.expectEvents("s: failed b (boom)", "s: start_failed b (no module)", "s: start_failed b (no module)",
		"s: stopped a", "s: escalated ("+err.Error()+")")
}

// Stop does not wait behind a restart whose Start hangs: when Stop's
// context ends, the Start is cancelled, and the queued retry never runs
// because the shutdown was queued first.
func TestStopAbortsHangingRestart(t *testing.T) {
	tr := newTree(t)
	w := newWorker(tr.j, "w")
	s := tr.sup(supervisor.Spec{Name: "s", Intensity: 5, Period: supervisor.Duration(time.Minute),
		Children: []supervisor.ChildSpec{{ID: "w", Child: w}}})
	if err := s.Start(context.Background(), supervisor.StartInitial, nil); err != nil {
		t.Fatal(err)
	}
	tr.j.take()
	tr.rec.lines()
	entered := w.hold()
	w.exit(t, boom)
	<-entered // the restart is inside w.Start

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := s.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stop: %v, want DeadlineExceeded", err)
	}
	tr.expectJournal("start w abandoned")
	tr.expectEvents("s: failed w (boom)", "s: start_failed w (context canceled)", "s: shutdown")
}

// A permanent child that ends normally is restarted too, so it counts
// towards the intensity; with intensity 0 the first one escalates.
func TestIntensityZero(t *testing.T) {
	tr := newTree(t)
	w := newWorker(tr.j, "w")
	_, exits := tr.start(supervisor.Spec{Name: "s", Period: supervisor.Duration(time.Second),
		Children: []supervisor.ChildSpec{{ID: "w", Child: w}}})
	tr.rec.lines()
	w.exit(t, nil)
	err := <-exits
	const want = `supervisor: restart intensity exceeded (more than 0 in 1s): child "w": exited`
	if err.Error() != want {
		t.Errorf("exit error %q, want %q", err, want)
	}
	tr.expectEvents("s: exited w", "s: escalated ("+want+")")
}

func TestStartFailureStopsStartedChildren(t *testing.T) {
	tr := newTree(t)
	a, b, c := newWorker(tr.j, "a"), newWorker(tr.j, "b"), newWorker(tr.j, "c")
	c.setStartErr(errors.New("no module"))
	s := tr.sup(supervisor.Spec{Name: "s", Children: []supervisor.ChildSpec{
		{ID: "a", Child: a}, {ID: "b", Child: b}, {ID: "c", Child: c},
	}})
	err := s.Start(context.Background(), supervisor.StartInitial, nil)
	if want := `supervisor: start child "c": no module`; err == nil || err.Error() != want {
		t.Fatalf("Start: %v, want %q", err, want)
	}
	tr.expectJournal("start a initial", "start b initial", "start c failed", "stop b", "stop a")
	tr.expectEvents("s: started a", "s: started b", "s: start_failed c (no module)", "s: stopped b", "s: stopped a")
	if _, err := s.WhichChildren(context.Background()); !errors.Is(err, supervisor.ErrNotRunning) {
		t.Errorf("WhichChildren after a failed Start: %v, want ErrNotRunning", err)
	}

	// Once the cause is gone the supervisor starts.
	c.setStartErr(nil)
	if err := s.Start(context.Background(), supervisor.StartInitial, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// A child that ignores the polite stop is forced down when its shutdown
// timeout passes, and the supervisor goes on stopping the others.
func TestShutdownTimeout(t *testing.T) {
	tr := newTree(t)
	a, stubborn := newWorker(tr.j, "a"), newWorker(tr.j, "stubborn")
	stubborn.stubborn = true
	s := tr.sup(supervisor.Spec{Name: "s", Children: []supervisor.ChildSpec{
		{ID: "a", Child: a},
		{ID: "stubborn", Child: stubborn, Shutdown: supervisor.Duration(20 * time.Millisecond)},
	}})
	if err := s.Start(context.Background(), supervisor.StartInitial, nil); err != nil {
		t.Fatal(err)
	}
	tr.j.take()
	tr.rec.lines()
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	tr.expectJournal("kill stubborn", "stop a")
	tr.expectEvents("s: killed stubborn (context deadline exceeded)", "s: stopped a", "s: shutdown")
}

// When Stop's own context ends first, the children still running are
// forced down at once and Stop reports the context's error.
func TestStopContext(t *testing.T) {
	tr := newTree(t)
	stubborn := newWorker(tr.j, "stubborn")
	stubborn.stubborn = true
	s := tr.sup(supervisor.Spec{Name: "s", Children: []supervisor.ChildSpec{
		{ID: "stubborn", Child: stubborn, Shutdown: supervisor.Duration(time.Hour)},
	}})
	if err := s.Start(context.Background(), supervisor.StartInitial, nil); err != nil {
		t.Fatal(err)
	}
	tr.rec.lines()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := s.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stop: %v, want DeadlineExceeded", err)
	}
	tr.expectEvents("s: killed stubborn (context deadline exceeded)", "s: shutdown")
}

// An exit reported by a child while the supervisor stops it belongs to an
// incarnation the supervisor ended itself: it is not a failure.
func TestExitDuringStopIgnored(t *testing.T) {
	tr := newTree(t)
	w := newWorker(tr.j, "w")
	w.sloppy = true
	s, _ := tr.start(supervisor.Spec{Name: "s", Children: []supervisor.ChildSpec{{ID: "w", Child: w}}})
	tr.rec.lines()
	ctx := context.Background()
	if err := s.TerminateChild(ctx, "w"); err != nil {
		t.Fatal(err)
	}
	if got, want := which(t, s), []string{"w(stopped)"}; !slices.Equal(got, want) {
		t.Errorf("children %q, want %q", got, want)
	}
	if err := s.RestartChild(ctx, "w"); err != nil {
		t.Fatal(err)
	}
	which(t, s)
	tr.expectEvents("s: stopped w", "s: restarted w #1")
}

func TestDynamicChildren(t *testing.T) {
	tr := newTree(t)
	a, d, tmp := newWorker(tr.j, "a"), newWorker(tr.j, "d"), newWorker(tr.j, "tmp")
	s, _ := tr.start(supervisor.Spec{Name: "s", Children: []supervisor.ChildSpec{{ID: "a", Child: a}}})
	tr.j.take()
	tr.rec.lines()
	ctx := context.Background()

	// StartChild appends and starts afresh, whatever StartFrom says.
	if err := s.StartChild(ctx, supervisor.ChildSpec{ID: "d", Child: d, StartFrom: supervisor.StartLast}); err != nil {
		t.Fatal(err)
	}
	if err := s.StartChild(ctx, supervisor.ChildSpec{ID: "tmp", Child: tmp, Restart: supervisor.Temporary}); err != nil {
		t.Fatal(err)
	}
	if got, want := which(t, s), []string{"a", "d", "tmp"}; !slices.Equal(got, want) {
		t.Errorf("children %q, want %q", got, want)
	}
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"duplicate", s.StartChild(ctx, supervisor.ChildSpec{ID: "d", Child: d}), supervisor.ErrChildExists},
		{"invalid", s.StartChild(ctx, supervisor.ChildSpec{ID: "e"}), supervisor.ErrInvalidSpec},
		{"restart running", s.RestartChild(ctx, "d"), supervisor.ErrChildRunning},
		{"delete running", s.DeleteChild(ctx, "d"), supervisor.ErrChildRunning},
		{"terminate unknown", s.TerminateChild(ctx, "nope"), supervisor.ErrUnknownChild},
		{"restart unknown", s.RestartChild(ctx, "nope"), supervisor.ErrUnknownChild},
		{"delete unknown", s.DeleteChild(ctx, "nope"), supervisor.ErrUnknownChild},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}

	// A dynamic child is supervised like the others.
	d.exit(t, boom)
	// A temporary child is forgotten once it ends.
	tmp.exit(t, nil)
	if got, want := which(t, s), []string{"a", "d"}; !slices.Equal(got, want) {
		t.Errorf("children %q, want %q", got, want)
	}

	// Terminate keeps the spec, Restart starts it from its StartFrom,
	// Delete forgets it.
	for _, op := range []func() error{
		func() error { return s.TerminateChild(ctx, "d") },
		func() error { return s.TerminateChild(ctx, "d") }, // not running: no-op
		func() error { return s.RestartChild(ctx, "d") },
		func() error { return s.TerminateChild(ctx, "d") },
		func() error { return s.DeleteChild(ctx, "d") },
	} {
		if err := op(); err != nil {
			t.Fatal(err)
		}
	}
	infos, err := s.WhichChildren(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []supervisor.ChildInfo{{ID: "a", Restart: supervisor.Permanent, Running: true}}; !slices.Equal(infos, want) {
		t.Errorf("WhichChildren %+v, want %+v", infos, want)
	}
	tr.expectJournal("start d initial", "start tmp initial", "start d last",
		"stop d", "start d last", "stop d")
	tr.expectEvents("s: started d", "s: started tmp",
		"s: failed d (boom)", "s: restarted d #1", "s: exited tmp",
		"s: stopped d #1", "s: restarted d #2", "s: stopped d #2", "s: deleted d #2")

	// A restarted supervisor begins again from its spec, so dynamic
	// children are gone.
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx, supervisor.StartInitial, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := which(t, s), []string{"a"}; !slices.Equal(got, want) {
		t.Errorf("children after a restart %q, want %q", got, want)
	}
}

func TestDynamicStartFailures(t *testing.T) {
	tr := newTree(t)
	a, tmp := newWorker(tr.j, "a"), newWorker(tr.j, "tmp")
	s, _ := tr.start(supervisor.Spec{Name: "s", Children: []supervisor.ChildSpec{
		{ID: "a", Child: a},
		{ID: "tmp", Child: tmp, Restart: supervisor.Temporary},
	}})
	tr.j.take()
	tr.rec.lines()
	ctx := context.Background()

	// A temporary child is forgotten when terminated.
	if err := s.TerminateChild(ctx, "tmp"); err != nil {
		t.Fatal(err)
	}
	// A child whose StartChild fails is not added.
	tmp.setStartErr(errors.New("no module"))
	err := s.StartChild(ctx, supervisor.ChildSpec{ID: "tmp", Child: tmp})
	if want := `supervisor: start child "tmp": no module`; err == nil || err.Error() != want {
		t.Errorf("StartChild: %v, want %q", err, want)
	}
	// A failed RestartChild leaves the child stopped.
	if err := s.TerminateChild(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	a.setStartErr(errors.New("no module"))
	err = s.RestartChild(ctx, "a")
	if want := `supervisor: restart child "a": no module`; err == nil || err.Error() != want {
		t.Errorf("RestartChild: %v, want %q", err, want)
	}
	if got, want := which(t, s), []string{"a(stopped)"}; !slices.Equal(got, want) {
		t.Errorf("children %q, want %q", got, want)
	}
	tr.expectJournal("stop tmp", "start tmp failed", "stop a", "start a failed")
	tr.expectEvents("s: stopped tmp", "s: start_failed tmp (no module)", "s: stopped a", "s: start_failed a (no module)")
}

func TestCallContext(t *testing.T) {
	tr := newTree(t)
	s, _ := tr.start(supervisor.Spec{Name: "s"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.WhichChildren(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("WhichChildren with a cancelled context: %v", err)
	}
	if err := s.StartChild(ctx, supervisor.ChildSpec{ID: "a", Child: newWorker(tr.j, "a")}); !errors.Is(err, context.Canceled) {
		t.Errorf("StartChild with a cancelled context: %v", err)
	}
	if got := which(t, s); len(got) != 0 {
		t.Errorf("children %q after a cancelled StartChild", got)
	}
}

// Many children fail concurrently, under all strategies, while callers
// ask the supervisor questions: every failure is seen once, and nothing
// races or leaks (run with -race).
func TestConcurrentFailures(t *testing.T) {
	for _, strategy := range []supervisor.Strategy{supervisor.OneForOne, supervisor.OneForAll, supervisor.RestForOne} {
		t.Run(string(strategy), func(t *testing.T) {
			tr := newTree(t)
			const n, failures = 4, 25
			var children []supervisor.ChildSpec
			var workers []*worker
			for i := range n {
				w := newWorker(tr.j, fmt.Sprint("w", i))
				workers = append(workers, w)
				children = append(children, supervisor.ChildSpec{ID: w.id, Child: w})
			}
			s, exits := tr.start(supervisor.Spec{Name: "s", Strategy: strategy, Intensity: n * failures, Period: supervisor.Duration(time.Minute), Children: children})

			var wg sync.WaitGroup
			for _, w := range workers {
				wg.Go(func() {
					deadline := time.Now().Add(10 * time.Second)
					for range failures {
						// The worker may be between a stop and a restart.
						for !w.tryExit(boom) {
							if time.Now().After(deadline) {
								t.Errorf("%s did not run again", w.id)
								return
							}
							time.Sleep(time.Millisecond)
						}
					}
				})
			}
			wg.Go(func() {
				for range 50 {
					if _, err := s.WhichChildren(context.Background()); err != nil {
						t.Error(err)
						return
					}
				}
			})
			wg.Wait()
			eventually(t, "all children to run again", func() bool {
				return slices.Equal(which(t, s), []string{"w0", "w1", "w2", "w3"})
			})
			failed := 0
			for _, e := range tr.rec.all() {
				if e.Kind == supervisor.Failed {
					failed++
				}
			}
			// Under one_for_one every failure is reported. Otherwise a
			// child may end just as a sibling's restart stops it; that
			// report is rightly ignored as stale.
			if failed > n*failures || strategy == supervisor.OneForOne && failed != n*failures {
				t.Errorf("%d failed events for %d failures", failed, n*failures)
			}
			select {
			case err := <-exits:
				t.Fatalf("escalated: %v", err)
			default:
			}
		})
	}
}
