package supervisor_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/theater-go/theater/supervisor"
)

func TestBackoffDelay(t *testing.T) {
	spec, err := supervisor.Validate(supervisor.Spec{Backoff: &supervisor.Backoff{Initial: supervisor.Duration(100 * time.Millisecond), Max: supervisor.Duration(time.Second), Multiplier: 3}})
	if err != nil {
		t.Fatal(err)
	}
	var got []time.Duration
	for n := range 5 {
		got = append(got, spec.Backoff.Delay(n))
	}
	want := []time.Duration{100 * time.Millisecond, 300 * time.Millisecond, 900 * time.Millisecond, time.Second, time.Second}
	if !slices.Equal(got, want) {
		t.Errorf("delays %v, want %v", got, want)
	}
	if d := spec.Backoff.Delay(1 << 20); d != time.Second {
		t.Errorf("a huge exponent gives %v, want the max", d)
	}
	// Defaults: multiplier 2, max 30s.
	spec, err = supervisor.Validate(supervisor.Spec{Backoff: &supervisor.Backoff{Initial: supervisor.Duration(time.Second)}})
	if err != nil {
		t.Fatal(err)
	}
	if b := *spec.Backoff; b.Multiplier != supervisor.DefaultBackoffMultiplier || time.Duration(b.Max) != supervisor.DefaultBackoffMax {
		t.Errorf("defaults %+v", b)
	}
}

func TestBackoffValidate(t *testing.T) {
	ms := func(n int) supervisor.Duration { return supervisor.Duration(time.Duration(n) * time.Millisecond) }
	for _, tc := range []struct {
		b    supervisor.Backoff
		want string
	}{
		{supervisor.Backoff{}, "backoff: initial: 0s is not positive"},
		{supervisor.Backoff{Initial: ms(-1)}, "backoff: initial: -1ms is not positive"},
		{supervisor.Backoff{Initial: ms(10), Max: ms(5)}, "backoff: max: 5ms is less than initial 10ms"},
		{supervisor.Backoff{Initial: ms(10), Multiplier: 0.5}, "backoff: multiplier: 0.5 is not a finite number of at least 1"},
	} {
		_, err := supervisor.Validate(supervisor.Spec{Backoff: &tc.b})
		if !errors.Is(err, supervisor.ErrInvalidSpec) || err.Error() != "supervisor: invalid spec: "+tc.want {
			t.Errorf("%+v: %v, want %q", tc.b, err, tc.want)
		}
	}
}

// TestBackoffRestarts: a failing child waits Initial, then Multiplier
// times longer per restart within Period, up to Max; the supervisor
// keeps answering meanwhile; a Period without restarts resets the delay.
func TestBackoffRestarts(t *testing.T) {
	tr := newTree(t)
	w := newWorker(tr.j, "w")
	s, _ := tr.start(supervisor.Spec{Name: "s", Intensity: 10, Period: supervisor.Duration(time.Minute),
		Backoff:  &supervisor.Backoff{Initial: supervisor.Duration(100 * time.Millisecond), Max: supervisor.Duration(time.Second), Multiplier: 3},
		Children: []supervisor.ChildSpec{{ID: "w", Child: w}}})
	tr.expectJournal("start w initial")
	tr.rec.lines()

	fail := func(delay time.Duration, restarts int) {
		t.Helper()
		w.exit(t, boom)
		// While the delay runs the child is down and the supervisor answers.
		if got := which(t, s); !slices.Equal(got, []string{"w(stopped)"}) {
			t.Errorf("children during the backoff %q", got)
		}
		tr.clock.advance(delay - time.Millisecond)
		if got := which(t, s); !slices.Equal(got, []string{"w(stopped)"}) {
			t.Errorf("children before the delay is over %q", got)
		}
		tr.clock.advance(time.Millisecond)
		if got := which(t, s); !slices.Equal(got, []string{"w"}) {
			t.Errorf("children after the delay %q", got)
		}
		tr.expectJournal("start w last")
		prev := ""
		if restarts > 1 {
			prev = " #" + string(rune('0'+restarts-1))
		}
		tr.expectEvents("s: failed w (boom)"+prev, "s: restart_delayed w"+prev+" +"+delay.String(), "s: restarted w #"+string(rune('0'+restarts)))
	}
	fail(100*time.Millisecond, 1)
	fail(300*time.Millisecond, 2)
	fail(900*time.Millisecond, 3)
	fail(time.Second, 4)
	tr.clock.advance(time.Minute) // a quiet period: the delay resets
	fail(100*time.Millisecond, 5)
}

// A restart that waits on backoff counts towards the intensity when it is
// decided: the failure that exceeds it escalates at once, with no timer.
func TestBackoffCountsTowardsIntensity(t *testing.T) {
	tr := newTree(t)
	w := newWorker(tr.j, "w")
	_, exits := tr.start(supervisor.Spec{Name: "s", Intensity: 1, Period: supervisor.Duration(time.Minute),
		Backoff:  &supervisor.Backoff{Initial: supervisor.Duration(time.Second)},
		Children: []supervisor.ChildSpec{{ID: "w", Child: w}}})
	w.exit(t, boom)
	eventually(t, "the delayed restart", func() bool { return len(tr.clock.pending()) == 1 })
	w2 := tr.clock.pending()
	if !slices.Equal(w2, []time.Duration{time.Second}) {
		t.Errorf("pending timers %v", w2)
	}
	tr.clock.advance(time.Second)
	eventually(t, "the restart", func() bool { return tr.rec.len() == 4 })
	w.exit(t, boom)
	err := <-exits
	if !errors.Is(err, supervisor.ErrIntensity) {
		t.Fatalf("exit %v, want ErrIntensity", err)
	}
	if p := tr.clock.pending(); len(p) != 0 {
		t.Errorf("timers left after escalation: %v", p)
	}
	tr.rec.lines()
}

// TerminateChild cancels a restart waiting on backoff; Stop cancels the
// timer too, so nothing starts after the supervisor has stopped.
func TestBackoffCancelled(t *testing.T) {
	tr := newTree(t)
	a, b := newWorker(tr.j, "a"), newWorker(tr.j, "b")
	s := tr.sup(supervisor.Spec{Name: "s", Intensity: 10, Period: supervisor.Duration(time.Minute),
		Backoff:  &supervisor.Backoff{Initial: supervisor.Duration(time.Second)},
		Children: []supervisor.ChildSpec{{ID: "a", Child: a}, {ID: "b", Child: b}}})
	ctx := context.Background()
	if err := s.Start(ctx, supervisor.StartInitial, nil); err != nil {
		t.Fatal(err)
	}
	a.exit(t, boom)
	which(t, s)
	if err := s.RestartChild(ctx, "a"); !errors.Is(err, supervisor.ErrChildRunning) {
		t.Errorf("RestartChild during the backoff: %v, want ErrChildRunning", err)
	}
	if err := s.TerminateChild(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	tr.clock.advance(time.Second)
	if got := which(t, s); !slices.Equal(got, []string{"a(stopped)", "b"}) {
		t.Errorf("children after a cancelled backoff %q", got)
	}
	b.exit(t, boom)
	which(t, s)
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if p := tr.clock.pending(); len(p) != 0 {
		t.Errorf("timers left after Stop: %v", p)
	}
	tr.expectJournal("start a initial", "start b initial") // both ended on their own; neither restarted
}

// With one_for_all the group is stopped at once and started together
// when the delay of the child that failed is over.
func TestBackoffOneForAll(t *testing.T) {
	tr := newTree(t)
	a, b := newWorker(tr.j, "a"), newWorker(tr.j, "b")
	s, _ := tr.start(supervisor.Spec{Name: "s", Strategy: supervisor.OneForAll, Intensity: 10, Period: supervisor.Duration(time.Minute),
		Backoff:  &supervisor.Backoff{Initial: supervisor.Duration(time.Second)},
		Children: []supervisor.ChildSpec{{ID: "a", Child: a}, {ID: "b", Child: b}}})
	tr.expectJournal("start a initial", "start b initial")
	tr.rec.lines()
	b.exit(t, boom)
	if got := which(t, s); !slices.Equal(got, []string{"a(stopped)", "b(stopped)"}) {
		t.Errorf("children during the backoff %q", got)
	}
	tr.expectJournal("stop a")
	tr.clock.advance(time.Second)
	which(t, s)
	tr.expectJournal("start a last", "start b last")
	tr.expectEvents("s: failed b (boom)", "s: stopped a", "s: restart_delayed b +1s", "s: restarted a #1", "s: restarted b #1")
}
