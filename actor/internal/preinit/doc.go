// Package preinit turns a module and a snapshot of its initialised state
// into a pre-initialised image, as Wizer does: the image's data segments
// are the snapshot of linear memory, its mutable globals start at their
// snapshotted values, and its start function and initialiser export are
// gone, so that instantiating it costs a copy rather than a start-up.
//
// # Use
//
// [Prepare] checks that a module's initialisation can be snapshotted and
// returns the module to run it in (every mutable global exported, see
// [GlobalExport]); the caller instantiates that, runs the start function
// and the initialiser, reads memory and the globals, and gives them to
// [Plan.Build]. [ReadMeta] reads back the [Meta] an image carries.
//
// # What cannot be snapshotted
//
// A snapshot holds memory and globals only, so [Prepare] refuses, with
// [ErrUnsupported], modules whose state lies elsewhere: imported memories,
// tables or globals; code that changes a table or a segment (table.set,
// table.grow, table.fill, table.copy, table.init, elem.drop,
// memory.init, data.drop); mutable globals of reference or vector types.
// Host calls made during the run are the caller's to refuse.
package preinit
