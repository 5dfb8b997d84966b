// Package wasm reads and writes the WebAssembly 2.0 binary format, as far
// as Theater's module passes need it, and holds a module against
// [Bounds] before it is compiled.
//
// # Decoding
//
// [Decode] parses every section into a [Module] and walks every function
// body with an [InstrReader], which knows the immediates of every 2.0
// opcode (MVP, sign extension, saturating truncation, bulk memory,
// reference types, SIMD) and checks that blocks nest. It does no type
// checking: that is wazero's job when the module is compiled. Threads,
// tail calls, exceptions, GC types and other proposals wazero does not
// enable by default are refused as malformed.
//
// The decoder is safe on hostile input: every count is checked against
// the bytes left before anything is allocated for it, so the memory it
// uses is a small multiple of the input. wazero v1.12.0 is not: a 67-byte
// module declaring 2^31 results makes it allocate 16 GiB before it finds
// the module malformed (see TestCountsDoNotAllocate). Decode first.
//
// # Bounds
//
// [Check] refuses a module over any of its [Bounds] (size, functions,
// body size and instructions, nesting, locals, memory and table sizes,
// data, globals, imports, exports) with an error wrapping [ErrBound] that
// names the limit, e.g. "memory starts at 65536 pages, limit is 256". It
// is linear in the module's size and stops at the first bound exceeded:
// a module of 100 000 nested blocks, which wazero takes ~100 s to
// compile, is refused in well under a millisecond. [DefaultBounds] fit
// large guests of every supported language.
//
// # Encoding
//
// [Module.Encode] writes a module back; a module from wat2wasm, clang or
// asc encodes to the bytes it was decoded from. [Module.RemapFuncs]
// renumbers functions outside the code section (exports, start, element
// segments, constant expressions, the name section), for passes that add
// function imports.
package wasm
