package abi

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tetratelabs/wazero/api"
)

// CompiledModule is the part of wazero.CompiledModule that [ABI.Check]
// reads.
type CompiledModule interface {
	ImportedFunctions() []api.FunctionDefinition
	ExportedFunctions() map[string]api.FunctionDefinition
	ImportedMemories() []api.MemoryDefinition
	ExportedMemories() map[string]api.MemoryDefinition
}

// Module is what [ABI.Inspect] learned about a guest module.
type Module struct {
	// Imports are the theater:actor functions the module imports.
	Imports []*Func
	// Capabilities are the interfaces the module imports, sorted.
	Capabilities []string
	// Initialize and OnStop say whether the optional exports are present.
	Initialize bool
	OnStop     bool
	// MemoryMin is the initial size of the exported memory, in pages.
	MemoryMin uint32
}

// MeterModule and MeterImport name the host function that the runtime's
// metering pass makes every module import, of type (i64) -> i64.
// [ABI.Inspect] accepts it; it is no capability, and a guest that imports
// it itself is refused by the pass.
const (
	MeterModule = "theater:meter"
	MeterImport = "out-of-fuel"
)

var meterSig = []api.ValueType{api.ValueTypeI64}

// Check is [ABI.Inspect] followed by [Module.Granted]: it matches a
// compiled module against the ABI and against the capabilities granted.
func (a *ABI) Check(m CompiledModule, granted func(capability string) bool, wasi map[string]api.FunctionDefinition) (*Module, error) {
	info, err := a.Inspect(m, wasi)
	if err != nil {
		return nil, err
	}
	if err := info.Granted(granted); err != nil {
		return nil, err
	}
	return info, nil
}

// Inspect matches a compiled module against the ABI, independently of any
// manifest: every import must be a function of an interface of the actor
// world with its lowered signature, or a function of wasi (the host's WASI
// module; nil accepts no WASI import) with the same signature; every
// required export must be present with its signature. All problems are
// reported together, each naming the import or export.
//
// The result depends only on the module, so callers cache it per module
// digest and check grants per actor with [Module.Granted].
func (a *ABI) Inspect(m CompiledModule, wasi map[string]api.FunctionDefinition) (*Module, error) {
	info := &Module{}
	var errs []error
	for _, imp := range m.ImportedFunctions() {
		mod, name, _ := imp.Import()
		if mod == WASIModule {
			def, ok := wasi[name]
			switch {
			case !ok:
				errs = append(errs, importErr(mod, name, ErrUnknownImport, ""))
			case !sameSig(imp, def.ParamTypes(), def.ResultTypes()):
				errs = append(errs, importErr(mod, name, ErrSignature, "want "+sigString(def.ParamTypes(), def.ResultTypes())+", have "+sigString(imp.ParamTypes(), imp.ResultTypes())))
			}
			continue
		}
		if mod == MeterModule && name == MeterImport && sameSig(imp, meterSig, meterSig) {
			continue // the runtime's fuel meter, added by its metering pass: not a capability
		}
		if _, known := a.imports[mod]; !known {
			errs = append(errs, importErr(mod, name, ErrForeignModule, ""))
			continue
		}
		f, ok := a.imports[mod][name]
		switch {
		case !ok:
			errs = append(errs, importErr(mod, name, ErrUnknownImport, ""))
		case !sameSig(imp, f.Params, f.Results):
			errs = append(errs, importErr(mod, name, ErrSignature, "want "+sigString(f.Params, f.Results)+", have "+sigString(imp.ParamTypes(), imp.ResultTypes())))
		default:
			info.Imports = append(info.Imports, f)
			if !slices.Contains(info.Capabilities, f.Capability) {
				info.Capabilities = append(info.Capabilities, f.Capability)
			}
		}
	}
	for _, mem := range m.ImportedMemories() {
		mod, name, _ := mem.Import()
		errs = append(errs, importErr(mod, name, ErrForeignModule, "a guest exports its memory, it does not import one"))
	}
	mem, ok := m.ExportedMemories()[ExportMemory]
	if ok {
		info.MemoryMin = mem.Min()
	} else {
		errs = append(errs, fmt.Errorf("abi: export %q: %w", ExportMemory, ErrMissingExport))
	}
	exports := m.ExportedFunctions()
	for _, e := range a.exports {
		def, ok := exports[e.Name]
		switch {
		case !ok && e.Required:
			errs = append(errs, fmt.Errorf("abi: export %q: %w", e.Name, ErrMissingExport))
		case !ok:
		case !sameSig(def, e.Params, e.Results):
			errs = append(errs, fmt.Errorf("abi: export %q: %w: want %s, have %s", e.Name, ErrSignature,
				sigString(e.Params, e.Results), sigString(def.ParamTypes(), def.ResultTypes())))
		case e.Name == ExportInitialize:
			info.Initialize = true
		case e.Name == ExportOnStop:
			info.OnStop = true
		}
	}
	slices.Sort(info.Capabilities)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return info, nil
}

// Granted reports every import of an interface that granted does not
// grant, naming the import and the capability.
func (m *Module) Granted(granted func(capability string) bool) error {
	var errs []error
	for _, f := range m.Imports {
		if !granted(f.Capability) {
			errs = append(errs, importErr(f.Module, f.Name, ErrNotGranted, fmt.Sprintf("%q", f.Capability)))
		}
	}
	return errors.Join(errs...)
}

func importErr(mod, name string, kind error, detail string) error {
	if detail != "" {
		return fmt.Errorf("abi: import %q %q: %w: %s", mod, name, kind, detail)
	}
	return fmt.Errorf("abi: import %q %q: %w", mod, name, kind)
}

func sameSig(def api.FunctionDefinition, params, results []api.ValueType) bool {
	return slices.Equal(def.ParamTypes(), params) && slices.Equal(def.ResultTypes(), results)
}

// sigString spells a core signature the way WAT does: (param i32 i32) (result i32).
func sigString(params, results []api.ValueType) string {
	var b strings.Builder
	b.WriteString("(param")
	for _, p := range params {
		b.WriteString(" " + api.ValueTypeName(p))
	}
	b.WriteString(") (result")
	for _, r := range results {
		b.WriteString(" " + api.ValueTypeName(r))
	}
	b.WriteString(")")
	return b.String()
}
