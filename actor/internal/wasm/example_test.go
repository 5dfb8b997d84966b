package wasm_test

import (
	"errors"
	"fmt"

	"github.com/theater-go/theater/actor/internal/wasm"
)

// A module that declares 4 GiB of memory is refused before wazero
// would reserve it.
func ExampleCheck() {
	mod := []byte{
		0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00, // magic, version 1
		wasm.SecMemory, 5, // section id, size
		1, 0x00, 0x80, 0x80, 0x04, // one memory, no maximum, 65536 pages
	}
	err := wasm.Check(mod, wasm.DefaultBounds())
	fmt.Println(errors.Is(err, wasm.ErrBound))
	fmt.Println(err)
	// Output:
	// true
	// wasm: module over a limit: memory starts at 65536 pages, limit is 256
}
