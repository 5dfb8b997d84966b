package actor_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/theater-go/theater/actor"
)

// TestDeliver checks that Deliver returns after the handler, with the
// state that handler left even while other senders race it, and returns
// the handler's failure.
func TestDeliver(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	a, err := rt.Spawn(ctx, actor.Spec{ID: "deliver", Module: counter(t, "wat"), Capabilities: []string{"log"}})
	if err != nil {
		t.Fatal(err)
	}
	state, err := a.Deliver(ctx, u64(t, 5))
	if err != nil || !bytes.Equal(state, u64(t, 5)) {
		t.Fatalf("Deliver: state %x, %v; want %x", state, err, u64(t, 5))
	}

	// Concurrent deliveries of 1 each: every returned state is a distinct
	// total, so each is the state right after its own handler.
	const n = 50
	var wg sync.WaitGroup
	seen := make(chan string, n)
	for range n {
		wg.Go(func() {
			st, err := a.Deliver(ctx, u64(t, 1))
			if err != nil {
				t.Error(err)
				return
			}
			seen <- string(st)
		})
	}
	wg.Wait()
	close(seen)
	distinct := map[string]bool{}
	for s := range seen {
		distinct[s] = true
	}
	if len(distinct) != n {
		t.Fatalf("%d distinct states from %d deliveries", len(distinct), n)
	}
	if got := a.State(); !bytes.Equal(got, u64(t, 5+n)) {
		t.Fatalf("final state %x, want %x", got, u64(t, 5+n))
	}

	// A message the guest rejects comes back as its guest error; the
	// state is unchanged.
	_, err = a.Deliver(ctx, []byte{0xa1, 'x'})
	var f actor.Failure
	if !errors.As(err, &f) || f.Kind != actor.GuestError {
		t.Fatalf("Deliver of a non-uint: %v, want a guest error", err)
	}
	if got := a.State(); !bytes.Equal(got, u64(t, 5+n)) {
		t.Fatalf("state after a failed delivery %x, want %x", got, u64(t, 5+n))
	}
}
