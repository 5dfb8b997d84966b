package abi_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/theater-go/theater/actor/abi"
)

const i32, i64 = api.ValueTypeI32, api.ValueTypeI64

func sig(params ...api.ValueType) []api.ValueType { return params }

// TestSignaturesMatchDoc checks the signatures derived from theater.wit
// against the "At a glance" tables of docs/ABI.md.
func TestSignaturesMatchDoc(t *testing.T) {
	a, err := abi.Load()
	if err != nil {
		t.Fatal(err)
	}
	wantImports := map[string][]api.ValueType{
		"theater:actor/log@0.1.0 write":       sig(i32, i32, i32),
		"theater:actor/runtime@0.1.0 self-id": sig(i32),
		"theater:actor/message@0.1.0 send":    sig(i32, i32, i32, i32, i32),
		"theater:actor/message@0.1.0 request": sig(i32, i32, i32, i32, i32, i32),
		"theater:actor/clock@0.1.0 now":       sig(i32),
		"theater:actor/random@0.1.0 bytes":    sig(i32, i32),
		// spec, id: msgpack or string ptr, len; then retptr.
		"theater:actor/supervisor@0.1.0 spawn":    sig(i32, i32, i32),
		"theater:actor/supervisor@0.1.0 stop":     sig(i32, i32, i32),
		"theater:actor/supervisor@0.1.0 restart":  sig(i32, i32, i32),
		"theater:actor/supervisor@0.1.0 children": sig(i32),
		"theater:actor/supervisor@0.1.0 state":    sig(i32, i32, i32),
		// request: msgpack ptr, len; then retptr.
		"theater:actor/http-client@0.1.0 send": sig(i32, i32, i32),
		// namespace, key (ptr, len each); value ptr, len; condition msgpack ptr, len; retptr.
		"theater:actor/store@0.1.0 get":       sig(i32, i32, i32, i32, i32),
		"theater:actor/store@0.1.0 put":       sig(i32, i32, i32, i32, i32, i32, i32, i32, i32),
		"theater:actor/store@0.1.0 delete":    sig(i32, i32, i32, i32, i32, i32, i32),
		"theater:actor/store@0.1.0 list-keys": sig(i32, i32, i32),
		"theater:actor/config@0.1.0 get":      sig(i32, i32, i32),
		// id ptr, len; delay-ms, interval-ms; payload ptr, len; retptr.
		"theater:actor/timer@0.1.0 set":    sig(i32, i32, i32, i32, i32, i32, i32),
		"theater:actor/timer@0.1.0 cancel": sig(i32, i32, i32),
		// level; message ptr, len; fields (msgpack) ptr, len.
		"theater:actor/log@0.1.0 write-fields": sig(i32, i32, i32, i32, i32),
		// topic ptr, len; payload ptr, len; retptr.
		"theater:actor/channel@0.1.0 publish": sig(i32, i32, i32, i32, i32),
	}
	for _, f := range a.Funcs() {
		key := f.Module + " " + f.Name
		want, ok := wantImports[key]
		if !ok {
			t.Errorf("import %s is not in ABI.md", key)
			continue
		}
		delete(wantImports, key)
		if !slices.Equal(f.Params, want) || !slices.Equal(f.Results, sig(i32)) {
			t.Errorf("%s: params %v results %v, want %v [i32]", key, f.Params, f.Results, want)
		}
		if !strings.HasPrefix(f.Module, "theater:actor/"+f.Capability+"@") {
			t.Errorf("%s: capability %q does not match the module", key, f.Capability)
		}
	}
	for key := range wantImports {
		t.Errorf("ABI.md import %s is not derived from the WIT", key)
	}
	wantExports := map[string]struct {
		params, results []api.ValueType
		required        bool
	}{
		abi.ExportRealloc:       {sig(i32, i32, i32, i32), sig(i32), true},
		abi.ExportVersion:       {sig(), sig(i32), true},
		abi.ExportInitialize:    {sig(), sig(), false},
		abi.ExportInit:          {sig(i32, i32), sig(i32), true},
		abi.ExportHandleSend:    {sig(i32, i32, i32, i32), sig(i32), true},
		abi.ExportHandleRequest: {sig(i32, i32, i32, i32), sig(i32), true},
		abi.ExportOnStop:        {sig(i32, i32), sig(i32), false},
	}
	if len(a.Exports()) != len(wantExports) {
		t.Errorf("%d exports, want %d", len(a.Exports()), len(wantExports))
	}
	for _, e := range a.Exports() {
		w, ok := wantExports[e.Name]
		if !ok || !slices.Equal(e.Params, w.params) || !slices.Equal(e.Results, w.results) || e.Required != w.required {
			t.Errorf("export %s: %v %v required=%v; want %+v", e.Name, e.Params, e.Results, e.Required, w)
		}
	}
	if got := a.Capabilities(); !slices.Equal(got, []string{"log", "runtime", "message", "clock", "random", "supervisor", "http-client", "store", "config", "timer", "channel"}) {
		t.Errorf("capabilities %v", got)
	}
}

// fn is a function signature of a generated test module.
type fn struct{ params, results []api.ValueType }

type imp struct {
	mod, name string
	fn
}

type exp struct {
	name string
	fn
}

// encode writes a minimal core module: the given function imports, one
// function per export (returning zeros), and an exported memory of one
// page when memory is set. It saves the test a WAT toolchain.
func encode(imports []imp, exports []exp, memory bool) []byte {
	uleb := func(b []byte, v uint64) []byte {
		for {
			c := byte(v & 0x7f)
			v >>= 7
			if v != 0 {
				b = append(b, c|0x80)
				continue
			}
			return append(b, c)
		}
	}
	name := func(b []byte, s string) []byte { return append(uleb(b, uint64(len(s))), s...) }
	section := func(out []byte, id byte, body []byte) []byte {
		return append(uleb(append(out, id), uint64(len(body))), body...)
	}
	var types []fn
	typeIdx := func(f fn) uint64 {
		for i, t := range types {
			if slices.Equal(t.params, f.params) && slices.Equal(t.results, f.results) {
				return uint64(i)
			}
		}
		types = append(types, f)
		return uint64(len(types) - 1)
	}
	var impSec, funcSec, expSec, codeSec []byte
	impSec = uleb(impSec, uint64(len(imports)))
	for _, im := range imports {
		impSec = name(name(impSec, im.mod), im.name)
		impSec = uleb(append(impSec, 0), typeIdx(im.fn))
	}
	funcSec = uleb(funcSec, uint64(len(exports)))
	codeSec = uleb(codeSec, uint64(len(exports)))
	nexp := len(exports)
	if memory {
		nexp++
	}
	expSec = uleb(expSec, uint64(nexp))
	for i, e := range exports {
		funcSec = uleb(funcSec, typeIdx(e.fn))
		expSec = uleb(append(name(expSec, e.name), 0), uint64(len(imports)+i))
		body := []byte{0} // no locals
		for _, r := range e.results {
			if r == i64 {
				body = append(body, 0x42, 0)
			} else {
				body = append(body, 0x41, 0)
			}
		}
		body = append(body, 0x0b)
		codeSec = append(uleb(codeSec, uint64(len(body))), body...)
	}
	if memory {
		expSec = append(name(expSec, "memory"), 2, 0)
	}
	var typeSec []byte
	typeSec = uleb(typeSec, uint64(len(types)))
	for _, t := range types {
		typeSec = uleb(append(typeSec, 0x60), uint64(len(t.params)))
		for _, p := range t.params {
			typeSec = append(typeSec, p)
		}
		typeSec = uleb(typeSec, uint64(len(t.results)))
		for _, r := range t.results {
			typeSec = append(typeSec, r)
		}
	}
	out := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	out = section(out, 1, typeSec)
	out = section(out, 2, impSec)
	out = section(out, 3, funcSec)
	if memory {
		out = section(out, 5, []byte{1, 0, 1})
	}
	out = section(out, 7, expSec)
	return section(out, 10, codeSec)
}

func requiredExports(t *testing.T, a *abi.ABI) []exp {
	t.Helper()
	var out []exp
	for _, e := range a.Exports() {
		if e.Required {
			out = append(out, exp{e.Name, fn{e.Params, e.Results}})
		}
	}
	return out
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	a, err := abi.Load()
	if err != nil {
		t.Fatal(err)
	}
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	wasiDefs := rt.Module(abi.WASIModule).ExportedFunctionDefinitions()
	logWrite := imp{"theater:actor/log@0.1.0", "write", fn{sig(i32, i32, i32), sig(i32)}}
	clockNow := imp{"theater:actor/clock@0.1.0", "now", fn{sig(i32), sig(i32)}}
	fdWrite := imp{abi.WASIModule, "fd_write", fn{sig(i32, i32, i32, i32), sig(i32)}}
	base := requiredExports(t, a)
	onlyLog := func(c string) bool { return c == "log" }

	tests := []struct {
		name    string
		imports []imp
		exports []exp
		memory  bool
		wantErr []error  // each must match
		wantIn  []string // each must be in the message
		caps    []string
	}{
		{name: "ok", imports: []imp{logWrite, fdWrite}, exports: base, memory: true, caps: []string{"log"}},
		{name: "optional exports", imports: nil, memory: true,
			exports: append(slices.Clone(base), exp{abi.ExportInitialize, fn{}}, exp{abi.ExportOnStop, fn{sig(i32, i32), sig(i32)}})},
		{name: "not granted", imports: []imp{logWrite, clockNow}, exports: base, memory: true,
			wantErr: []error{abi.ErrNotGranted}, wantIn: []string{`"theater:actor/clock@0.1.0" "now"`, `"clock"`}},
		{name: "unknown function", imports: []imp{{"theater:actor/log@0.1.0", "shout", fn{sig(i32, i32), sig(i32)}}},
			exports: base, memory: true, wantErr: []error{abi.ErrUnknownImport}, wantIn: []string{`"theater:actor/log@0.1.0" "shout"`}},
		{name: "wrong signature", imports: []imp{{"theater:actor/log@0.1.0", "write", fn{sig(i32, i32), sig(i32)}}},
			exports: base, memory: true, wantErr: []error{abi.ErrSignature}, wantIn: []string{"(param i32 i32 i32) (result i32)"}},
		{name: "wrong version of the package", imports: []imp{{"theater:actor/log@0.2.0", "write", logWrite.fn}},
			exports: base, memory: true, wantErr: []error{abi.ErrForeignModule}, wantIn: []string{`"theater:actor/log@0.2.0" "write"`}},
		{name: "foreign module", imports: []imp{{"env", "abort", fn{sig(i32, i32, i32, i32), nil}}},
			exports: base, memory: true, wantErr: []error{abi.ErrForeignModule}, wantIn: []string{`"env" "abort"`}},
		{name: "unknown wasi", imports: []imp{{abi.WASIModule, "no_such_call", fn{nil, sig(i32)}}},
			exports: base, memory: true, wantErr: []error{abi.ErrUnknownImport}},
		{name: "wasi wrong signature", imports: []imp{{abi.WASIModule, "fd_write", fn{sig(i32), sig(i32)}}},
			exports: base, memory: true, wantErr: []error{abi.ErrSignature}},
		{name: "missing handler and memory", exports: base[:len(base)-1],
			wantErr: []error{abi.ErrMissingExport}, wantIn: []string{`"memory"`, `"` + base[len(base)-1].name + `"`}},
		{name: "bad export signature", memory: true,
			exports: append(slices.Clone(base[:len(base)-1]), exp{base[len(base)-1].name, fn{sig(i32), sig(i32)}}),
			wantErr: []error{abi.ErrSignature}},
		{name: "all reported", imports: []imp{clockNow, {"env", "f", fn{}}}, exports: base, memory: true,
			wantErr: []error{abi.ErrForeignModule}, wantIn: []string{`"env" "f"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cm, err := rt.CompileModule(ctx, encode(tc.imports, tc.exports, tc.memory))
			if err != nil {
				t.Fatal(err)
			}
			granted := onlyLog
			if tc.caps != nil {
				granted = func(c string) bool { return slices.Contains(tc.caps, c) }
			}
			info, err := a.Check(cm, granted, wasiDefs)
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if tc.name == "optional exports" && (!info.Initialize || !info.OnStop) {
					t.Errorf("optional exports not seen: %+v", info)
				}
				if tc.name == "ok" && (!slices.Equal(info.Capabilities, []string{"log"}) || info.MemoryMin != 1) {
					t.Errorf("info %+v", info)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.wantErr {
				if !errors.Is(err, w) {
					t.Errorf("error %q is not %v", err, w)
				}
			}
			for _, w := range tc.wantIn {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %s", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "abi: ") {
				t.Errorf("error %q does not start with abi:", err)
			}
		})
	}
}
