package preinit_test

import (
	"fmt"
	"os"

	"github.com/theater-go/theater/actor/internal/preinit"
	"github.com/theater-go/theater/actor/internal/wasm"
)

// An image of a module from a snapshot: here one page of memory holding
// "hi" at 1024 and the module's three mutable globals at 1, 2 and 3 (a
// host takes them from an instance of the prepared module, after its
// initialisation).
func ExamplePlan_Build() {
	b, err := os.ReadFile("../../testdata/guests/preinit.wasm")
	if err != nil {
		panic(err)
	}
	plan, _, err := preinit.Prepare(b, "_initialize")
	if err != nil {
		panic(err)
	}
	mem := make([]byte, 65536)
	copy(mem[1024:], "hi")
	img, err := plan.Build(mem, []uint64{1, 2, 3}, preinit.Meta{MonoReads: 1})
	if err != nil {
		panic(err)
	}
	m, err := wasm.Decode(img, wasm.Bounds{})
	if err != nil {
		panic(err)
	}
	meta, _, _ := preinit.ReadMeta(img)
	fmt.Printf("%d segment %q, start function %v, %d clock read\n", len(m.Data), m.Data[0].Init, m.HasStart, meta.MonoReads)
	// Output:
	// 1 segment "hi", start function false, 1 clock read
}
