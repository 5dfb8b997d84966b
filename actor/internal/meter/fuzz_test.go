package meter_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/theater-go/theater/actor/internal/meter"
	"github.com/theater-go/theater/actor/internal/wasm"
)

// gen turns fuzz bytes into a valid module whose every export halts: n
// functions of type (i32) -> i32 over an accumulator local, with
// arithmetic, ifs, blocks with forward branches, counted loops nested up
// to three deep, early returns, memory, and direct and indirect calls
// from function k only to functions after k, at most two per function
// and none inside a loop, so that every call halts soon.
type gen struct {
	b     []byte
	i     int
	n     int // functions
	calls int // calls in the current function
}

func (g *gen) next() byte {
	if g.i >= len(g.b) {
		return 0
	}
	c := g.b[g.i]
	g.i++
	return c
}

const (
	param = 0
	acc   = 1 // locals 2..4 are the loop counters of depths 0..2
)

func i32(b []byte, v int32) []byte { return wasm.AppendS64(append(b, wasm.OpI32Const), int64(v)) }

func get(b []byte, l byte) []byte { return append(b, 0x20, l) }
func set(b []byte, l byte) []byte { return append(b, 0x21, l) }

// stmts appends up to 4 statements of function k at nesting depth d
// with loops loops open.
func (g *gen) stmts(b []byte, k, d, loops int) []byte {
	for range int(g.next() % 5) {
		b = g.stmt(b, k, d, loops)
	}
	return b
}

func (g *gen) stmt(b []byte, k, d, loops int) []byte {
	ops := []byte{0x6a, 0x6b, 0x6c, 0x73, 0x77} // add sub mul xor rotl
	op := g.next()
	if d >= 4 {
		op %= 2 // only straight-line code at the deepest level
	}
	switch op % 10 {
	case 0:
		b = i32(get(b, acc), int32(g.next())-100)
		b = set(append(b, ops[g.next()%5]), acc)
	case 1:
		b = set(append(get(get(b, acc), param), ops[g.next()%5]), acc)
	case 2:
		b = append(i32(get(b, acc), int32(g.next())), 0x71, wasm.OpIf, 0x40) // and
		b = g.stmts(b, k, d+1, loops)
		b = append(b, wasm.OpElse)
		b = append(g.stmts(b, k, d+1, loops), wasm.OpEnd)
	case 3, 8:
		b = append(b, wasm.OpBlock, 0x40)
		b = g.stmts(b, k, d+1, loops)
		b = append(i32(get(b, acc), int32(g.next())), 0x71, wasm.OpBrIf, 0)
		b = append(g.stmts(b, k, d+1, loops), wasm.OpEnd)
	case 4:
		if loops >= 3 {
			return b
		}
		c := byte(2 + loops)
		b = set(i32(b, int32(1+g.next()%5)), c)
		b = append(b, wasm.OpLoop, 0x40)
		b = g.stmts(b, k, d+1, loops+1)
		b = set(append(i32(get(b, c), 1), 0x6b), c)
		b = append(get(b, c), wasm.OpBrIf, 0, wasm.OpEnd)
	case 5, 7:
		j := k + 1 + int(g.next())%max(1, g.n-k-1)
		if j >= g.n || loops > 0 || g.calls >= 2 {
			return b
		}
		g.calls++
		b = get(b, acc)
		if op%10 == 5 {
			b = wasm.AppendU32(append(b, wasm.OpCall), uint32(j))
		} else {
			b = append(i32(b, int32(j)), wasm.OpCallIndirect, 0, 0)
		}
		b = set(append(get(b, acc), 0x6a), acc)
	case 6:
		b = append(i32(get(b, acc), 0xfffc), 0x71)
		b = append(get(b, acc), 0x36, 2, 0) // i32.store
		b = append(i32(b, int32(g.next())*4), 0x28, 2, 0)
		b = set(append(get(b, acc), 0x6a), acc)
	case 9:
		b = append(i32(get(b, acc), 8), 0x71, wasm.OpIf, 0x40)
		b = append(get(b, acc), 0x0f, wasm.OpEnd) // return
	}
	return b
}

func (g *gen) module() []byte {
	g.n = 1 + int(g.next()%6)
	sec := func(out []byte, id byte, body []byte) []byte {
		return append(wasm.AppendU32(append(out, id), uint32(len(body))), body...)
	}
	out := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	out = sec(out, wasm.SecType, []byte{1, 0x60, 1, wasm.I32, 1, wasm.I32})
	fns := wasm.AppendU32(nil, uint32(g.n))
	exports := wasm.AppendU32(nil, uint32(g.n))
	elems := []byte{1, 0, wasm.OpI32Const, 0, wasm.OpEnd}
	elems = wasm.AppendU32(elems, uint32(g.n))
	code := wasm.AppendU32(nil, uint32(g.n))
	for k := range g.n {
		fns = append(fns, 0)
		name := fmt.Sprintf("f%d", k)
		exports = append(wasm.AppendU32(exports, uint32(len(name))), name...)
		exports = wasm.AppendU32(append(exports, wasm.KindFunc), uint32(k))
		elems = wasm.AppendU32(elems, uint32(k))
		g.calls = 0
		body := []byte{1, 4, wasm.I32} // locals acc and three counters
		body = set(get(body, param), acc)
		body = g.stmts(body, k, 0, 0)
		body = append(get(body, acc), wasm.OpEnd)
		code = append(wasm.AppendU32(code, uint32(len(body))), body...)
	}
	out = sec(out, wasm.SecFunction, fns)
	out = sec(out, wasm.SecTable, wasm.AppendU32([]byte{1, wasm.FuncRef, 0}, uint32(g.n)))
	out = sec(out, wasm.SecMemory, []byte{1, 0, 1})
	out = sec(out, wasm.SecExport, exports)
	out = sec(out, wasm.SecElement, elems)
	return sec(out, wasm.SecCode, code)
}

// FuzzInstrumentGenerated: a generated module and its instrumented form
// compute the same results for the same inputs, and the instrumented one
// consumes the same fuel on every run.
func FuzzInstrumentGenerated(f *testing.F) {
	// More seeds are under testdata/fuzz/FuzzInstrumentGenerated.
	f.Add([]byte{5, 4, 4, 1, 1, 4, 3, 2, 5, 0, 7, 6, 9, 3})
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, seed []byte) {
		g := &gen{b: seed}
		orig := g.module()
		out, err := meter.Instrument(orig, meter.Config{Bounds: wasm.DefaultBounds()})
		if err != nil {
			t.Fatalf("Instrument: %v", err)
		}
		results := func(b []byte, tk *tank) ([]string, int64) {
			rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
			defer rt.Close(ctx)
			if tk != nil {
				if _, err := rt.NewHostModuleBuilder(meter.ImportModule).NewFunctionBuilder().
					WithFunc(tk.outOfFuel).Export(meter.ImportName).Instantiate(ctx); err != nil {
					t.Fatal(err)
				}
			}
			mod, err := rt.Instantiate(ctx, b)
			if err != nil {
				t.Fatalf("instantiate: %v", err)
			}
			var log []string
			for k := range g.n {
				for _, x := range []uint64{0, 1, 12345} {
					res, err := mod.ExportedFunction(fmt.Sprintf("f%d", k)).Call(ctx, x)
					log = append(log, fmt.Sprint(k, x, res, err))
				}
			}
			var fuel int64
			if tk != nil {
				fuel = tk.consumed(mod)
			}
			return log, fuel
		}
		want, _ := results(orig, nil)
		got, fuel1 := results(out, bigTank())
		_, fuel2 := results(out, bigTank())
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("results differ:\ngot  %v\nwant %v", got, want)
		}
		if fuel1 != fuel2 || fuel1 <= 0 {
			t.Fatalf("fuel %d then %d", fuel1, fuel2)
		}
	})
}

// FuzzInstrument: whatever valid module the fuzzer makes of the guests,
// within the default bounds, instruments to a module wazero compiles.
func FuzzInstrument(f *testing.F) {
	// Seeds are under testdata/fuzz/FuzzInstrument: every committed guest
	// and the modules of testdata/.
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	f.Cleanup(func() { rt.Close(ctx) })
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<16 || wasm.Check(b, wasm.DefaultBounds()) != nil {
			return // wazero allocates by declared counts: bounds come first
		}
		cm, err := rt.CompileModule(ctx, b)
		if err != nil {
			return
		}
		cm.Close(ctx)
		out, err := meter.Instrument(b, meter.Config{})
		if err != nil {
			if errors.Is(err, meter.ErrRefused) && !errors.Is(err, wasm.ErrMalformed) && !errors.Is(err, wasm.ErrBound) {
				return // uses the meter's own names
			}
			t.Fatalf("valid module refused: %v", err)
		}
		cm, err = rt.CompileModule(ctx, out)
		if err != nil {
			t.Fatalf("instrumented module does not compile: %v", err)
		}
		cm.Close(ctx)
	})
}
