package meter_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/theater-go/theater/actor/internal/meter"
	"github.com/theater-go/theater/actor/internal/wasm"
)

// benchModule instantiates wasm on the compiler engine, with
// CloseOnContextDone when closeOnDone, behind tk when not nil.
func benchModule(b *testing.B, wasm []byte, closeOnDone bool, tk *tank) api.Module {
	b.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(closeOnDone))
	b.Cleanup(func() { rt.Close(ctx) })
	if tk != nil {
		if _, err := rt.NewHostModuleBuilder(meter.ImportModule).NewFunctionBuilder().
			WithFunc(tk.outOfFuel).Export(meter.ImportName).Instantiate(ctx); err != nil {
			b.Fatal(err)
		}
	}
	mod, err := rt.Instantiate(ctx, wasm)
	if err != nil {
		b.Fatal(err)
	}
	return mod
}

// BenchmarkCall64: a call that copies a 64 B payload, the smallest
// handler, bare and metered; metered sets the fuel before the call and
// reads it after, as the actor will.
func BenchmarkCall64(b *testing.B) {
	orig, err := os.ReadFile("testdata/loops.wasm")
	if err != nil {
		b.Fatal(err)
	}
	metered := instrumented(b, "testdata/loops.wasm")
	for _, c := range []struct {
		name string
		wasm []byte
		tk   *tank
	}{{"bare", orig, nil}, {"metered", metered, bigTank()}} {
		b.Run(c.name, func(b *testing.B) {
			mod := benchModule(b, c.wasm, false, c.tk)
			ctx := context.Background()
			fn := mod.ExportedFunction("echo")
			var fuel api.MutableGlobal
			if c.tk != nil {
				fuel = mod.ExportedGlobal(meter.FuelExport).(api.MutableGlobal)
			}
			mod.Memory().Write(256, make([]byte, 64))
			stack := make([]uint64, 2)
			b.ReportAllocs()
			for b.Loop() {
				if fuel != nil {
					fuel.Set(1_000_000)
				}
				stack[0], stack[1] = 256, 64
				if err := fn.CallWithStack(ctx, stack); err != nil {
					b.Fatal(err)
				}
				if fuel != nil && int64(fuel.Get()) >= 1_000_000 {
					b.Fatal("no fuel consumed")
				}
			}
		})
	}
}

// BenchmarkInstrument: the pass over the Go counter guest (built from
// source), beside wasm.Check (the decoder alone) and wazero compiling the
// same module; b.SetBytes makes MB/s the per-MB cost.
func BenchmarkInstrument(b *testing.B) {
	goWasm := goCounter(b)
	b.Run("Check", func(b *testing.B) {
		b.SetBytes(int64(len(goWasm)))
		for b.Loop() {
			if err := wasm.Check(goWasm, wasm.DefaultBounds()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Instrument", func(b *testing.B) {
		b.SetBytes(int64(len(goWasm)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := meter.Instrument(goWasm, meter.Config{Bounds: wasm.DefaultBounds()}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("wazeroCompile", func(b *testing.B) {
		b.SetBytes(int64(len(goWasm)))
		ctx := context.Background()
		for b.Loop() {
			rt := wazero.NewRuntime(ctx)
			if _, err := rt.CompileModule(ctx, goWasm); err != nil {
				b.Fatal(err)
			}
			rt.Close(ctx)
		}
	})
}

// BenchmarkGoCounter: the Go counter's theater_handle_request (state 5,
// message 1), with the two cabi_realloc calls that bring its inputs in,
// on bare wazero, with WithCloseOnContextDone, and metered; ABI imports
// are stubs that return 0.
func BenchmarkGoCounter(b *testing.B) {
	orig := goCounter(b)
	metered, err := meter.Instrument(orig, meter.Config{Bounds: wasm.DefaultBounds()})
	if err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(time.Hour)
	for _, c := range []struct {
		name        string
		wasm        []byte
		closeOnDone bool
		tk          *tank
	}{
		{"bare", orig, false, nil},
		{"CloseOnContextDone", orig, true, nil},
		{"metered", metered, false, &tank{slice: 10_000_000, left: 1 << 62, stop: func() bool { return time.Now().After(deadline) }}},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			defer cancel()
			rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(c.closeOnDone))
			defer rt.Close(ctx)
			if c.tk != nil {
				if _, err := rt.NewHostModuleBuilder(meter.ImportModule).NewFunctionBuilder().
					WithFunc(c.tk.outOfFuel).Export(meter.ImportName).Instantiate(ctx); err != nil {
					b.Fatal(err)
				}
			}
			cm, err := rt.CompileModule(ctx, c.wasm)
			if err != nil {
				b.Fatal(err)
			}
			var log []string
			stubImports(b, ctx, rt, cm, &log)
			mod, err := rt.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithStartFunctions("_initialize"))
			if err != nil {
				b.Fatal(err)
			}
			realloc := mod.ExportedFunction("cabi_realloc")
			handle := mod.ExportedFunction("theater_handle_request")
			stack := make([]uint64, 4)
			in := func(p byte) uint64 {
				stack[0], stack[1], stack[2], stack[3] = 0, 0, 1, 1
				if err := realloc.CallWithStack(ctx, stack); err != nil {
					b.Fatal(err)
				}
				mod.Memory().WriteByte(uint32(stack[0]), p)
				return stack[0]
			}
			b.ReportAllocs()
			for b.Loop() {
				sp, mp := in(0x05), in(0x01)
				stack[0], stack[1], stack[2], stack[3] = sp, 1, mp, 1
				if err := handle.CallWithStack(ctx, stack); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
