package actor_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/supervisor"
)

// actorChild makes an actor a supervisor.Child: the few lines the node's
// adapter needs. A restart from the last state resumes from the state the
// previous incarnation ended with.
type actorChild struct {
	rt   *actor.Runtime
	spec actor.Spec

	mu sync.Mutex
	a  *actor.Actor
}

func (c *actorChild) Start(ctx context.Context, from supervisor.StartFrom, exited func(error)) error {
	spec := c.spec
	c.mu.Lock()
	last := c.a
	c.mu.Unlock()
	if from == supervisor.StartLast && last != nil {
		spec.State, spec.Resume = last.State(), true
	}
	spec.OnExit = func(x actor.Exit) { exited(x.Err()) }
	a, err := c.rt.Spawn(ctx, spec)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.a = a
	c.mu.Unlock()
	return nil
}

func (c *actorChild) Stop(ctx context.Context) error {
	c.mu.Lock()
	a := c.a
	c.mu.Unlock()
	if a == nil {
		return nil
	}
	return a.Stop(ctx)
}

// events collects a supervisor's events.
type events struct {
	mu   sync.Mutex
	list []supervisor.Event
}

func (e *events) Record(ev supervisor.Event) {
	e.mu.Lock()
	e.list = append(e.list, ev)
	e.mu.Unlock()
}

// wait polls until an event of kind for child has been recorded.
func (e *events) wait(t *testing.T, child string, kind supervisor.EventKind) supervisor.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		e.mu.Lock()
		for _, ev := range e.list {
			if ev.Child == child && ev.Kind == kind {
				e.mu.Unlock()
				return ev
			}
		}
		e.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no %s event for %s", kind, child)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestSupervisedActors runs real trapping actors under a real
// supervisor: the permanent worker is restarted from its last state when
// a message makes it trap, the temporary one is not, and stopping the
// supervisor stops every actor.
func TestSupervisedActors(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	trap := hostile(t, "trap")
	start := []byte{0x91, 0x07} // [7]: the trap guest keeps whatever state it is given
	var evs events
	sup, err := supervisor.New(supervisor.Spec{Name: "root", Intensity: 5, Period: supervisor.Duration(time.Minute),
		Children: []supervisor.ChildSpec{
			{ID: "worker", Child: &actorChild{rt: rt, spec: actor.Spec{ID: "worker", Module: trap, State: start}}},
			{ID: "temp", Restart: supervisor.Temporary, Child: &actorChild{rt: rt, spec: actor.Spec{ID: "temp", Module: trap, State: start}}},
		}}, supervisor.WithEvents(&evs))
	if err != nil {
		t.Fatal(err)
	}
	if err := sup.Start(ctx, supervisor.StartInitial, func(error) {}); err != nil {
		t.Fatal(err)
	}
	first, ok := rt.Actor("worker")
	if !ok {
		t.Fatal("the worker was not spawned")
	}
	began := time.Now()
	if err := first.Send(ctx, []byte{0}); err != nil {
		t.Fatal(err)
	}
	evs.wait(t, "worker", supervisor.Restarted)
	t.Logf("from the send that trapped to the restarted worker: %v", time.Since(began))
	if ev := evs.wait(t, "worker", supervisor.Failed); ev.Reason == "" {
		t.Error("the failure event has no reason")
	}
	second, ok := rt.Actor("worker")
	if !ok || second == first {
		t.Fatal("the worker was not restarted")
	}
	if !bytes.Equal(second.State(), start) {
		t.Errorf("restarted worker's state %x, want %x", second.State(), start)
	}
	var f actor.Failure
	if _, err := second.Request(ctx, []byte{0}); !errors.As(err, &f) || f.Kind != actor.Trap {
		t.Errorf("the restarted worker answered %v, want a trap", err)
	}
	evs.wait(t, "worker", supervisor.Restarted) // twice now
	temp, ok := rt.Actor("temp")
	if !ok {
		t.Fatal("the temporary child was not spawned")
	}
	if err := temp.Send(ctx, []byte{0}); err != nil {
		t.Fatal(err)
	}
	evs.wait(t, "temp", supervisor.Failed)
	children, err := sup.WhichChildren(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(children) != 1 || children[0].ID != "worker" {
		t.Errorf("children %+v, want the worker alone", children)
	}
	if _, ok := rt.Actor("temp"); ok {
		t.Error("the temporary child was restarted")
	}
	if err := sup.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if n := rt.Len(); n != 0 {
		t.Errorf("%d actors left after the supervisor stopped", n)
	}
}
