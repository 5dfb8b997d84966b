package actor_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"

	"github.com/theater-go/theater/actor"
)

// Modules are pre-initialised when they are compiled; one whose
// initialisation calls a Theater import runs it in every instance
// instead. Each call's fuel is reported, host calls included.
func ExampleRuntime_CompileStats() {
	ctx := context.Background()
	rt, err := actor.NewRuntime(ctx, actor.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)
	for _, name := range []string{"preinit", "preinitlog"} {
		wasm, err := os.ReadFile("testdata/guests/" + name + ".wasm")
		if err != nil {
			panic(err)
		}
		if _, err := rt.Compile(ctx, wasm); err != nil {
			panic(err)
		}
	}
	s := rt.CompileStats()
	fmt.Println("with an image:", s.Preinitialised, "without:", s.NotPreinitialised)

	wasm, err := os.ReadFile("testdata/guests/hostcalls.wasm")
	if err != nil {
		panic(err)
	}
	a, err := rt.Spawn(ctx, actor.Spec{ID: "h", Module: wasm, Capabilities: []string{"log"}})
	if err != nil {
		panic(err)
	}
	var fuel []uint64
	for _, n := range []uint32{0, 1} {
		if _, err := a.Request(ctx, binary.LittleEndian.AppendUint32(nil, n)); err != nil {
			panic(err)
		}
		fuel = append(fuel, a.LastFuel())
	}
	fmt.Println("one host call costs at least", actor.HostCallFuel, "units:", fuel[1]-fuel[0] >= actor.HostCallFuel)
	// Output:
	// with an image: 1 without: 1
	// one host call costs at least 1000 units: true
}
