package wasm_test

import (
	"bytes"

	"github.com/theater-go/theater/actor/internal/wasm"
)

// module assembles a binary module from (id, body) sections.
func module(sections ...section) []byte {
	b := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	for _, s := range sections {
		b = append(b, s.id)
		b = wasm.AppendU32(b, uint32(len(s.body)))
		b = append(b, s.body...)
	}
	return b
}

type section struct {
	id   byte
	body []byte
}

// vec encodes a vector of already encoded elements.
func vec(elems ...[]byte) []byte {
	b := wasm.AppendU32(nil, uint32(len(elems)))
	for _, e := range elems {
		b = append(b, e...)
	}
	return b
}

// funcs returns the type, function and code sections of n functions of
// type () -> () with the given body (without locals), all the same.
func funcs(n int, body []byte) []section {
	fn := wasm.AppendU32(nil, uint32(n))
	code := wasm.AppendU32(nil, uint32(n))
	entry := append([]byte{0}, body...) // no locals
	for range n {
		fn = append(fn, 0)
		code = wasm.AppendU32(code, uint32(len(entry)))
		code = append(code, entry...)
	}
	return []section{
		{wasm.SecType, vec([]byte{0x60, 0, 0})},
		{wasm.SecFunction, fn},
		{wasm.SecCode, code},
	}
}

// nested is a body of depth nested empty blocks.
func nested(depth int) []byte {
	b := bytes.Repeat([]byte{wasm.OpBlock, 0x40}, depth)
	b = append(b, bytes.Repeat([]byte{wasm.OpEnd}, depth)...)
	return append(b, wasm.OpEnd)
}

// nops is a body of n nop instructions.
func nops(n int) []byte { return append(bytes.Repeat([]byte{0x01}, n), wasm.OpEnd) }

// memory is a memory section of one memory of min pages.
func memory(min uint32) section {
	return section{wasm.SecMemory, wasm.AppendU32([]byte{1, 0}, min)}
}

// dataSegment is a data section of one active segment of n bytes at 0.
func dataSegment(n int) section {
	b := []byte{1, 0, wasm.OpI32Const, 0, wasm.OpEnd}
	b = wasm.AppendU32(b, uint32(n))
	return section{wasm.SecData, append(b, make([]byte, n)...)}
}
