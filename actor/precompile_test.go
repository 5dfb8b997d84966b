package actor_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/theater-go/theater/actor"
)

// TestPrecompile: after Precompile, a spawn by digest alone (no module
// bytes) starts the actor, as it does only for a compiled module; a
// module below its memory limit's minimum is refused as Spawn refuses it.
func TestPrecompile(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	wat := counter(t, "wat")
	d := actor.Digest(sha256.Sum256(wat))
	if _, err := rt.Spawn(ctx, actor.Spec{ID: "before", Digest: d, Capabilities: []string{"log"}}); !errors.Is(err, actor.ErrUnknownModule) {
		t.Fatalf("by digest before precompiling: %v", err)
	}
	if err := rt.Precompile(ctx, actor.Spec{ID: "p", Module: wat}); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Spawn(ctx, actor.Spec{ID: "after", Digest: d, Capabilities: []string{"log"}}); err != nil {
		t.Fatalf("by digest after precompiling: %v", err)
	}
	err := rt.Precompile(ctx, actor.Spec{ID: "small", Module: counter(t, "go"), Limits: actor.Limits{MemoryPages: 2}})
	if !errors.Is(err, actor.ErrRefused) {
		t.Fatalf("memory below the module's minimum: %v", err)
	}
}
