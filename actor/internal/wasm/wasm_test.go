package wasm_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/theater-go/theater/actor/internal/wasm"
)

func repoGuests(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, pat := range []string{"../../../examples/*/*/*.wasm", "../../../actor/testdata/guests/*.wasm"} {
		paths, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			out[strings.TrimPrefix(p, "../../../")] = b
		}
	}
	if len(out) < 10 {
		t.Fatalf("found only %d guests", len(out))
	}
	return out
}

// TestRoundTrip: every committed guest (wat2wasm, clang, asc output)
// decodes within the default bounds and encodes back to the same bytes.
func TestRoundTrip(t *testing.T) {
	for name, b := range repoGuests(t) {
		m, err := wasm.Decode(b, wasm.DefaultBounds())
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if m.Instructions == 0 || m.MaxDepth == 0 {
			t.Errorf("%s: %d instructions, depth %d", name, m.Instructions, m.MaxDepth)
		}
		if out := m.Encode(); !bytes.Equal(out, b) {
			t.Errorf("%s: re-encoded to %d bytes, want the %d bytes read", name, len(out), len(b))
		}
	}
}

// TestHostileModules holds each hostile module of issue 10 against the
// default bounds: refused, with an error naming the limit, in
// milliseconds, where compiling it costs wazero seconds or gigabytes.
func TestHostileModules(t *testing.T) {
	trap, err := os.ReadFile("../../../actor/testdata/guests/trap.wasm")
	if err != nil {
		t.Fatal(err)
	}
	m, err := wasm.Decode(trap, wasm.Bounds{})
	if err != nil {
		t.Fatal(err)
	}
	m.Memories[0].Min = 65536
	bigMemory := m.Encode()

	cases := []struct {
		name   string
		module []byte
		want   string
	}{
		{"65536 memory pages", bigMemory, "memory starts at 65536 pages, limit is 256"},
		{"100k nested blocks", module(funcs(1, nested(100_000))...), "blocks nest deeper than 2000 (in function 0)"},
		{"50k functions", module(funcs(50_000, []byte{wasm.OpEnd})...), "module defines 50000 functions, limit is 40000"},
		{"500k-instruction body", module(funcs(1, nops(500_000))...), "function 0 has more than 200000 instructions"},
		{"64 MiB data segment", module(memory(1), dataSegment(64<<20)), "module is 67108891 bytes, limit is 33554432"},
	}
	// Within the module size, the data bound refuses the same segment.
	bigModule := wasm.DefaultBounds()
	bigModule.ModuleBytes = 128 << 20
	cases = append(cases, struct {
		name   string
		module []byte
		want   string
	}{"64 MiB data segment, module size allowed", cases[len(cases)-1].module, "data segments hold at least 67108864 bytes, limit is 16777216"})
	for i, c := range cases {
		bounds := wasm.DefaultBounds()
		if i == len(cases)-1 {
			bounds = bigModule
		}
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			err := wasm.Check(c.module, bounds)
			took := time.Since(start)
			if !errors.Is(err, wasm.ErrBound) || !strings.HasSuffix(err.Error(), c.want) {
				t.Fatalf("Check = %v, want ErrBound ending %q", err, c.want)
			}
			// Generous for a shared 2-core machine; measured in
			// single milliseconds.
			if took > 500*time.Millisecond {
				t.Errorf("Check took %v", took)
			}
			t.Logf("%d bytes refused in %v: %v", len(c.module), took, err)
		})
	}
}

// TestEachBound exceeds each bound by one and checks the error names it;
// the same module passes at the bound.
func TestEachBound(t *testing.T) {
	imp := func(n int) section {
		var es [][]byte
		for range n {
			es = append(es, []byte{1, 'm', 1, 'g', wasm.KindGlobal, wasm.I32, 0})
		}
		return section{wasm.SecImport, vec(es...)}
	}
	exp := func(n int) section {
		var es [][]byte
		for i := range n {
			es = append(es, []byte{1, 'a' + byte(i), wasm.KindMemory, 0})
		}
		return section{wasm.SecExport, vec(es...)}
	}
	globals := func(n int) section {
		var es [][]byte
		for range n {
			es = append(es, []byte{wasm.I32, 0, wasm.OpI32Const, 0, wasm.OpEnd})
		}
		return section{wasm.SecGlobal, vec(es...)}
	}
	withLocals := func(n uint32) []section {
		s := funcs(1, []byte{wasm.OpEnd})
		entry := append(append(wasm.AppendU32([]byte{1}, n), wasm.I32), wasm.OpEnd)
		s[2].body = append(wasm.AppendU32([]byte{1}, uint32(len(entry))), entry...)
		return s
	}
	table := section{wasm.SecTable, vec([]byte{wasm.FuncRef, 0, 10})}
	cases := []struct {
		name   string
		module []byte
		at     wasm.Bounds // passes
		over   wasm.Bounds // fails
		want   string
	}{
		{"module bytes", module(memory(1)), wasm.Bounds{ModuleBytes: 13}, wasm.Bounds{ModuleBytes: 12}, "module is 13 bytes, limit is 12"},
		{"functions", module(funcs(3, []byte{wasm.OpEnd})...), wasm.Bounds{Functions: 3}, wasm.Bounds{Functions: 2}, "module defines 3 functions, limit is 2"},
		{"body bytes", module(funcs(1, nops(9))...), wasm.Bounds{BodyBytes: 11}, wasm.Bounds{BodyBytes: 10}, "function 0 has a 11-byte body, limit is 10"},
		{"instructions", module(funcs(2, nops(4))...), wasm.Bounds{Instructions: 10}, wasm.Bounds{Instructions: 9}, "module has more than 9 instructions"},
		{"body instructions", module(funcs(2, nops(4))...), wasm.Bounds{BodyInstrs: 5}, wasm.Bounds{BodyInstrs: 4}, "function 0 has more than 4 instructions"},
		{"nesting", module(funcs(1, nested(3))...), wasm.Bounds{Nesting: 4}, wasm.Bounds{Nesting: 3}, "blocks nest deeper than 3 (in function 0)"},
		{"locals", module(withLocals(7)...), wasm.Bounds{Locals: 7}, wasm.Bounds{Locals: 6}, "function 0 declares 7 locals, limit is 6"},
		{"memory", module(memory(9)), wasm.Bounds{MemoryPages: 9}, wasm.Bounds{MemoryPages: 8}, "memory starts at 9 pages, limit is 8"},
		{"imported memory", module(section{wasm.SecImport, vec([]byte{1, 'm', 1, 'm', wasm.KindMemory, 0, 9})}), wasm.Bounds{MemoryPages: 9}, wasm.Bounds{MemoryPages: 8}, "memory starts at 9 pages, limit is 8"},
		{"data", module(memory(1), dataSegment(100)), wasm.Bounds{DataBytes: 100}, wasm.Bounds{DataBytes: 99}, "data segments hold at least 100 bytes, limit is 99"},
		{"table", module(table), wasm.Bounds{TableSize: 10}, wasm.Bounds{TableSize: 9}, "table starts at 10 elements, limit is 9"},
		{"globals", module(globals(3)), wasm.Bounds{Globals: 3}, wasm.Bounds{Globals: 2}, "module defines 3 globals, limit is 2"},
		{"imports", module(imp(3)), wasm.Bounds{Imports: 3}, wasm.Bounds{Imports: 2}, "module has 3 imports, limit is 2"},
		{"exports", module(memory(1), exp(3)), wasm.Bounds{Exports: 3}, wasm.Bounds{Exports: 2}, "module has 3 exports, limit is 2"},
	}
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := rt.CompileModule(ctx, c.module); err != nil {
				t.Fatalf("test module is not valid: %v", err)
			}
			if err := wasm.Check(c.module, c.at); err != nil {
				t.Fatalf("at the bound: %v", err)
			}
			err := wasm.Check(c.module, c.over)
			if !errors.Is(err, wasm.ErrBound) || err.Error() != "wasm: module over a limit: "+c.want {
				t.Fatalf("over the bound: %v, want %q", err, c.want)
			}
		})
	}
}

// TestCountsDoNotAllocate: a 67-byte module whose first type declares
// 2^31 results; wazero v1.12.0 allocates 16 GiB (virtual) before finding
// it malformed, which is why Check runs first. Check refuses it without
// allocating by the count.
func TestCountsDoNotAllocate(t *testing.T) {
	b := []byte("\x00asm\x01\x00\x00\x00\x01\x13\x03`\x04\x7f\x7f\x7f\x7f\x80\x80\xfc\xff\a6\x02\x00A\x18A\x056\x02\x00A\x10\x0f\v?\x00A\x10tA\bk\x0f\v \x00 \x01 \x00 ersion\x00\x016\x02\x00A\x10i")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := wasm.Check(b, wasm.DefaultBounds())
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; !errors.Is(err, wasm.ErrMalformed) || n > 64<<10 {
		t.Fatalf("Check: %v after allocating %d bytes, want ErrMalformed and under 64 KiB", err, n)
	}
}

// TestMalformed: bytes that are not a module give ErrMalformed, never a
// panic, and a count larger than the input allocates nothing.
func TestMalformed(t *testing.T) {
	cases := map[string][]byte{
		"empty":               nil,
		"bad magic":           []byte("\x00asn\x01\x00\x00\x00"),
		"section past end":    append(module(), wasm.SecType, 5),
		"huge count":          module(section{wasm.SecType, []byte{0xff, 0xff, 0xff, 0xff, 0x0f}}),
		"huge section size":   append(module(), wasm.SecType, 0xff, 0xff, 0xff, 0xff, 0x0f),
		"out of order":        module(memory(1), section{wasm.SecType, vec()}),
		"unknown section":     module(section{13, nil}),
		"unknown opcode":      module(funcs(1, []byte{0x06, wasm.OpEnd})...),
		"unclosed block":      module(funcs(1, []byte{wasm.OpBlock, 0x40, wasm.OpEnd})...),
		"code after end":      module(funcs(1, []byte{wasm.OpEnd, 0x01})...),
		"bad u32":             module(funcs(1, []byte{wasm.OpCall, 0xff, 0xff, 0xff, 0xff, 0x7f, wasm.OpEnd})...),
		"bad s32":             module(funcs(1, []byte{wasm.OpI32Const, 0xff, 0xff, 0xff, 0xff, 0x4f, wasm.OpDrop, wasm.OpEnd})...),
		"bad simd opcode":     module(funcs(1, []byte{wasm.OpVecPrefix, 0x9a, 0x01, wasm.OpEnd})...),
		"bodies mismatch":     module(section{wasm.SecType, vec([]byte{0x60, 0, 0})}, section{wasm.SecFunction, vec([]byte{0})}),
		"shared memory":       module(section{wasm.SecMemory, []byte{1, 3, 1, 1}}),
		"const expr op":       module(section{wasm.SecGlobal, vec([]byte{wasm.I32, 0, 0x6a, wasm.OpEnd})}),
		"name not utf-8":      module(section{wasm.SecExport, vec([]byte{1, 0xff, wasm.KindFunc, 0})}),
		"trailing in section": module(section{wasm.SecStart, []byte{0, 0}}),
	}
	for name, b := range cases {
		err := wasm.Check(b, wasm.DefaultBounds())
		if !errors.Is(err, wasm.ErrMalformed) || !strings.HasPrefix(err.Error(), "wasm: ") {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}
