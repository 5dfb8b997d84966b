package preinit_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/theater-go/theater/actor/internal/preinit"
	"github.com/theater-go/theater/actor/internal/wasm"
)

// FuzzPrepare: any bytes are prepared or refused with ErrUnsupported,
// never a panic; a prepared module's probe and its image (built from a
// snapshot made of the input's own bytes) decode, carry their meta, and
// wazero compiles both whenever it compiles the input. Seeds are under
// testdata/fuzz/FuzzPrepare: the committed test guests and counters.
func FuzzPrepare(f *testing.F) {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	f.Cleanup(func() { rt.Close(ctx) })
	compiles := func(b []byte) bool {
		cm, err := rt.CompileModule(ctx, b)
		if err == nil {
			cm.Close(ctx)
		}
		return err == nil
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		plan, probe, err := preinit.Prepare(b, "_initialize")
		if err != nil {
			if !errors.Is(err, preinit.ErrUnsupported) {
				t.Fatalf("error does not wrap ErrUnsupported: %v", err)
			}
			return
		}
		m, err := wasm.Decode(b, wasm.Bounds{})
		if err != nil {
			t.Fatalf("prepared a module that does not decode: %v", err)
		}
		var mem []byte
		if len(m.Memories) == 1 {
			pages := min(m.Memories[0].Min, 4)
			if m.Memories[0].HasMax && m.Memories[0].Max < pages {
				pages = m.Memories[0].Max
			}
			mem = make([]byte, int(pages)*65536)
			for i := 0; i < len(mem) && len(b) > 0; i += 997 {
				mem[i] = b[i%len(b)]
			}
		}
		globals := make([]uint64, len(plan.Globals()))
		for i := range globals {
			globals[i] = uint64(len(b)) << (i % 64)
		}
		meta := preinit.Meta{WallReads: uint64(len(b)), MonoReads: uint64(len(globals))}
		img, err := plan.Build(mem, globals, meta)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := wasm.Decode(probe, wasm.Bounds{}); err != nil {
			t.Fatalf("probe does not decode: %v", err)
		}
		if _, err := wasm.Decode(img, wasm.Bounds{}); err != nil {
			t.Fatalf("image does not decode: %v", err)
		}
		if got, ok, err := preinit.ReadMeta(img); err != nil || !ok || got != meta {
			t.Fatalf("meta %+v %v %v, want %+v", got, ok, err, meta)
		}
		if len(b) > 1<<16 || wasm.Check(b, wasm.DefaultBounds()) != nil || !compiles(b) {
			return
		}
		if !compiles(probe) || !compiles(img) {
			t.Fatalf("wazero compiles the input but not the probe (%v) or the image (%v)", compiles(probe), compiles(img))
		}
	})
}

// FuzzReadMeta: any bytes give meta, no meta or ErrMeta, never a panic.
func FuzzReadMeta(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, _, err := preinit.ReadMeta(b); err != nil && !errors.Is(err, preinit.ErrMeta) {
			t.Fatalf("error does not wrap ErrMeta: %v", err)
		}
	})
}
