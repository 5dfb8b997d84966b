package wasm

import "fmt"

// Bounds limit what a module may declare and what it costs to compile.
// A zero field means no limit on that quantity.
type Bounds struct {
	ModuleBytes  int    // size of the binary
	Functions    int    // defined functions
	BodyBytes    int    // size of one function body, locals included
	Instructions int    // instructions in all bodies
	BodyInstrs   int    // instructions in one body
	Nesting      int    // block nesting depth in a body, the function's own block counted
	Locals       int    // declared locals of one function (params excluded)
	MemoryPages  uint32 // initial pages of each memory, defined or imported
	DataBytes    int    // bytes of all data segments
	TableSize    uint32 // initial elements of each table, defined or imported
	Globals      int    // defined globals
	Imports      int    // import entries
	Exports      int    // export entries
}

// DefaultBounds leave room for large guests in every supported language
// while refusing the hostile modules of issue 10. Go guests are the
// largest: a 6 MB one (encoding/json, regexp, text/template, net/url) has
// 4 267 functions, 1.8 M instructions, bodies up to 50 KB, nesting 550,
// 1.7 MB of data, 64 initial pages and a table of 8 363.
func DefaultBounds() Bounds {
	return Bounds{
		ModuleBytes:  32 << 20,
		Functions:    40_000,
		BodyBytes:    512 << 10,
		Instructions: 10_000_000,
		BodyInstrs:   200_000,
		Nesting:      2_000,
		Locals:       10_000,
		MemoryPages:  256,
		DataBytes:    16 << 20,
		TableSize:    100_000,
		Globals:      10_000,
		Imports:      10_000,
		Exports:      10_000,
	}
}

// Check decodes a module only to hold it against the bounds, reading
// every function body once. It is linear in the module's size and stops
// at the first bound exceeded, so a hostile module costs milliseconds to
// refuse instead of seconds or minutes to compile.
func Check(module []byte, bounds Bounds) error {
	_, err := Decode(module, bounds)
	return err
}

func (b Bounds) checkMemory(l Limits) error {
	if b.MemoryPages > 0 && l.Min > b.MemoryPages {
		return boundErr("memory starts at %d pages, limit is %d", l.Min, b.MemoryPages)
	}
	return nil
}

func (b Bounds) checkTable(l Limits) error {
	if b.TableSize > 0 && l.Min > b.TableSize {
		return boundErr("table starts at %d elements, limit is %d", l.Min, b.TableSize)
	}
	return nil
}

func (b Bounds) checkImport(im *Import) error {
	switch im.Kind {
	case KindMemory:
		return b.checkMemory(im.Limits)
	case KindTable:
		return b.checkTable(im.Limits)
	}
	return nil
}

func boundErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBound, fmt.Sprintf(format, args...))
}

func errMalformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// fmtFunc names the defined function a body error is about.
func fmtFunc(err error, i int) error { return fmt.Errorf("%w (in function %d)", err, i) }
