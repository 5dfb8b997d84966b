package actor_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
)

// TestOnHibernate: the owner is told when the idle timer closes the
// instance, not when it hibernates the actor itself; Instances counts the
// instance each wake opens.
func TestOnHibernate(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	var told atomic.Int32
	a, err := rt.Spawn(ctx, actor.Spec{ID: "sleepy", Module: counter(t, "wat"), Capabilities: []string{"log"}, State: []byte{0},
		Limits: actor.Limits{IdleTimeout: 10 * time.Millisecond}, OnHibernate: func() { told.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	if n := a.Instances(); n != 1 {
		t.Fatalf("%d instances after spawn, want 1", n)
	}
	deadline := time.Now().Add(10 * time.Second)
	for told.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("not told of the idle hibernation")
		}
		time.Sleep(time.Millisecond) // polling the idle timer's effect, with a deadline
	}
	if a.Live() {
		t.Fatal("told while the instance is live")
	}
	if _, err := a.Request(ctx, []byte{1}); err != nil {
		t.Fatal(err)
	}
	if n := a.Instances(); n != 2 {
		t.Fatalf("%d instances after a wake, want 2", n)
	}

	// Without an idle timeout only Hibernate closes the instance, and it
	// tells nothing.
	var toldAwake atomic.Int32
	b, err := rt.Spawn(ctx, actor.Spec{ID: "awake", Module: counter(t, "wat"), Capabilities: []string{"log"}, State: []byte{0},
		OnHibernate: func() { toldAwake.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Hibernate(ctx); err != nil {
		t.Fatal(err)
	}
	if b.Live() || toldAwake.Load() != 0 {
		t.Fatalf("live %v, told %d times; want closed and not told", b.Live(), toldAwake.Load())
	}
}
