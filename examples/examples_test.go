// Package examples_test checks the example guests against the guest ABI
// (docs/ABI.md) with plain Go: the Go counter is built with the standard
// toolchain, the other languages' committed .wasm files are run as they
// are (scripts/build-guests rebuilds them), all in a bare wazero runtime
// with just enough host to call them. This tests the guests, not the
// Theater host.
package examples_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// buildGo builds a Go guest package the way users do.
func buildGo(t *testing.T, pkg string) []byte {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a Go wasm module")
	}
	out := filepath.Join(t.TempDir(), "guest.wasm")
	// go test puts its own toolchain first on PATH.
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	wasm, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return wasm
}

func readWasm(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run scripts/build-guests)", err)
	}
	return b
}

// guest is one instance with a minimal host: log.write records lines.
type guest struct {
	t    *testing.T
	ctx  context.Context
	mod  api.Module
	logs []string
}

// allowed are the imports the example guests may have, with the core
// signatures of docs/ABI.md.
var allowed = map[string]string{
	"theater:actor/log@0.1.0.write": "i32,i32,i32->i32",
}

func sig(params, results []api.ValueType) string {
	s := func(ts []api.ValueType) string {
		var names []string
		for _, v := range ts {
			names = append(names, api.ValueTypeName(v))
		}
		return strings.Join(names, ",")
	}
	return s(params) + "->" + s(results)
}

func start(t *testing.T, wasm []byte) *guest {
	t.Helper()
	ctx := context.Background()
	// The interpreter: compiling the 2.6 MB Go module with wazero's
	// compiler takes over a minute under -race; the calls here are few.
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	t.Cleanup(func() { r.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	g := &guest{t: t, ctx: ctx}
	_, err := r.NewHostModuleBuilder("theater:actor/log@0.1.0").NewFunctionBuilder().
		WithFunc(func(_ context.Context, m api.Module, level, ptr, n uint32) int32 {
			b, ok := m.Memory().Read(ptr, n)
			if !ok {
				return -1
			}
			g.logs = append(g.logs, string(b))
			return 0
		}).Export("write").Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	compiled, err := r.CompileModule(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range compiled.ImportedFunctions() {
		mod, name, _ := f.Import()
		got := sig(f.ParamTypes(), f.ResultTypes())
		if mod == wasi_snapshot_preview1.ModuleName {
			continue
		}
		if want, ok := allowed[mod+"."+name]; !ok || want != got {
			t.Errorf("import %s.%s %s: not in the ABI (want %q)", mod, name, got, want)
		}
	}
	exports := compiled.ExportedFunctions()
	for name, want := range map[string]string{
		"cabi_realloc":           "i32,i32,i32,i32->i32",
		"theater_abi_version":    "->i32",
		"theater_init":           "i32,i32->i32",
		"theater_handle_send":    "i32,i32,i32,i32->i32",
		"theater_handle_request": "i32,i32,i32,i32->i32",
	} {
		f, ok := exports[name]
		if !ok {
			t.Fatalf("export %s missing", name)
		}
		if got := sig(f.ParamTypes(), f.ResultTypes()); got != want {
			t.Fatalf("export %s is %s, want %s", name, got, want)
		}
	}
	if _, ok := compiled.ExportedMemories()["memory"]; !ok {
		t.Fatal("memory not exported")
	}
	g.mod, err = r.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithStartFunctions())
	if err != nil {
		t.Fatal(err)
	}
	if f := g.mod.ExportedFunction("_initialize"); f != nil {
		if _, err := f.Call(ctx); err != nil {
			t.Fatal("_initialize:", err)
		}
	}
	if v := g.call1("theater_abi_version"); v != 1 {
		t.Fatalf("theater_abi_version = %d", v)
	}
	return g
}

func (g *guest) call1(name string, args ...uint64) uint32 {
	g.t.Helper()
	res, err := g.mod.ExportedFunction(name).Call(g.ctx, args...)
	if err != nil {
		g.t.Fatalf("%s: %v", name, err)
	}
	return uint32(res[0])
}

// put copies b into a block the guest allocates, as the host does.
func (g *guest) put(b []byte) []uint64 {
	g.t.Helper()
	p := g.call1("cabi_realloc", 0, 0, 1, uint64(len(b)))
	if !g.mod.Memory().Write(p, b) {
		g.t.Fatalf("cabi_realloc returned %#x, outside memory", p)
	}
	return []uint64{uint64(p), uint64(len(b))}
}

func (g *guest) read(at uint32) []byte {
	g.t.Helper()
	mem := g.mod.Memory()
	p, ok1 := mem.ReadUint32Le(at)
	n, ok2 := mem.ReadUint32Le(at + 4)
	b, ok3 := mem.Read(p, n)
	if !ok1 || !ok2 || !ok3 {
		g.t.Fatalf("return area at %#x points outside memory", at)
	}
	return bytes.Clone(b)
}

// handle calls a handler with state (and msg, unless nil) and returns the
// parts of its result: state (and reply), or the error text with ok false.
func (g *guest) handle(name string, state, msg []byte) (parts [][]byte, ok bool) {
	g.t.Helper()
	args := g.put(state)
	nparts := 1
	if msg != nil {
		args = append(args, g.put(msg)...)
	}
	if name == "theater_handle_request" {
		nparts = 2
	}
	ra := g.call1(name, args...)
	tag, okTag := g.mod.Memory().ReadByte(ra)
	if !okTag || tag > 1 {
		g.t.Fatalf("%s: bad return area %#x (tag %d)", name, ra, tag)
	}
	if tag == 1 {
		return [][]byte{g.read(ra + 4)}, false
	}
	for i := range nparts {
		parts = append(parts, g.read(ra+4+8*uint32(i)))
	}
	return parts, true
}

func counters(t *testing.T) map[string][]byte {
	return map[string][]byte{
		"go":             buildGo(t, "./counter/go"),
		"c":              readWasm(t, "counter/c/counter.wasm"),
		"assemblyscript": readWasm(t, "counter/assemblyscript/counter.wasm"),
		"wat":            readWasm(t, "counter/wat/counter.wasm"),
	}
}

func mpUint(v uint64) []byte {
	switch {
	case v < 0x80:
		return []byte{byte(v)}
	case v <= 0xff:
		return []byte{0xcc, byte(v)}
	case v <= 0xffff:
		return binary.BigEndian.AppendUint16([]byte{0xcd}, uint16(v))
	case v <= 0xffffffff:
		return binary.BigEndian.AppendUint32([]byte{0xce}, uint32(v))
	}
	return binary.BigEndian.AppendUint64([]byte{0xcf}, v)
}

// TestCounter runs the counter protocol (counter/counter.wit) on every
// language's counter; all must give the same bytes.
func TestCounter(t *testing.T) {
	const notUint = "counter: expected a msgpack uint"
	for lang, wasm := range counters(t) {
		t.Run(lang, func(t *testing.T) {
			g := start(t, wasm)
			parts, ok := g.handle("theater_init", nil, nil)
			if !ok || !bytes.Equal(parts[0], []byte{0}) {
				t.Fatalf("init(empty) = %x, %v; want 00", parts, ok)
			}
			if len(g.logs) != 1 || g.logs[0] != "counter started" {
				t.Errorf("logs after init: %q", g.logs)
			}
			initial := []byte{0xcd, 0x00, 0x07} // not smallest: returned unchanged
			if parts, ok := g.handle("theater_init", initial, nil); !ok || !bytes.Equal(parts[0], initial) {
				t.Errorf("init(%x) = %x, %v", initial, parts, ok)
			}

			state := []byte{0}
			var total uint64
			for i, msg := range [][]byte{
				{5}, {0xcc, 200}, {0xcd, 0x01, 0x00}, {0xce, 0, 1, 0, 0},
				{0xcf, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}, {0},
			} {
				total += uintOf(msg)
				want := mpUint(total)
				name := "theater_handle_send"
				if i%2 == 1 {
					name = "theater_handle_request"
				}
				parts, ok := g.handle(name, state, msg)
				if !ok || !bytes.Equal(parts[0], want) {
					t.Fatalf("%s(%x, %x) = %q, %v; want state %x", name, state, msg, parts, ok, want)
				}
				if name == "theater_handle_request" && !bytes.Equal(parts[1], want) {
					t.Fatalf("%s(%x, %x) reply %x; want %x", name, state, msg, parts[1], want)
				}
				state = parts[0]
			}

			for _, bad := range [][]byte{{}, {0xa1, 'x'}, {0xff}, {5, 6}, {0xcd, 1}, {0xc0}} {
				for _, name := range []string{"theater_handle_send", "theater_handle_request"} {
					parts, ok := g.handle(name, state, bad)
					if ok || string(parts[0]) != notUint {
						t.Errorf("%s(%x) = %q, %v; want error %q", name, bad, parts, ok, notUint)
					}
				}
			}
			if parts, ok := g.handle("theater_on_stop", state, nil); !ok || !bytes.Equal(parts[0], state) {
				t.Errorf("on_stop(%x) = %x, %v", state, parts, ok)
			}
		})
	}
}

// uintOf decodes a well-formed msgpack uint.
func uintOf(b []byte) uint64 {
	if b[0] < 0x80 {
		return uint64(b[0])
	}
	var v uint64
	for _, x := range b[1:] {
		v = v<<8 | uint64(x)
	}
	return v
}

// TestEcho checks the benchmark echo actor: the reply is the message and
// the state does not change.
func TestEcho(t *testing.T) {
	g := start(t, readWasm(t, "echo/wat/echo.wasm"))
	if parts, ok := g.handle("theater_init", []byte{0xc0}, nil); !ok || !bytes.Equal(parts[0], []byte{0xc0}) {
		t.Fatalf("init = %x, %v", parts, ok)
	}
	msg := bytes.Repeat([]byte{0xab}, 64)
	for range 3 {
		parts, ok := g.handle("theater_handle_request", []byte{0xc0}, msg)
		if !ok || !bytes.Equal(parts[0], []byte{0xc0}) || !bytes.Equal(parts[1], msg) {
			t.Fatalf("request = %x, %v", parts, ok)
		}
	}
	if parts, ok := g.handle("theater_handle_send", []byte{0xc0}, msg); !ok || !bytes.Equal(parts[0], []byte{0xc0}) {
		t.Fatalf("send = %x, %v", parts, ok)
	}
}
