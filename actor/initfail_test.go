package actor_test

import (
	"context"
	"errors"
	"testing"

	"github.com/theater-go/theater/actor"
)

// TestFailedInitLeavesNothing spawns an actor whose theater_init returns
// an err (the relay refuses an empty state): the spawn fails, and neither
// the id nor the instance stays behind, even with the idle timer off.
func TestFailedInitLeavesNothing(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	relay := wasmFile(t, "../examples/relay/wat/relay.wasm")
	for range 3 {
		a, err := rt.Spawn(ctx, actor.Spec{ID: "relay", Module: relay, Capabilities: []string{"message"},
			Limits: actor.Limits{IdleTimeout: -1}})
		var f actor.Failure
		if a != nil || !errors.As(err, &f) || f.Kind != actor.GuestError {
			t.Fatalf("spawn with an empty state: %v, %v; want a guest error", a, err)
		}
		if n, live := rt.Len(), rt.Live(); n != 0 || live != 0 {
			t.Fatalf("after a failed init: Len %d, Live %d; want 0, 0", n, live)
		}
		if _, ok := rt.Actor("relay"); ok {
			t.Fatal("the id of a failed spawn is still registered")
		}
	}
}
