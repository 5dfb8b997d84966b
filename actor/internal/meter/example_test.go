package meter_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/theater-go/theater/actor/internal/meter"
	"github.com/theater-go/theater/actor/internal/wasm"
)

// A host that grants a budget of 1000 units, 100 at a time, runs count
// and then stops spin, which would never return.
func ExampleInstrument() {
	ctx := context.Background()
	orig, _ := os.ReadFile("testdata/loops.wasm")
	metered, err := meter.Instrument(orig, meter.Config{Bounds: wasm.DefaultBounds()})
	if err != nil {
		fmt.Println(err)
		return
	}

	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	budget, granted := int64(1000), int64(0)
	errSpent := errors.New("fuel spent")
	_, err = rt.NewHostModuleBuilder(meter.ImportModule).NewFunctionBuilder().
		WithFunc(func(ctx context.Context, left int64) int64 {
			if budget == 0 {
				panic(errSpent)
			}
			g := min(budget, 100)
			budget, granted = budget-g, granted+g
			return left + g
		}).Export(meter.ImportName).Instantiate(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	mod, err := rt.Instantiate(ctx, metered)
	if err != nil {
		fmt.Println(err)
		return
	}
	fuel := mod.ExportedGlobal(meter.FuelExport).(api.MutableGlobal)

	_, err = mod.ExportedFunction("count").Call(ctx, 10)
	fmt.Println("count 10:", err, "- consumed", granted-int64(fuel.Get()))

	_, err = mod.ExportedFunction("spin").Call(ctx)
	fmt.Println("spin:", errors.Is(err, errSpent), "- granted", granted)
	// Output:
	// count 10: <nil> - consumed 72
	// spin: true - granted 1000
}
