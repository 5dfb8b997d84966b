package meter_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/theater-go/theater/actor/internal/meter"
)

// spins lists the guests whose handlers never return on their own.
var spins = map[string]bool{
	"actor/testdata/guests/loop.wasm":    true,
	"actor/testdata/guests/membomb.wasm": true,
	"actor/testdata/guests/flood.wasm":   true,
	"actor/testdata/guests/recurse.wasm": true,
}

// TestGuestsComputeTheSame: every guest of the repo, instrumented, still
// compiles and gives the same results, host calls and memory through the
// actor ABI, and consumes the same fuel on every run and on both engines.
func TestGuestsComputeTheSame(t *testing.T) {
	for name, wasm := range guests(t) {
		t.Run(name, func(t *testing.T) {
			out, err := meter.Instrument(wasm, meter.Config{})
			if err != nil {
				t.Fatal(err)
			}
			handlers := !spins[name]
			want, _ := run(t, wasm, nil, handlers, false)
			got, fuel1 := run(t, out, bigTank(), handlers, false)
			if !slices.Equal(got, want) {
				t.Fatalf("instrumented transcript differs:\ngot  %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
			}
			_, fuel2 := run(t, out, bigTank(), handlers, false)
			// The interpreter, a different engine, counts the same.
			_, fuel3 := run(t, out, bigTank(), handlers, true)
			if fuel1 <= 0 || fuel1 != fuel2 || fuel1 != fuel3 {
				t.Fatalf("fuel consumed %d, %d, then %d on the interpreter, want the same positive count", fuel1, fuel2, fuel3)
			}
			t.Logf("%d -> %d bytes, %d steps, fuel %d", len(wasm), len(out), len(want), fuel1)
		})
	}
}
