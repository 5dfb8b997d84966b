package actor_test

import (
	"context"
	"errors"
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

// An actor spawned from its manifest gets the manifest's limits, types
// and initial state, as on a node.
func ExampleLoadSpec() {
	ctx := context.Background()
	rt, err := actor.NewRuntime(ctx, actor.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)

	spec, err := actor.LoadSpec("counter-1", "../examples/counter/counter.toml")
	if err != nil {
		panic(err)
	}
	counter, err := rt.Spawn(ctx, spec)
	if err != nil {
		panic(err)
	}
	total, err := counter.Request(ctx, []byte{0x05})
	fmt.Printf("total % x, %v; mailbox %d\n", total, err, spec.Limits.MailboxLen)
	// The manifest types the messages as u32: a string is refused.
	_, err = counter.Request(ctx, []byte{0xa1, 'x'})
	fmt.Println(errors.Is(err, actor.ErrInvalidMessage))
	// Output:
	// total 05, <nil>; mailbox 1024
	// true
}

// A trap ends an actor by default; OnExit tells its owner, on a goroutine
// where the owner may spawn it again.
func ExampleExit() {
	ctx := context.Background()
	rt, err := actor.NewRuntime(ctx, actor.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)

	wasm, err := os.ReadFile("testdata/guests/trap.wasm")
	if err != nil {
		panic(err)
	}
	exits := make(chan actor.Exit, 1)
	a, err := rt.Spawn(ctx, actor.Spec{ID: "fragile", Module: wasm, State: []byte{0x90},
		OnExit: func(x actor.Exit) { exits <- x }})
	if err != nil {
		panic(err)
	}
	_, err = a.Request(ctx, []byte{0})
	fmt.Println(err != nil)
	x := <-exits
	fmt.Println(x)
	_, err = a.Request(ctx, []byte{0})
	fmt.Println(err)
	_, registered := rt.Actor("fragile")
	fmt.Println(registered)
	// Output:
	// true
	// "fragile" failed: trap in theater_handle_request
	// actor: "fragile" has ended: it failed in theater_handle_request: trap
	// false
}
