package preinit_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/theater-go/theater/actor/internal/preinit"
	"github.com/theater-go/theater/actor/internal/wasm"
)

const guests = "../../testdata/guests/"

func read(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBuild: the image of preinit.wat has one data segment per run of
// non-zero bytes (runs closer than the gap merge), the snapshot's memory
// size, the globals' values as constants, no start function, no
// initialiser export and no global exports of the pass, and carries its
// meta.
func TestBuild(t *testing.T) {
	plan, probe, err := preinit.Prepare(read(t, guests+"preinit.wasm"), "_initialize")
	if err != nil {
		t.Fatal(err)
	}
	pm, err := wasm.Decode(probe, wasm.Bounds{})
	if err != nil {
		t.Fatal(err)
	}
	exported := 0
	for _, e := range pm.Exports {
		if bytes.HasPrefix([]byte(e.Name), []byte(preinit.GlobalExport)) {
			exported++
		}
	}
	if n := len(plan.Globals()); n != 3 || exported != 3 { // $heap, $seen, $started
		t.Fatalf("%d mutable globals, %d exported, want 3", n, exported)
	}
	mem := make([]byte, 2*65536)
	copy(mem[100:], "ab")
	copy(mem[100+2+10:], "cd") // a gap of 10: same segment
	copy(mem[70000:], "ef")    // far: a segment of its own
	mem[len(mem)-1] = 1        // the last byte
	globals := []uint64{1 << 40, 1<<64 - 1, 7}
	img, err := plan.Build(mem, globals, preinit.Meta{WallReads: 3, MonoReads: 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	m, err := wasm.Decode(img, wasm.Bounds{})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Data) != 3 || string(m.Data[0].Init) != "ab\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00cd" || string(m.Data[1].Init) != "ef" || len(m.Data[2].Init) != 1 {
		t.Fatalf("segments %+v", m.Data)
	}
	if m.HasStart || m.Memories[0].Min != 2 {
		t.Fatalf("start %v, memory %+v", m.HasStart, m.Memories[0])
	}
	for _, e := range m.Exports {
		if e.Name == "_initialize" || bytes.HasPrefix([]byte(e.Name), []byte(preinit.GlobalExport)) {
			t.Fatalf("image exports %q", e.Name)
		}
	}
	meta, ok, err := preinit.ReadMeta(img)
	if err != nil || !ok || meta != (preinit.Meta{WallReads: 3, MonoReads: 1 << 40}) {
		t.Fatalf("meta %+v, %v, %v", meta, ok, err)
	}
	// wazero instantiates it, with the snapshot as its memory.
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	if _, err := rt.NewHostModuleBuilder("wasi_snapshot_preview1").
		NewFunctionBuilder().WithFunc(func(int32, int64, int32) int32 { return 0 }).Export("clock_time_get").
		NewFunctionBuilder().WithFunc(func(int32, int32) int32 { return 0 }).Export("random_get").
		Instantiate(ctx); err != nil {
		t.Fatal(err)
	}
	mod, err := rt.InstantiateWithConfig(ctx, img, wazero.NewModuleConfig().WithStartFunctions())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := mod.Memory().Read(0, mod.Memory().Size()); !bytes.Equal(got, mem) {
		t.Fatal("memory differs from the snapshot")
	}
	if _, ok, _ := preinit.ReadMeta(read(t, guests+"preinit.wasm")); ok {
		t.Fatal("a module that is not an image has meta")
	}
}

// TestPrepareRefuses: what a snapshot of memory and globals cannot hold
// is refused with ErrUnsupported.
func TestPrepareRefuses(t *testing.T) {
	header := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	sec := func(id byte, body ...byte) []byte {
		return append(append([]byte{id}, wasm.AppendU32(nil, uint32(len(body)))...), body...)
	}
	imp := func(kind byte, desc ...byte) []byte {
		return append(header, sec(wasm.SecImport, append([]byte{1, 1, 'm', 1, 'x', kind}, desc...)...)...)
	}
	cases := map[string][]byte{
		"imported memory":  imp(wasm.KindMemory, 0, 1),
		"imported table":   imp(wasm.KindTable, wasm.FuncRef, 0, 1),
		"imported global":  imp(wasm.KindGlobal, wasm.I32, 0),
		"two memories":     append(header, sec(wasm.SecMemory, 2, 0, 1, 0, 1)...),
		"externref global": append(header, sec(wasm.SecGlobal, 1, wasm.ExternRef, 1, 0xd0, wasm.ExternRef, wasm.OpEnd)...),
		"table.set":        read(t, guests+"preinittable.wasm"),
		"malformed":        header[:5],
	}
	for name, b := range cases {
		if _, _, err := preinit.Prepare(b, "_initialize"); !errors.Is(err, preinit.ErrUnsupported) {
			t.Errorf("%s: %v, want ErrUnsupported", name, err)
		}
	}
}
