package meter_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"github.com/theater-go/theater/actor/internal/meter"
	"github.com/theater-go/theater/actor/internal/wasm"
)

// instrumented reads and instruments a module under testdata/ (or a path
// from the repository root).
func instrumented(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out, err := instrumentBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func instrumentBytes(b []byte) ([]byte, error) {
	return meter.Instrument(b, meter.Config{Bounds: wasm.DefaultBounds()})
}

// instance instantiates an instrumented module behind tk, with stub
// imports; the start function's error is returned, not fatal.
func instance(t testing.TB, wasm []byte, tk *tank) (api.Module, error) {
	t.Helper()
	return compiled(t, wasm, tk)()
}

// compiled compiles wasm behind tk and returns the function that
// instantiates it, so that a test can time instantiation alone.
func compiled(t testing.TB, wasm []byte, tk *tank) func() (api.Module, error) {
	t.Helper()
	ctx := context.Background()
	cfg := wazero.NewRuntimeConfig()
	if raceEnabled && len(wasm) > 1<<20 {
		cfg = wazero.NewRuntimeConfigInterpreter()
	}
	rt := newRuntimeWith(t, ctx, tk, cfg)
	cm, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	stubImports(t, ctx, rt, cm, &log)
	return func() (api.Module, error) {
		return rt.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithName("guest").WithStartFunctions())
	}
}

// TestCostModel: count n runs its loop n times; the function region
// costs 2 (loop, end) and the loop region 7, so it consumes 2 + 7n.
func TestCostModel(t *testing.T) {
	wasm := instrumented(t, "testdata/loops.wasm")
	for _, n := range []uint64{1, 10, 1000} {
		tk := bigTank()
		mod, err := instance(t, wasm, tk)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mod.ExportedFunction("count").Call(context.Background(), n); err != nil {
			t.Fatal(err)
		}
		if got, want := tk.consumed(mod), int64(2+7*n); got != want {
			t.Errorf("count %d consumed %d, want %d", n, got, want)
		}
		if tk.refills != 1 {
			t.Errorf("count %d: %d refills, want 1 (the first metering point)", n, tk.refills)
		}
	}
}

// TestRunawaysStopped: each runaway is stopped by the host aborting when
// its fuel is spent, and spends exactly the same fuel every run.
func TestRunawaysStopped(t *testing.T) {
	loops := instrumented(t, "testdata/loops.wasm")
	actorLoop := instrumented(t, root+"/actor/testdata/guests/loop.wasm")
	cases := []struct {
		name string
		wasm []byte
		fn   string
		args []uint64
	}{
		{"loop br 0", loops, "spin", nil},
		{"tight loop", loops, "tight", nil},
		{"deep recursion", loops, "recurse", []uint64{0}},
		{"actor handler loop", actorLoop, "theater_handle_request", []uint64{0, 0, 0, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var spent []int64
			for range 2 {
				tk := &tank{slice: 100_000, left: 1_000_000}
				mod, err := instance(t, c.wasm, tk)
				if err != nil {
					t.Fatal(err)
				}
				_, err = mod.ExportedFunction(c.fn).Call(context.Background(), c.args...)
				if !errors.Is(err, errOutOfFuel) {
					t.Fatalf("call ended with %v, want out of fuel", err)
				}
				if tk.left != 0 || tk.refills != 11 {
					t.Fatalf("tank has %d left after %d refills, want 0 after 11", tk.left, tk.refills)
				}
				spent = append(spent, tk.consumed(mod))
			}
			if spent[0] != spent[1] || spent[0] <= 1_000_000 {
				t.Fatalf("fuel consumed %v, want the same, just over 1000000", spent)
			}
		})
	}
}

// TestDeadline: a host that refills until a wall-clock deadline stops
// every runaway within twice that deadline, with no goroutine watching.
func TestDeadline(t *testing.T) {
	const deadline = 50 * time.Millisecond
	loops := instrumented(t, "testdata/loops.wasm")
	start := instrumented(t, "testdata/start.wasm")
	// prepare compiles behind the tank and returns what to time.
	run := func(t *testing.T, prepare func(tk *tank) func() error) {
		var end time.Time
		tk := &tank{slice: 100_000, left: 1 << 62, stop: func() bool { return time.Now().After(end) }}
		f := prepare(tk)
		began := time.Now()
		end = began.Add(deadline)
		err := f()
		took := time.Since(began)
		if !errors.Is(err, errOutOfFuel) {
			t.Fatalf("ended with %v, want stopped by the host", err)
		}
		if took > 2*deadline {
			t.Fatalf("stopped after %v, deadline %v", took, deadline)
		}
		t.Logf("stopped after %v (%d refills)", took, tk.refills)
	}
	for _, fn := range []string{"spin", "tight"} {
		t.Run(fn, func(t *testing.T) {
			run(t, func(tk *tank) func() error {
				mod, err := instance(t, loops, tk)
				if err != nil {
					t.Fatal(err)
				}
				return func() error {
					_, err := mod.ExportedFunction(fn).Call(context.Background())
					return err
				}
			})
		})
	}
	t.Run("start function", func(t *testing.T) {
		run(t, func(tk *tank) func() error {
			inst := compiled(t, start, tk)
			return func() error {
				_, err := inst()
				return err
			}
		})
	})
}

// TestExitAbort: the host may abort with sys.ExitError instead, which
// closes the module; the next call fails at once.
func TestExitAbort(t *testing.T) {
	tk := &tank{slice: 1000, left: 1000, exit: true}
	mod, err := instance(t, instrumented(t, "testdata/loops.wasm"), tk)
	if err != nil {
		t.Fatal(err)
	}
	_, err = mod.ExportedFunction("spin").Call(context.Background())
	var exit *sys.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 99 {
		t.Fatalf("spin ended with %v, want exit code 99", err)
	}
	if _, err := mod.ExportedFunction("count").Call(context.Background(), 1); !errors.As(err, &exit) {
		t.Fatalf("call after the abort: %v, want the module closed", err)
	}
}

// TestFuelStartsAtZero: the first metering point asks the host, so a host
// that grants nothing stops the first call before its first instruction.
func TestFuelStartsAtZero(t *testing.T) {
	tk := &tank{}
	mod, err := instance(t, instrumented(t, "testdata/loops.wasm"), tk)
	if err != nil {
		t.Fatal(err)
	}
	if g := mod.ExportedGlobal(meter.FuelExport).Get(); g != 0 {
		t.Fatalf("fuel is %d before any call, want 0", g)
	}
	if _, err := mod.ExportedFunction("count").Call(context.Background(), 1); !errors.Is(err, errOutOfFuel) {
		t.Fatalf("count with no fuel: %v, want out of fuel", err)
	}
	if tk.refills != 1 {
		t.Fatalf("%d calls to the host, want 1", tk.refills)
	}
}
