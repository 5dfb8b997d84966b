package actor_test

import (
	"context"
	"testing"

	"github.com/theater-go/theater/actor"
)

// TestHostCallFuel: every host call costs HostCallFuel on top of its
// instructions, so n host calls cost n times the same more than none; a
// fuel limit stops a host-call flood as out of fuel; and the fuel of each
// call (Actor.LastFuel) is the same on another runtime, after a
// hibernation, and for an actor resumed from the state before the call,
// as a replay from a snapshot does.
func TestHostCallFuel(t *testing.T) {
	ctx := context.Background()
	spawn := func(rt *actor.Runtime, spec actor.Spec) *actor.Actor {
		spec.Module, spec.Capabilities = hostile(t, "hostcalls"), []string{"log"}
		a, err := rt.Spawn(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	fuel := func(a *actor.Actor, n uint32) uint64 {
		if _, err := a.Request(ctx, workMsg(n)); err != nil {
			t.Fatal(err)
		}
		return a.LastFuel()
	}
	rt1, rt2 := newRuntime(t, actor.WithLogger(discard())), newRuntime(t, actor.WithLogger(discard()))
	a := spawn(rt1, actor.Spec{ID: "a"})
	if a.LastFuel() == 0 {
		t.Fatal("no fuel recorded for theater_init")
	}
	f0, f10, f20 := fuel(a, 0), fuel(a, 10), fuel(a, 20)
	if f20-f10 != f10-f0 || f10-f0 < 10*actor.HostCallFuel || f10-f0 > 10*(actor.HostCallFuel+20) {
		t.Fatalf("fuel of 0, 10, 20 host calls: %d, %d, %d; each call should cost %d and its few instructions", f0, f10, f20, actor.HostCallFuel)
	}

	var want []uint64
	for _, n := range []uint32{0, 1, 7, 300} {
		want = append(want, fuel(a, n))
	}
	b := spawn(rt2, actor.Spec{ID: "b"})
	for i, n := range []uint32{0, 1, 7, 300} {
		if i == 2 {
			if err := b.Hibernate(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if got := fuel(b, n); got != want[i] {
			t.Fatalf("%d host calls: fuel %d on another runtime, %d on the first", n, got, want[i])
		}
		r := spawn(rt2, actor.Spec{ID: "r" + string(rune('0'+i)), Resume: true, State: b.State()})
		if got := fuel(r, n); got != want[i] {
			t.Fatalf("%d host calls: fuel %d resumed from the state, %d live", n, got, want[i])
		}
	}

	// A flood under a fuel limit: out of fuel, after the same fuel on
	// every runtime.
	var spent []uint64
	for _, rt := range []*actor.Runtime{rt1, rt2} {
		c := spawn(rt, actor.Spec{ID: "flood", Limits: actor.Limits{Fuel: 50 * actor.HostCallFuel}})
		_, err := c.Request(ctx, workMsg(1_000_000))
		spent = append(spent, failureOf(t, err, actor.OutOfFuel).Fuel)
	}
	if spent[0] != spent[1] || spent[0] < 50*actor.HostCallFuel {
		t.Fatalf("flood stopped after %d and %d units, limit %d", spent[0], spent[1], 50*actor.HostCallFuel)
	}
}
