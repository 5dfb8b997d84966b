// Package abi is the host's view of the Theater guest ABI, version 1
// (docs/ABI.md): Theater's own WIT package, theater.wit, and the core-Wasm
// signatures derived from it.
//
// # Derived, not written twice
//
// theater.wit is embedded and parsed with [wit.Parse] on first use
// ([Load]). Every import's core signature comes from the WIT function
// through the lowering rules of ABI.md: scalars and enums become i32,
// u64/s64 an i64, strings and byte lists a (ptr, len) pair, anything else
// the (ptr, len) of its msgpack encoding, plus a trailing retptr when the
// function has a result; every import returns an i32 status ([StatusOK],
// [StatusFault], ...). The capability name is the interface name ("log")
// and the import module is its qualified name with the package version
// ("theater:actor/log@0.1.0"). Handler exports are named theater_ plus
// the function name with '-' replaced by '_' ([ExportName]).
//
// # Checking a module
//
// [ABI.Inspect] matches a compiled module's imports and exports against
// the ABI once per module; [Module.Granted] then matches its imports
// against one actor's granted capabilities. [ABI.Check] does both. Every
// problem is reported, each naming the import as module and name, and
// wrapping a sentinel such as [ErrNotGranted], [ErrSignature],
// [ErrForeignModule], [ErrUnknownImport] or [ErrMissingExport]. The only
// import modules a guest may use are theater:actor interfaces and
// [WASIModule].
package abi
