// Package wit loads WIT (the WebAssembly Interface Type language) and
// resolves it into a type model: packages, interfaces, worlds, functions
// and types, all linked by pointer.
//
// # Loading
//
// [Load] takes a .wit file or a directory. A file is a single-file root
// package whose nested "package x { ... }" blocks provide dependencies; a
// directory's *.wit files together form the root package, and each entry
// of its deps/ folder (a file, possibly with nested package blocks, or a
// directory holding one package) provides dependencies. [WithDeps] adds
// more dependency roots from elsewhere, and [Parse] loads one in-memory
// file. Dependencies are resolved in topological order, a package
// defined twice must have the same contents both times, and a reference
// without a version matches the only version loaded.
//
// # The type model
//
// A [Model] holds the root [Package] and everything it reaches, in
// dependency order. Names are resolved: a use becomes an [Alias] whose
// Target is the [TypeDef] of the other interface, a resource named as a
// type becomes an owned [Handle], methods get their self: borrow<r>
// parameter and constructors their result. Worlds are elaborated:
// includes are merged (with "with" renames, interface imports
// de-duplicated), and every interface that an imported or exported
// interface uses is added to the imports ahead of its user.
//
// Look things up with [Model.Type], [Model.Interface], [Model.World] and
// [Model.Package], which take names such as "types.point",
// "wasi:io/streams@0.2.12.input-stream" or "wasi:cli/command", and with
// [Interface.Type] and [Interface.Function].
//
// The msgpack and JSON value codec for these types lives in package
// [github.com/theater-go/theater/wit/codec].
//
// # Printing
//
// [Print] writes a package as canonical WIT (two-space indentation, docs
// as /// comments, gates, uses grouped back into use statements,
// resource members inside their resource, worlds flattened), and
// [PrintWorld] writes one world. Loading printed WIT gives an equal
// model, with one exception: a type defined in a world keeps that world
// as its owner when another world includes it, which printed WIT cannot
// express.
//
// # Errors
//
// Resolution checks names, duplicates, cycles, versions, handles,
// includes and the gate rules that a gated package has a version and
// that @deprecated stands beside @since or @unstable. WIT.md's rules that
// an item using or inside a gated item be compatibly gated are not
// checked yet.
//
// Failures are [*Error] values carrying the source position and a
// message, such as
//
//	wit: types.wit:3:16: undefined type "foo"
//
// They unwrap to [ErrSyntax], [ErrResolve] or [ErrNotFound], so callers
// test the kind with [errors.Is]. I/O errors from [Load] are returned as
// package os reports them.
package wit
