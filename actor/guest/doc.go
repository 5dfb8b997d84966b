// Package guest is the Go SDK for writing Theater actors: Go code compiled
// with the standard toolchain to a WebAssembly reactor,
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o actor.wasm .
//
// It implements the guest side of the ABI in docs/ABI.md: it exports
// cabi_realloc, theater_abi_version and the theater_* handlers, and wraps
// the host's theater:actor/* imports ([Log], [SelfID], [Send], [Request],
// [Now], [RandomBytes]) as plain functions that return errors.
//
// # Registering handlers
//
// A c-shared module never runs main.main; the host runs _initialize,
// which runs package init functions. So register the [Handlers] with
// [Handle] in init:
//
//	func init() {
//		guest.Handle(guest.Handlers{Init: start, Send: add, Request: addAndGet})
//	}
//	func main() {}
//
// # State and messages
//
// State and messages are msgpack bytes; [AppendUint], [AppendInt],
// [AppendFloat64], [AppendString], [ReadUint] and friends encode the
// common types without reflection, in the canonical form of
// docs/WIT-MSGPACK.md that the host's codec writes too: integers in their
// smallest encoding by value, floats at their WIT width with one NaN, the
// smallest headers. The chain hashes states, so canonical bytes keep a
// guest's state byte-identical to what any other writer would produce for
// the same value. Writing record fields in WIT order, flags in
// declaration order and map entries in ascending key order is the
// caller's part (see [AppendMapHeader]); the host makes other bytes
// canonical at a cost.
//
// # Memory
//
// Memory handed to the host (results, and the blocks the host allocates
// through cabi_realloc) stays reachable until the guest is next entered
// after the handler returns, as the ABI requires; handlers do not need to
// do anything about it. A handler may keep no reference to its argument
// slices after it returns.
//
// # Testing natively
//
// On other platforms the package compiles, so actor logic can be unit
// tested natively, but the host functions return [ErrNotWasm].
package guest
