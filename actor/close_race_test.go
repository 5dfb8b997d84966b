package actor_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/theater-go/theater/actor"
)

// TestSpawnRacingClose spawns modules the runtime has not compiled yet
// while the runtime closes: each spawn either succeeds (and its actor is
// killed by Close) or fails with ErrClosed; the host never panics. It
// used to panic inside wazero when Close ran under a CompileModule.
func TestSpawnRacingClose(t *testing.T) {
	ctx := context.Background()
	modules := [][]byte{counter(t, "wat"), wasmFile(t, "testdata/guests/trap.wasm"), counter(t, "c")}
	rounds := 100
	if testing.Short() {
		rounds = 20
	}
	for i := range rounds {
		rt, err := actor.NewRuntime(ctx, actor.WithLogger(discard()))
		if err != nil {
			t.Fatal(err)
		}
		var wg, started sync.WaitGroup
		errs := make([]error, len(modules))
		for k, m := range modules {
			wg.Add(1)
			started.Add(1)
			go func() {
				defer wg.Done()
				started.Done()
				_, errs[k] = rt.Spawn(ctx, actor.Spec{ID: fmt.Sprint("a", k), Module: m, State: u64(t, 0)})
			}()
		}
		started.Wait() // the spawns are on their way, most of them compiling
		if err := rt.Close(ctx); err != nil {
			t.Fatalf("round %d: close: %v", i, err)
		}
		wg.Wait()
		for k, err := range errs {
			if err != nil && !errors.Is(err, actor.ErrClosed) && !errors.Is(err, actor.ErrRefused) && !errors.Is(err, actor.ErrKilled) && !errors.Is(err, actor.ErrStopped) {
				t.Errorf("round %d: spawn of module %d: %v", i, k, err)
			}
		}
		if n := rt.Len(); n != 0 {
			t.Fatalf("round %d: %d actors left after Close", i, n)
		}
	}
}
