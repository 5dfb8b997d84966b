// Package meter adds fuel metering to a WebAssembly module, so that a
// runaway guest is stopped and the work a call does is counted, with no
// goroutine and no allocation per call and a few instructions per loop
// iteration.
//
// # The pass
//
// [Instrument] decodes the module (package wasm, holding it against the
// configured bounds), then adds:
//
//   - a mutable i64 global, exported as [FuelExport], starting at 0;
//   - a function import [ImportModule].[ImportName] of type (i64) -> i64,
//     placed after the existing function imports, so every defined
//     function's index moves up by one and every reference to one (calls,
//     ref.func, element segments, exports, the start function, the name
//     section) is renumbered;
//   - at each function entry and right after each loop header, a metering
//     point: subtract the region's cost from the global and, if it is then
//     negative, call the import with the global's value and store its
//     result back in the global.
//
// The output is cached by the original module's digest and [Version].
//
// # Cost model
//
// Every instruction costs 1 unit. A region is a function body or a loop
// body, without the loops nested in it; its cost is the number of
// instructions in it, and its metering point charges that cost on entry
// (a loop's point runs on every iteration). Blocks and ifs only branch
// forward, so an instruction runs at most once per entry to its region:
// the charge is an upper bound of what the region runs, exact for code
// that runs to the region's end, and it depends only on which regions are
// entered — the same call on the same state consumes the same fuel on
// every run, engine and node. Calls cost 1 plus their callee's own
// charges; memory.grow, memory.fill and memory.copy cost 1 whatever their
// size (memory is bounded by the memory limit). Host functions are not
// metered: the host bounds them itself.
//
// # The host's contract
//
// The import receives the fuel left, which is negative, and returns the
// new fuel. To let the guest go on it returns a value of at least 0,
// typically the argument plus a slice of the budget; a negative result
// calls it again at the next metering point. To stop the guest it panics:
// with sys.NewExitError, which wazero turns into the call's error and
// which closes the module, or with any other error, which the call
// returns with the module left open. Because the global starts at 0, the
// first metering point of the start function or of the first export
// called asks the host, so the host sees every instance from its first
// instruction.
//
// Fuel consumed by a call is what the host granted during it minus what
// the global holds after it (the host may also set the global before the
// call, through the export). A deterministic fuel limit is a total the
// host stops granting at; the point it stops at is the same on every run,
// whatever the slice size. A wall-clock deadline is checked by the host
// at each refill, so a slice of n units bounds the overshoot to the time
// n units take: 0.1–0.4 ns each in the tests' loops on wazero's compiler,
// so 100 000 units is 13–35 µs.
//
// # Precision
//
// The charge is exact for straight-line code and an upper bound
// elsewhere: a region that returns or branches out early still pays for
// all of it. Go's compiler makes each function one loop whose body holds
// every resumption point, and compiles the function's own loops as
// branches back to it, so a Go loop iteration pays for its whole
// function; Go guests are charged several times what they execute. The
// count stays deterministic; a finer cost model (a point at every branch
// target) would be a new [Version].
package meter
