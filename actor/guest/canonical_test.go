package guest_test

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
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

// canonicalValues is what the test actors c/testdata/canonical.c and
// assemblyscript/testdata/canonical.ts answer every request with, as a
// tuple: one value of each kind, at the edges of each encoding's range.
// Each SDK must write exactly the codec's canonical bytes for it.
var canonicalValues = []struct {
	typ  wit.Type
	json string
}{
	{wit.Bool, `true`},
	{wit.Bool, `false`},
	{anon(&wit.Option{Type: wit.U8}), `null`},
	{wit.U8, `0`},
	{wit.U8, `127`},
	{wit.U8, `128`},
	{wit.U8, `255`},
	{wit.U16, `256`},
	{wit.U32, `65536`},
	{wit.U64, `4294967296`},
	{wit.U64, `18446744073709551615`},
	{wit.S8, `-1`},
	{wit.S8, `-32`},
	{wit.S8, `-33`},
	{wit.S8, `-128`},
	{wit.S16, `-129`},
	{wit.S32, `-32769`},
	{wit.S64, `-2147483649`},
	{wit.S64, `-9223372036854775808`},
	{wit.S64, `200`}, // a positive signed value is written as a uint
	{wit.S64, `9223372036854775807`},
	{wit.F32, `1.5`},
	{wit.F32, `-0`},
	{wit.F32, `"NaN"`}, // written with sign and payload; canonical NaN expected
	{wit.F64, `0.1`},
	{wit.F64, `-0`},
	{wit.F64, `"NaN"`},
	{wit.F64, `"Infinity"`},
	{wit.String, `""`},
	{wit.String, `"` + strings.Repeat("a", 31) + `"`},
	{wit.String, `"` + strings.Repeat("b", 32) + `"`},
	{wit.String, `"` + strings.Repeat("c", 256) + `"`},
	{wit.Char, `"é"`},
	{anon(&wit.List{Elem: wit.U8}), `""`},
	{anon(&wit.List{Elem: wit.U8}), `"` + b64(7, 255) + `"`},
	{anon(&wit.List{Elem: wit.U8}), `"` + b64(8, 256) + `"`},
	{anon(&wit.List{Elem: wit.U32}), `[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14]`},
	{anon(&wit.List{Elem: wit.U32}), `[0,1000,2000,3000,4000,5000,6000,7000,8000,9000,10000,11000,12000,13000,14000,15000]`},
	{&wit.TypeDef{Name: "point", Kind: &wit.Record{Fields: []wit.Field{{Name: "x", Type: wit.U32}, {Name: "y", Type: wit.S32}}}}, `{"x":1,"y":-2}`},
	{anon(&wit.Map{Key: wit.S16, Value: wit.Bool}),
		`{"700":false,"-100":false,"-800":true,"-700":false,"-600":true,"-500":false,"-400":true,"-300":false,"-200":true,"0":true,"100":false,"200":true,"300":false,"400":true,"500":false,"600":true}`},
	{&wit.TypeDef{Name: "shape", Kind: &wit.Variant{Cases: []wit.Case{{Name: "circle", Type: wit.F32}, {Name: "none"}}}}, `{"circle":2}`},
	{&wit.TypeDef{Name: "perms", Kind: &wit.Flags{Flags: []wit.Flag{{Name: "read"}, {Name: "write"}, {Name: "exec"}}}}, `["exec","read"]`},
	{anon(&wit.Result{OK: wit.U32, Err: wit.String}), `{"err":"x"}`},
}

func anon(k wit.TypeDefKind) *wit.TypeDef { return &wit.TypeDef{Kind: k} }

func b64(c byte, n int) string {
	js, err := codec.ToJSON(anon(&wit.List{Elem: wit.U8}), append([]byte{0xc5, byte(n >> 8), byte(n)}, bytes.Repeat([]byte{c}, n)...))
	if err != nil {
		panic(err)
	}
	return strings.Trim(string(js), `"`)
}

// wantCanonical is the codec's canonical encoding of canonicalValues.
func wantCanonical(t *testing.T) []byte {
	t.Helper()
	var types []wit.Type
	var js []string
	for _, v := range canonicalValues {
		types = append(types, v.typ)
		js = append(js, v.json)
	}
	want, err := codec.FromJSON(anon(&wit.Tuple{Types: types}), []byte("["+strings.Join(js, ",")+"]"))
	if err != nil {
		t.Fatal(err)
	}
	return want
}

// TestCSDKCanonical builds the C test actor with the SDK (the flags of
// scripts/build-guests) and checks its bytes against the codec's.
func TestCSDKCanonical(t *testing.T) {
	clang := tool(t, "clang")
	out := filepath.Join(t.TempDir(), "canonical.wasm")
	run(t, ".", clang, "--target=wasm32-wasi", "--sysroot=/usr", "-mexec-model=reactor", "-std=c11", "-O2",
		"-Wall", "-Wextra", "-Werror", "-Wl,--strip-all", "-I", "c", "-o", out, "c/testdata/canonical.c", "c/theater.c")
	checkReply(t, out)
}

// TestAssemblyScriptSDKCanonical does the same for the AssemblyScript SDK.
func TestAssemblyScriptSDKCanonical(t *testing.T) {
	asc, err := filepath.Abs("assemblyscript/node_modules/.bin/asc")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(asc); err != nil {
		t.Skipf("asc not installed (scripts/install-toolchains): %v", err)
	}
	tool(t, "node")
	out := filepath.Join(t.TempDir(), "canonical.wasm")
	run(t, "assemblyscript/testdata", asc, "canonical.ts", "-o", out, "-O3", "--noAssert", "--runtime", "stub", "--use", "abort=")
	checkReply(t, out)
}

func tool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (scripts/install-toolchains): %v", name, err)
	}
	return path
}

func run(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
}

// checkReply runs the actor under wazero, sends it a request through the
// ABI's theater_handle_request and compares the reply with the codec's
// canonical bytes.
func checkReply(t *testing.T, wasmPath string) {
	t.Helper()
	ctx := context.Background()
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatal(err)
	}
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	mod, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithStartFunctions("_initialize"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := mod.ExportedFunction("theater_handle_request").Call(ctx, 0, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The return area: tag, then state (ptr, len) and reply (ptr, len).
	area, ok := mod.Memory().Read(uint32(res[0]), 20)
	if !ok {
		t.Fatalf("return area %#x outside memory", res[0])
	}
	if tag := binary.LittleEndian.Uint32(area); tag != 0 {
		t.Fatalf("request failed: tag %d", tag)
	}
	reply, ok := mod.Memory().Read(binary.LittleEndian.Uint32(area[12:]), binary.LittleEndian.Uint32(area[16:]))
	if !ok {
		t.Fatal("reply outside memory")
	}
	want := wantCanonical(t)
	if !bytes.Equal(reply, want) {
		t.Fatalf("reply differs from the codec's canonical bytes at byte %d:\n got %x\nwant %x", mismatchAt(reply, want), reply, want)
	}
}

func mismatchAt(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
