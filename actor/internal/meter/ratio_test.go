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

// BenchmarkRatio runs the metered and the bare form of each workload
// alternately, batch by batch, and reports metered ÷ bare (and
// CloseOnContextDone ÷ bare where it applies): on a shared machine the
// load changes from second to second, and interleaving puts both under
// the same load. ns/op is that of one round of all forms.
func BenchmarkRatio(b *testing.B) {
	orig, err := os.ReadFile("testdata/loops.wasm")
	if err != nil {
		b.Fatal(err)
	}
	metered := instrumented(b, "testdata/loops.wasm")
	variants, err := os.ReadFile("testdata/variants.wasm")
	if err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(time.Hour)
	host := func() *tank {
		return &tank{slice: 10_000_000, left: 1 << 62, stop: func() bool { return time.Now().After(deadline) }}
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()

	// loop returns a call of fn(arg) on one instance of wasm.
	loop := func(wasm []byte, closeOnDone bool, tk *tank, fn string, arg uint64) func() {
		mod := benchModule(b, wasm, closeOnDone, tk)
		f := mod.ExportedFunction(fn)
		stack := make([]uint64, 2)
		return func() {
			mod.Memory().WriteUint64Le(64, 0)
			stack[0], stack[1] = arg, 64
			if err := f.CallWithStack(ctx, stack); err != nil {
				b.Fatal(err)
			}
		}
	}
	echo := func(wasm []byte, tk *tank) func() {
		mod := benchModule(b, wasm, false, tk)
		f := mod.ExportedFunction("echo")
		var fuel api.MutableGlobal
		if tk != nil {
			fuel = mod.ExportedGlobal(meter.FuelExport).(api.MutableGlobal)
		}
		stack := make([]uint64, 2)
		return func() {
			for range 1000 {
				if fuel != nil {
					fuel.Set(1_000_000)
				}
				stack[0], stack[1] = 256, 64
				if err := f.CallWithStack(ctx, stack); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	goWasm := goCounter(b)
	goMetered, err := meter.Instrument(goWasm, meter.Config{Bounds: wasm.DefaultBounds()})
	if err != nil {
		b.Fatal(err)
	}
	counter := func(wasm []byte, closeOnDone bool, tk *tank) func() {
		rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(closeOnDone))
		b.Cleanup(func() { rt.Close(ctx) })
		if tk != nil {
			if _, err := rt.NewHostModuleBuilder(meter.ImportModule).NewFunctionBuilder().
				WithFunc(tk.outOfFuel).Export(meter.ImportName).Instantiate(ctx); err != nil {
				b.Fatal(err)
			}
		}
		cm, err := rt.CompileModule(ctx, wasm)
		if err != nil {
			b.Fatal(err)
		}
		var log []string
		stubImports(b, ctx, rt, cm, &log)
		mod, err := rt.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithStartFunctions("_initialize"))
		if err != nil {
			b.Fatal(err)
		}
		realloc, handle := mod.ExportedFunction("cabi_realloc"), mod.ExportedFunction("theater_handle_request")
		stack := make([]uint64, 4)
		in := func(p byte) uint64 {
			stack[0], stack[1], stack[2], stack[3] = 0, 0, 1, 1
			if err := realloc.CallWithStack(ctx, stack); err != nil {
				b.Fatal(err)
			}
			mod.Memory().WriteByte(uint32(stack[0]), p)
			return stack[0]
		}
		return func() {
			for range 100 {
				sp, mp := in(0x05), in(0x01)
				stack[0], stack[1], stack[2], stack[3] = sp, 1, mp, 1
				if err := handle.CallWithStack(ctx, stack); err != nil {
					b.Fatal(err)
				}
			}
		}
	}

	type form struct {
		name string
		call func()
	}
	for _, w := range []struct {
		name  string
		per   float64 // calls per batch, for ns/call
		forms []form  // bare first
	}{
		{"sum=1e6", 1, []form{
			{"bare", loop(orig, false, nil, "sum", 1_000_000)},
			{"metered", loop(metered, false, host(), "sum", 1_000_000)},
			{"closeOnDone", loop(orig, true, nil, "sum", 1_000_000)},
		}},
		{"count=1e6", 1, []form{
			{"bare", loop(orig, false, nil, "count", 1_000_000)},
			{"metered", loop(metered, false, host(), "count", 1_000_000)},
			{"closeOnDone", loop(orig, true, nil, "count", 1_000_000)},
		}},
		// The alternatives of testdata/variants.wat, same loop.
		{"sum=1e6/variants", 1, []form{
			{"bare", loop(orig, false, nil, "sum", 1_000_000)},
			{"metered", loop(metered, false, host(), "sum", 1_000_000)},
			{"tee", loop(variants, false, host(), "sum_tee", 1_000_000)},
			{"memory", loop(variants, false, host(), "sum_mem", 1_000_000)},
			{"basicBlocks", loop(variants, false, host(), "sum_bb", 1_000_000)},
		}},
		{"echo64", 1000, []form{{"bare", echo(orig, nil)}, {"metered", echo(metered, bigTank())}}},
		{"goCounter", 100, []form{
			{"bare", counter(goWasm, false, nil)},
			{"metered", counter(goMetered, false, host())},
			{"closeOnDone", counter(goWasm, true, nil)},
		}},
	} {
		b.Run(w.name, func(b *testing.B) {
			total := make([]time.Duration, len(w.forms))
			for b.Loop() {
				for i, f := range w.forms {
					start := time.Now()
					f.call()
					total[i] += time.Since(start)
				}
			}
			for i, f := range w.forms {
				b.ReportMetric(float64(total[i].Nanoseconds())/float64(b.N)/w.per, "ns/call-"+f.name)
				if i > 0 {
					b.ReportMetric(float64(total[i])/float64(total[0]), f.name+"/bare")
				}
			}
		})
	}
}
