package wasm_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/theater-go/theater/actor/internal/wasm"
)

// FuzzDecode: any bytes decode to a module or an error, never a panic or
// an allocation beyond a small multiple of the input; a decoded module
// encodes to bytes that decode to the same encoding, and that wazero
// compiles exactly when it compiles the input (the encoding is
// faithful).
//
// wazero is asked only about inputs Decode accepts within the default
// bounds: it allocates by declared counts before checking them (see
// TestCountsDoNotAllocate), and would take the fuzzer down.
func FuzzDecode(f *testing.F) {
	// Seeds are under testdata/fuzz/FuzzDecode: the committed WAT, C and
	// AssemblyScript guests.
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
		_ = wasm.Check(b, wasm.DefaultBounds())
		m, err := wasm.Decode(b, wasm.Bounds{})
		if err != nil {
			return
		}
		out := m.Encode()
		m2, err := wasm.Decode(out, wasm.Bounds{})
		if err != nil {
			t.Fatalf("re-encoded module does not decode: %v", err)
		}
		if out2 := m2.Encode(); !bytes.Equal(out, out2) {
			t.Fatalf("encoding is not stable")
		}
		if len(b) > 1<<16 || wasm.Check(b, wasm.DefaultBounds()) != nil {
			return
		}
		if a, b := compiles(b), compiles(out); a != b {
			t.Fatalf("wazero compiles the input: %v, its re-encoding: %v", a, b)
		}
	})
}
