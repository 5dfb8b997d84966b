package actor_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/theater-go/theater/actor"
)

// A fuel limit bounds the work of each handler call deterministically:
// the work guest loops as often as its message says, and a call that
// would pass the limit fails as out of fuel, after the same fuel on every
// run.
func ExampleLimits_fuel() {
	ctx := context.Background()
	rt, err := actor.NewRuntime(ctx, actor.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)
	wasm, err := os.ReadFile("testdata/guests/work.wasm")
	if err != nil {
		panic(err)
	}
	a, err := rt.Spawn(ctx, actor.Spec{ID: "work", Module: wasm, Limits: actor.Limits{Fuel: 100_000},
		FailurePolicy: actor.RecreateOnFailure})
	if err != nil {
		panic(err)
	}
	for _, n := range []uint32{1000, 1_000_000} {
		_, err := a.Request(ctx, binary.LittleEndian.AppendUint32(nil, n))
		var f actor.Failure
		if errors.As(err, &f) {
			fmt.Printf("%d iterations: %v after %d units\n", n, f.Kind, f.Fuel)
		} else {
			fmt.Printf("%d iterations: %v\n", n, err)
		}
	}
	// Output:
	// 1000 iterations: <nil>
	// 1000000 iterations: out of fuel after 100014 units
}
