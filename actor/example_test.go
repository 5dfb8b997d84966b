package actor_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/theater-go/theater/actor"
)

// Spawn the WAT counter and talk to it. Its messages, replies and state
// are msgpack unsigned integers: 0x05 is 5, 0x07 is 7.
func Example() {
	ctx := context.Background()
	rt, err := actor.NewRuntime(ctx, actor.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)

	wasm, err := os.ReadFile("../examples/counter/wat/counter.wasm")
	if err != nil {
		panic(err)
	}
	counter, err := rt.Spawn(ctx, actor.Spec{
		ID:           "counter-1",
		Manifest:     "counter",
		Module:       wasm,
		Capabilities: []string{"log"},
	})
	if err != nil {
		panic(err)
	}
	if err := counter.Send(ctx, []byte{0x05}); err != nil {
		panic(err)
	}
	total, err := counter.Request(ctx, []byte{0x07})
	if err != nil {
		panic(err)
	}
	fmt.Printf("total %d, state % x\n", total[0], counter.State())

	// Without the log capability the module is refused.
	_, err = rt.Spawn(ctx, actor.Spec{ID: "counter-2", Manifest: "counter", Module: wasm})
	fmt.Println(err)
	// Output:
	// total 12, state 0c
	// actor: spawn "counter-2" (manifest "counter"): actor: module refused: abi: import "theater:actor/log@0.1.0" "write": capability not granted: "log"
}
