package meter_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/theater-go/theater/actor/internal/meter"
	"github.com/theater-go/theater/actor/internal/wasm"
)

// withNames adds a name section naming function i "f<i>" and the
// parameters of function 5 (dispatch) "i" and "x".
func withNames(t *testing.T, b []byte) []byte {
	t.Helper()
	m, err := wasm.Decode(b, wasm.Bounds{})
	if err != nil {
		t.Fatal(err)
	}
	n := int(m.ImportedFuncs()) + len(m.Funcs)
	fnames := wasm.AppendU32(nil, uint32(n))
	for i := range n {
		name := fmt.Sprintf("f%d", i)
		fnames = append(wasm.AppendU32(wasm.AppendU32(fnames, uint32(i)), uint32(len(name))), name...)
	}
	locals := []byte{1, 5, 2, 0, 1, 'i', 1, 1, 'x'}
	var data []byte
	data = append(wasm.AppendU32(append(data, 1), uint32(len(fnames))), fnames...)
	data = append(wasm.AppendU32(append(data, 2), uint32(len(locals))), locals...)
	m.Customs = append(m.Customs, wasm.Custom{Name: "name", Data: data, After: wasm.SecData})
	return m.Encode()
}

// TestRemap: after the added import shifts every defined function by
// one, each way of reaching a function still reaches the same one, and
// the name section still names it.
func TestRemap(t *testing.T) {
	orig, err := os.ReadFile("testdata/remap.wasm")
	if err != nil {
		t.Fatal(err)
	}
	orig = withNames(t, orig)
	out, err := meter.Instrument(orig, meter.Config{})
	if err != nil {
		t.Fatal(err)
	}
	calls := func(wasm []byte, tk *tank) []string {
		ctx := context.Background()
		rt := newRuntime(t, ctx, tk)
		_, err := rt.NewHostModuleBuilder("env").NewFunctionBuilder().
			WithFunc(func(x uint32) uint32 { return x + 1 }).Export("add1").Instantiate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cm, err := rt.CompileModule(ctx, wasm)
		if err != nil {
			t.Fatal(err)
		}
		quad := cm.ExportedFunctions()["quad"]
		dispatch := cm.ExportedFunctions()["dispatch"]
		log := []string{"quad is " + quad.Name(), "dispatch params " + strings.Join(dispatch.ParamNames(), ",")}
		mod, err := rt.InstantiateModule(ctx, cm, wazero.NewModuleConfig())
		if err != nil {
			t.Fatal(err)
		}
		call := func(name string, args ...uint64) {
			res, err := mod.ExportedFunction(name).Call(ctx, args...)
			log = append(log, fmt.Sprintf("%s%v = %v %v", name, args, res, err != nil))
		}
		call("started")
		for i := range uint64(9) {
			call("dispatch", i, 5)
		}
		for _, fn := range []string{"direct", "viaref", "viaglobal", "passive", "simd", "quad"} {
			call(fn, 5)
		}
		call("dispatch", 6, 5) // table slot 6 as "passive" left it
		return log
	}
	want := calls(orig, nil)
	got := calls(out, bigTank())
	if !slices.Equal(got, want) {
		t.Fatalf("instrumented:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if want[0] != "quad is f3" || want[1] != "dispatch params i,x" || want[2] != "started[] = [40] false" {
		t.Fatalf("the original does not run as the test expects:\n%s", strings.Join(want, "\n"))
	}
}

// TestRefused: modules the pass must not instrument.
func TestRefused(t *testing.T) {
	loops, err := os.ReadFile("testdata/loops.wasm")
	if err != nil {
		t.Fatal(err)
	}
	m, err := wasm.Decode(loops, wasm.Bounds{})
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(m *wasm.Module)) []byte {
		c := *m
		f(&c)
		return c.Encode()
	}
	// A function body reading global 0 in a module with no globals.
	badGlobal := edit(func(m *wasm.Module) {
		m.Codes = append([]wasm.Code{}, m.Codes...)
		m.Codes[0].Body = []byte{wasm.OpGlobalGet, 0, wasm.OpDrop, wasm.OpEnd}
	})
	badType := edit(func(m *wasm.Module) {
		m.Funcs = append([]uint32{}, m.Funcs...)
		m.Funcs[0] = uint32(len(m.Types))
	})
	cases := []struct {
		name   string
		module []byte
		bounds wasm.Bounds
		is     error
		msg    string
	}{
		{"instrumented twice", instrumented(t, "testdata/loops.wasm"), wasm.Bounds{}, meter.ErrRefused,
			`meter: module refused: imports "out-of-fuel" from "theater:meter", which is the meter's own`},
		{"exports the fuel name", edit(func(m *wasm.Module) {
			m.Exports = append(m.Exports[:len(m.Exports):len(m.Exports)], wasm.Export{Name: meter.FuelExport, Kind: wasm.KindMemory})
		}), wasm.Bounds{}, meter.ErrRefused, `meter: module refused: exports "theater:meter/fuel", which is the meter's own`},
		{"global past the end", badGlobal, wasm.Bounds{}, wasm.ErrMalformed,
			"meter: module refused: function 0: wasm: malformed module: opcode 0x23 at byte 0 refers to index 0, out of range"},
		{"type past the end", badType, wasm.Bounds{}, wasm.ErrMalformed,
			"meter: module refused: wasm: malformed module: function 0 has type 6 of 6"},
		{"over a bound", loops, wasm.Bounds{Functions: 2}, wasm.ErrBound,
			"meter: module refused: wasm: module over a limit: module defines 7 functions, limit is 2"},
		{"not wasm", []byte("hello"), wasm.Bounds{}, wasm.ErrMalformed,
			"meter: module refused: wasm: malformed module: not a WebAssembly 1.0 binary (bad magic or version)"},
	}
	for _, c := range cases {
		_, err := meter.Instrument(c.module, meter.Config{Bounds: c.bounds})
		if !errors.Is(err, meter.ErrRefused) || !errors.Is(err, c.is) || err.Error() != c.msg {
			t.Errorf("%s: %v\nwant %q", c.name, err, c.msg)
		}
	}
}
