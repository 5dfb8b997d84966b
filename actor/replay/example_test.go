package replay_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/replay"
)

// Record a counter's chain with a Recorder, as a node does, then replay
// it in a fresh runtime.
func Example() {
	ctx := context.Background()
	module, err := os.ReadFile("../../examples/counter/wat/counter.wasm")
	if err != nil {
		panic(err)
	}
	logger := slog.New(slog.DiscardHandler)
	spec := actor.Spec{ID: "counter-1", Module: module, Capabilities: []string{"log"}, Logger: logger}

	rt, err := actor.NewRuntime(ctx, actor.WithLogger(logger))
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)
	rec := replay.NewRecorder(nil, nil, nil)
	live := spec
	live.Clock, live.Entropy, live.Router = rec.Clock(), rec.Entropy(), rec.Router()

	var head chain.Head
	var events []chain.Event
	add := func(b chain.Body) {
		s, err := chain.Seal(head.Next("counter-1", b))
		if err != nil {
			panic(err)
		}
		head, events = s.Head(), append(events, s.Event)
	}
	handled := func(call chain.Call, payload, state, reply []byte) {
		inputs, out := rec.Take()
		add(&chain.Handled{Call: call, Payload: payload, Inputs: inputs, State: chain.Sum(state), Reply: reply, Out: out})
	}

	add(&chain.Spawn{Module: sha256.Sum256(module), Manifest: []byte("counter")})
	a, err := rt.Spawn(ctx, live) // runs theater_init
	if err != nil {
		panic(err)
	}
	handled(chain.CallInit, nil, a.State(), nil)
	for _, n := range []byte{2, 3} {
		state, err := a.Deliver(ctx, []byte{n})
		if err != nil {
			panic(err)
		}
		handled(chain.CallSend, []byte{n}, state, nil)
	}
	if err := a.Stop(ctx); err != nil {
		panic(err)
	}

	rep, err := replay.Replay(ctx, rt, spec, events)
	if err != nil {
		panic(err)
	}
	fmt.Println(&rep)
	fmt.Printf("state %x\n", rep.State)
	// Output:
	// counter-1: 4 events replayed to seq 4, 3 handler outcomes, all states equal
	// state 05
}

// A chain in which the actor was stopped and spawned again with another
// module: WithSpecFor gives replay the spec of the second spawn.
func ExampleWithSpecFor() {
	ctx := context.Background()
	logger := slog.New(slog.DiscardHandler)
	read := func(path string) []byte {
		m, err := os.ReadFile(path)
		if err != nil {
			panic(err)
		}
		return m
	}
	wat, c := read("../../examples/counter/wat/counter.wasm"), read("../../examples/counter/c/counter.wasm")
	modules := map[chain.Hash][]byte{sha256.Sum256(wat): wat, sha256.Sum256(c): c}
	specOf := func(module []byte) actor.Spec {
		return actor.Spec{ID: "counter-1", Module: module, Capabilities: []string{"log"}, Logger: logger}
	}
	rt, err := actor.NewRuntime(ctx, actor.WithLogger(logger))
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)

	var head chain.Head
	var events []chain.Event
	add := func(b chain.Body) {
		s, err := chain.Seal(head.Next("counter-1", b))
		if err != nil {
			panic(err)
		}
		head, events = s.Head(), append(events, s.Event)
	}
	for _, module := range [][]byte{wat, c} {
		add(&chain.Spawn{Module: sha256.Sum256(module), Manifest: []byte("counter")})
		a, err := rt.Spawn(ctx, specOf(module))
		if err != nil {
			panic(err)
		}
		add(&chain.Handled{Call: chain.CallInit, State: chain.Sum(a.State())})
		state, err := a.Deliver(ctx, []byte{4})
		if err != nil {
			panic(err)
		}
		add(&chain.Handled{Call: chain.CallSend, Payload: []byte{4}, State: chain.Sum(state)})
		if err := a.Kill(ctx); err != nil {
			panic(err)
		}
		add(&chain.Stop{Reason: "stopped"})
	}

	rep, err := replay.Replay(ctx, rt, specOf(wat), events)
	if err != nil {
		panic(err)
	}
	fmt.Println(rep.Divergence.What, "at event", rep.Divergence.Seq)
	rep, err = replay.Replay(ctx, rt, specOf(wat), events,
		replay.WithSpecFor(func(_ context.Context, sp *chain.Spawn) (actor.Spec, error) {
			return specOf(modules[sp.Module]), nil
		}))
	if err != nil {
		panic(err)
	}
	fmt.Println(&rep)
	// Output:
	// module at event 5
	// counter-1: 8 events replayed to seq 8, 4 handler outcomes, all states equal
}
