package actor

import (
	"context"
	"fmt"

	"github.com/tetratelabs/wazero/api"

	"github.com/theater-go/theater/actor/abi"
	"github.com/theater-go/theater/actor/internal/meter"
	"github.com/theater-go/theater/actor/internal/wasm"
)

// instrument holds a module against the bounds, with memoryPages as the
// largest initial memory it may declare, and returns it metered. Both
// happen before wazero sees the module: wazero allocates for what a module
// declares before it finds it malformed, and takes minutes to compile
// some modules that are small (deep nesting), while the bounds refuse
// them in milliseconds.
func instrument(module []byte, memoryPages uint32) (*wasm.Module, error) {
	b := wasm.DefaultBounds()
	b.MemoryPages = memoryPages
	return meter.InstrumentModule(module, meter.Config{Bounds: b})
}

// instantiateMeter provides the meter's import to every module. It is
// stack-based (no reflection, no allocation) and finds the instance, as
// the capabilities do, through the call's context.
func (r *Runtime) instantiateMeter(ctx context.Context) error {
	if meter.ImportModule != abi.MeterModule || meter.ImportName != abi.MeterImport {
		return fmt.Errorf("actor: %w: the meter's import is %s %s, the ABI accepts %s %s", abi.ErrWIT,
			meter.ImportModule, meter.ImportName, abi.MeterModule, abi.MeterImport)
	}
	i64 := []api.ValueType{api.ValueTypeI64}
	_, err := r.rt.NewHostModuleBuilder(meter.ImportModule).NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(outOfFuel), i64, i64).
		WithName(meter.ImportName).
		Export(meter.ImportName).
		Instantiate(ctx)
	if err != nil {
		return fmt.Errorf("actor: meter host module: %w", err)
	}
	return nil
}

// outOfFuel is called by a metered guest when its fuel runs out.
func outOfFuel(ctx context.Context, _ api.Module, stack []uint64) {
	i := instanceFrom(ctx)
	if i == nil {
		// Only this runtime's instances import the meter, and each call of
		// theirs carries its instance: a host defect if not.
		panic(errNoInstance)
	}
	stack[0] = uint64(i.ctx.refill(int64(stack[0])))
}

var errNoInstance = fmt.Errorf("actor: %w: metered call without its instance", ErrTrap)

// fuelGlobal returns a metered module's fuel global.
func fuelGlobal(mod api.Module) (api.MutableGlobal, error) {
	g, ok := mod.ExportedGlobal(meter.FuelExport).(api.MutableGlobal)
	if !ok {
		return nil, fmt.Errorf("actor: %w: the metered module has no fuel global", ErrTrap)
	}
	return g, nil
}
