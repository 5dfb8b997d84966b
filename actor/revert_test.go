package actor_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/theater-go/theater/actor"
)

// TestRevert: Revert undoes exactly the last successful handler call's
// state change and closes the instance; it refuses when there is nothing
// to undo (twice in a row, after a failed call, after hibernation).
func TestRevert(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	a, err := rt.Spawn(ctx, actor.Spec{ID: "revert", Module: counter(t, "wat"), Capabilities: []string{"log"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []uint64{5, 3} {
		if _, err := a.Deliver(ctx, u64(t, n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Revert(ctx); err != nil {
		t.Fatal(err)
	}
	if got := a.State(); !bytes.Equal(got, u64(t, 5)) || a.Live() {
		t.Fatalf("after revert: state %x (want %x), live %v", got, u64(t, 5), a.Live())
	}
	if err := a.Revert(ctx); !errors.Is(err, actor.ErrNotRevertable) {
		t.Fatalf("second revert: %v", err)
	}
	if st, err := a.Deliver(ctx, u64(t, 1)); err != nil || !bytes.Equal(st, u64(t, 6)) {
		t.Fatalf("deliver after revert: %x, %v", st, err)
	}
	if _, err := a.Deliver(ctx, []byte{0xa1, 'x'}); err == nil {
		t.Fatal("a non-uint was accepted")
	}
	if err := a.Revert(ctx); !errors.Is(err, actor.ErrNotRevertable) {
		t.Fatalf("revert after a failed call: %v", err)
	}
	if _, err := a.Deliver(ctx, u64(t, 1)); err != nil {
		t.Fatal(err)
	}
	if err := a.Hibernate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Revert(ctx); !errors.Is(err, actor.ErrNotRevertable) {
		t.Fatalf("revert after hibernation: %v", err)
	}
	if got := a.State(); !bytes.Equal(got, u64(t, 7)) {
		t.Fatalf("state %x, want %x", got, u64(t, 7))
	}
}
