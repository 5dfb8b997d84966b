package meter

import (
	"errors"
	"fmt"

	"github.com/theater-go/theater/actor/internal/wasm"
)

// Version identifies the pass: an instrumented module is cached under the
// original module's digest and this version, which changes whenever the
// output or the cost model changes.
const Version = 1

// The names the instrumented module uses to reach the host.
const (
	// ImportModule and ImportName name the host function the module
	// calls when its fuel runs out. Its type is (i64) -> i64: it receives
	// the fuel left, which is negative, and returns the new fuel.
	ImportModule = "theater:meter"
	ImportName   = "out-of-fuel"
	// FuelExport names the exported mutable i64 global holding the fuel.
	FuelExport = "theater:meter/fuel"
)

// ErrRefused is wrapped by every error of [Instrument]; the wasm
// package's sentinels (wasm.ErrMalformed, wasm.ErrBound) are wrapped
// beside it.
var ErrRefused = errors.New("meter: module refused")

// Config configures [Instrument].
type Config struct {
	// Bounds are checked while the module is decoded (see wasm.Check);
	// the zero value checks nothing but the binary format.
	Bounds wasm.Bounds
}

// Instrument returns module with metering added: a mutable i64 global,
// exported as [FuelExport], that every function entry and every loop
// header decrements by the static cost of the code it starts (one unit
// per instruction, see the package documentation), and a call to the
// imported [ImportModule].[ImportName] whenever it drops below zero.
//
// The global starts at 0, so the first metering point, in the start
// function or the first export called, asks the host for fuel.
func Instrument(module []byte, cfg Config) ([]byte, error) {
	m, err := InstrumentModule(module, cfg)
	if err != nil {
		return nil, err
	}
	return m.Encode(), nil
}

// InstrumentModule is [Instrument], returning the metered module decoded,
// for a caller that rewrites it further. Its counts (Instructions,
// MaxDepth, ChangesTables) are those of the input.
func InstrumentModule(module []byte, cfg Config) (*wasm.Module, error) {
	m, err := wasm.Decode(module, cfg.Bounds)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	if err := check(m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	nTypes := uint32(len(m.Types))
	nImp := m.ImportedFuncs()
	fuel := m.ImportedGlobals() + uint32(len(m.Globals))
	hostFn := nImp

	m.Types = append(m.Types[:nTypes:nTypes], wasm.FuncType{Params: []byte{wasm.I64}, Results: []byte{wasm.I64}})
	// The import goes after the existing imports, so it takes the index
	// just past the imported functions and only defined functions move.
	m.Imports = append(m.Imports[:len(m.Imports):len(m.Imports)],
		wasm.Import{Module: ImportModule, Name: ImportName, Kind: wasm.KindFunc, Type: nTypes})
	m.Globals = append(m.Globals[:len(m.Globals):len(m.Globals)],
		wasm.Global{Type: wasm.GlobalType{ValType: wasm.I64, Mutable: true}, Init: []byte{wasm.OpI64Const, 0, wasm.OpEnd}})
	m.Exports = append(m.Exports[:len(m.Exports):len(m.Exports)],
		wasm.Export{Name: FuelExport, Kind: wasm.KindGlobal, Index: fuel})
	shift := func(i uint32) uint32 {
		if i >= nImp {
			return i + 1
		}
		return i
	}
	m.RemapFuncs(shift)

	p := pass{fuel: fuel, hostFn: hostFn, nImp: nImp, nTypes: nTypes, nGlobals: fuel}
	codes := make([]wasm.Code, len(m.Codes))
	for i := range m.Codes {
		codes[i] = m.Codes[i]
		if codes[i].Body, err = p.body(m.Codes[i].Body); err != nil {
			return nil, fmt.Errorf("%w: function %d: %w", ErrRefused, int(nImp)+i, err)
		}
	}
	m.Codes = codes
	return m, nil
}

// check refuses what the pass would turn from invalid into valid outside
// the code (see pass.body for the code): an index equal to the count of
// types or globals names nothing in the original module but would name
// the added type or fuel global after, and a module that imports from the
// meter's module could call the host's refill itself.
func check(m *wasm.Module) error {
	nTypes := uint32(len(m.Types))
	nGlobals := m.ImportedGlobals() + uint32(len(m.Globals))
	for i := range m.Imports {
		im := &m.Imports[i]
		if im.Module == ImportModule {
			return fmt.Errorf("imports %q from %q, which is the meter's own", im.Name, im.Module)
		}
		if im.Kind == wasm.KindFunc && im.Type >= nTypes {
			return fmt.Errorf("%w: import %d has type %d of %d", wasm.ErrMalformed, i, im.Type, nTypes)
		}
	}
	for i, t := range m.Funcs {
		if t >= nTypes {
			return fmt.Errorf("%w: function %d has type %d of %d", wasm.ErrMalformed, int(m.ImportedFuncs())+i, t, nTypes)
		}
	}
	for _, e := range m.Exports {
		if e.Name == FuelExport {
			return fmt.Errorf("exports %q, which is the meter's own", e.Name)
		}
		if e.Kind == wasm.KindGlobal && e.Index >= nGlobals {
			return fmt.Errorf("%w: export %q of global %d of %d", wasm.ErrMalformed, e.Name, e.Index, nGlobals)
		}
	}
	return nil
}
