package abi

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/tetratelabs/wazero/api"

	"github.com/theater-go/theater/wit"
)

// Version is the guest ABI version this host implements: the value a
// guest's theater_abi_version export must return.
const Version = 1

// WASIModule is the only import module outside Theater's own package that
// a guest may use.
const WASIModule = "wasi_snapshot_preview1"

// Status codes returned by every import (ABI.md, "Lowering").
const (
	StatusOK          int32 = 0  // the result, if any, is at retptr
	StatusErr         int32 = 1  // the WIT result is err; the error is at retptr
	StatusFault       int32 = -1 // a pointer or length is outside linear memory
	StatusInvalid     int32 = -2 // an argument is not valid
	StatusNoMemory    int32 = -3 // cabi_realloc failed or returned a bad block
	StatusTooLarge    int32 = -4 // an argument is over the message-size limit
	StatusUnavailable int32 = -5 // the host cannot serve the call now
)

// Names of the guest exports that are not derived from the handlers
// interface.
const (
	ExportMemory     = "memory"
	ExportRealloc    = "cabi_realloc"
	ExportVersion    = "theater_abi_version"
	ExportInitialize = "_initialize"
)

// Names of the handler exports, derived from the handlers interface of
// theater.wit; [Load] checks that the WIT file still has them.
const (
	ExportInit          = "theater_init"
	ExportHandleSend    = "theater_handle_send"
	ExportHandleRequest = "theater_handle_request"
	ExportOnStop        = "theater_on_stop"
)

// Sentinel errors; every error of this package wraps one of them.
var (
	// ErrWIT means theater.wit does not parse or does not have the shape
	// this host is written against. It is a build defect, never a guest's.
	ErrWIT = errors.New("abi: bad theater.wit")
	// ErrNotGranted: the module imports an interface its manifest does not
	// grant.
	ErrNotGranted = errors.New("capability not granted")
	// ErrUnknownImport: the import module exists but has no such function.
	ErrUnknownImport = errors.New("unknown import")
	// ErrForeignModule: the import module is neither a theater:actor
	// interface nor WASI.
	ErrForeignModule = errors.New("foreign import module")
	// ErrSignature: an import or export has the wrong core signature.
	ErrSignature = errors.New("wrong signature")
	// ErrMissingExport: a required export is absent.
	ErrMissingExport = errors.New("missing export")
	// ErrVersion: the guest's theater_abi_version is not [Version].
	ErrVersion = errors.New("unsupported ABI version")
)

//go:embed theater.wit
var source []byte

// Source returns the text of theater.wit, the WIT package this ABI is
// derived from.
func Source() []byte { return append([]byte(nil), source...) }

// Func is one host function a guest may import: a function of one of the
// interfaces the actor world imports, lowered to a core signature.
type Func struct {
	Capability string // the interface name, as granted in manifests: "log"
	Module     string // the import module: "theater:actor/log@0.1.0"
	Name       string // the import name: the WIT function name
	WIT        *wit.Function
	Params     []api.ValueType
	Results    []api.ValueType
}

// Export is one function a guest exports.
type Export struct {
	Name     string
	WIT      *wit.Function // nil for the exports not written in WIT
	Params   []api.ValueType
	Results  []api.ValueType
	Required bool
}

// ABI is the guest ABI derived from theater.wit. It is immutable and safe
// for concurrent use.
type ABI struct {
	Model        *wit.Model
	World        *wit.World
	capabilities map[string]*wit.Interface
	imports      map[string]map[string]*Func // by module, then name
	funcs        []*Func                     // in WIT order
	exports      []*Export
}

var load = sync.OnceValues(func() (*ABI, error) {
	m, err := wit.Parse("theater.wit", source)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWIT, err)
	}
	return derive(m)
})

// Load returns the ABI, parsing the embedded theater.wit on first use.
func Load() (*ABI, error) { return load() }

// optional lists the handlers a guest may leave out. WIT cannot say that
// an export is optional, so the list lives here next to the doc comment
// in theater.wit that says the same.
var optional = map[string]bool{"on-stop": true}

func derive(m *wit.Model) (*ABI, error) {
	var world *wit.World
	for _, w := range m.Root.Worlds {
		if w.Name == "actor" {
			world = w
		}
	}
	if world == nil {
		return nil, fmt.Errorf("%w: no world actor", ErrWIT)
	}
	a := &ABI{
		Model:        m,
		World:        world,
		capabilities: map[string]*wit.Interface{},
		imports:      map[string]map[string]*Func{},
	}
	for _, it := range world.Imports {
		iface := it.Interface
		if iface == nil {
			continue // types and freestanding functions are not capabilities
		}
		mod := iface.QualifiedName()
		a.capabilities[iface.Name] = iface
		a.imports[mod] = map[string]*Func{}
		for _, f := range iface.Functions {
			params, err := lowerImport(f)
			if err != nil {
				return nil, fmt.Errorf("%w: %s/%s: %w", ErrWIT, mod, f.Name, err)
			}
			fn := &Func{Capability: iface.Name, Module: mod, Name: f.MangledName(), WIT: f,
				Params: params, Results: []api.ValueType{api.ValueTypeI32}}
			a.imports[mod][fn.Name] = fn
			a.funcs = append(a.funcs, fn)
		}
	}
	i32 := api.ValueTypeI32
	a.exports = []*Export{
		{Name: ExportRealloc, Params: []api.ValueType{i32, i32, i32, i32}, Results: []api.ValueType{i32}, Required: true},
		{Name: ExportVersion, Results: []api.ValueType{i32}, Required: true},
		{Name: ExportInitialize},
	}
	for _, it := range world.Exports {
		if it.Interface == nil {
			continue
		}
		for _, f := range it.Interface.Functions {
			params, err := lowerParams(f.Params)
			if err != nil {
				return nil, fmt.Errorf("%w: export %s: %w", ErrWIT, f.Name, err)
			}
			var results []api.ValueType
			if f.Result != nil {
				results = []api.ValueType{i32} // pointer to the return area
			}
			a.exports = append(a.exports, &Export{Name: ExportName(f.Name), WIT: f,
				Params: params, Results: results, Required: !optional[f.Name]})
		}
	}
	for _, name := range []string{ExportInit, ExportHandleSend, ExportHandleRequest, ExportOnStop} {
		if a.Export(name) == nil {
			return nil, fmt.Errorf("%w: handlers has no function for %s", ErrWIT, name)
		}
	}
	return a, nil
}

// ExportName is the core export name of a handlers function:
// "handle-send" becomes "theater_handle_send".
func ExportName(witName string) string {
	return "theater_" + strings.ReplaceAll(witName, "-", "_")
}

// lowerImport lowers an imported function: its parameters, then retptr
// when it has a result. The i32 status result is implied.
func lowerImport(f *wit.Function) ([]api.ValueType, error) {
	if f.Kind != wit.Freestanding || f.Async {
		return nil, errors.New("only plain synchronous functions can be lowered")
	}
	params, err := lowerParams(f.Params)
	if err != nil {
		return nil, err
	}
	if f.Result != nil {
		params = append(params, api.ValueTypeI32)
	}
	return params, nil
}

func lowerParams(ps []wit.Param) ([]api.ValueType, error) {
	out := []api.ValueType{}
	for _, p := range ps {
		vt, err := lowerType(p.Type)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", p.Name, err)
		}
		out = append(out, vt...)
	}
	return out, nil
}

// lowerType applies the parameter table of ABI.md, "Lowering".
func lowerType(t wit.Type) ([]api.ValueType, error) {
	i32, i64 := api.ValueTypeI32, api.ValueTypeI64
	switch u := wit.Underlying(t).(type) {
	case wit.Primitive:
		switch u {
		case wit.Bool, wit.U8, wit.U16, wit.U32, wit.S8, wit.S16, wit.S32, wit.Char:
			return []api.ValueType{i32}, nil
		case wit.U64, wit.S64:
			return []api.ValueType{i64}, nil
		case wit.ErrorContext:
			return nil, errors.New("error-context cannot cross the ABI")
		}
		return []api.ValueType{i32, i32}, nil // string, and floats as msgpack
	case *wit.TypeDef:
		switch u.Kind.(type) {
		case *wit.Enum:
			return []api.ValueType{i32}, nil
		case *wit.Resource, *wit.Handle, *wit.Future, *wit.Stream:
			return nil, fmt.Errorf("%s cannot cross the ABI", u)
		}
		return []api.ValueType{i32, i32}, nil // list<u8> as bytes, the rest as msgpack
	}
	return nil, fmt.Errorf("unknown type %v", t)
}

// Capabilities returns the names of the interfaces a manifest can grant.
func (a *ABI) Capabilities() []string {
	var out []string
	for _, it := range a.World.Imports {
		if it.Interface != nil {
			out = append(out, it.Interface.Name)
		}
	}
	return out
}

// Interface returns the interface granted under a capability name.
func (a *ABI) Interface(capability string) (*wit.Interface, bool) {
	i, ok := a.capabilities[capability]
	return i, ok
}

// Funcs returns every importable host function, in WIT order.
func (a *ABI) Funcs() []*Func { return a.funcs }

// Import returns the host function imported as module/name, if any.
func (a *ABI) Import(module, name string) (*Func, bool) {
	f, ok := a.imports[module][name]
	return f, ok
}

// Exports returns the exports a guest has or may have.
func (a *ABI) Exports() []*Export { return a.exports }

// Export returns the export with the given core name, or nil.
func (a *ABI) Export(name string) *Export {
	for _, e := range a.exports {
		if e.Name == name {
			return e
		}
	}
	return nil
}

// Type returns the named type of a capability interface, such as the
// error variant of message.
func (a *ABI) Type(capability, name string) (wit.Type, bool) {
	iface, ok := a.capabilities[capability]
	if !ok {
		return nil, false
	}
	for _, t := range iface.Types {
		if t.Name == name {
			return t, true
		}
	}
	return nil, false
}
