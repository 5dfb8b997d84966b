package preinit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/theater-go/theater/actor/internal/wasm"
)

// Version identifies the image format and the rules of [Prepare] and
// [Plan.Build]: an image is cached under the module's digest, the
// metering pass's version and this one.
const Version = 1

// GlobalExport prefixes the names under which the module of [Prepare]
// exports each mutable global, followed by the global's index.
const GlobalExport = "theater:preinit/global/"

// MetaSection names the custom section in which an image carries its
// [Meta].
const MetaSection = "theater:preinit"

// gapBytes is the run of zero bytes that splits a data segment: shorter
// runs are copied as part of the segment, which is cheaper to instantiate
// than another segment.
const gapBytes = 64

var (
	// ErrUnsupported is wrapped by the errors of [Prepare] about a
	// module whose initialisation could change what a snapshot of its
	// memory and globals does not hold.
	ErrUnsupported = errors.New("preinit: module cannot be pre-initialised")
	// ErrMeta is wrapped by the errors of [ReadMeta] about a malformed
	// meta section.
	ErrMeta = errors.New("preinit: malformed meta section")
)

// Meta is what an image records of its initialisation besides memory and
// globals: how many times it read each WASI clock, so that an instance of
// the image goes on from there and never sees a clock go back.
type Meta struct {
	WallReads, MonoReads uint64
}

// Plan is a module ready to be snapshotted.
type Plan struct {
	m       *wasm.Module
	init    string   // the initialiser export, removed from the image
	globals []uint32 // mutable defined globals, in index order
	memory  bool     // the module defines its one memory
}

// Globals returns the indices of the globals [Plan.Build] needs the values
// of, in the order it takes them; the module of [Prepare] exports global i
// as GlobalExport followed by i in decimal.
func (p *Plan) Globals() []uint32 { return p.globals }

// Prepare checks that module can be pre-initialised and returns its plan
// and the module to initialise: the same with every mutable defined
// global exported (see [Plan.Globals]). init is the name of the
// initialiser export, if any (_initialize).
//
// The checks: no imported memory, table or global (their state is the
// host's); at most one memory; no instruction that changes a table or a
// segment's state (table.set, table.grow, table.fill, table.copy,
// table.init, elem.drop, memory.init, data.drop), since the snapshot
// holds memory and globals only; no mutable global of a reference or
// vector type.
func Prepare(module []byte, init string) (*Plan, []byte, error) {
	m, err := wasm.Decode(module, wasm.Bounds{})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	return PrepareModule(m, init)
}

// PrepareModule is [Prepare] for a decoded module, which it keeps: the
// caller must not change m afterwards.
func PrepareModule(m *wasm.Module, init string) (*Plan, []byte, error) {
	for i := range m.Imports {
		if k := m.Imports[i].Kind; k != wasm.KindFunc {
			return nil, nil, fmt.Errorf("%w: imports %s %q", ErrUnsupported, kindName[k], m.Imports[i].Module+"."+m.Imports[i].Name)
		}
	}
	if len(m.Memories) > 1 {
		return nil, nil, fmt.Errorf("%w: %d memories", ErrUnsupported, len(m.Memories))
	}
	if f := m.ChangesTables; f >= 0 {
		return nil, nil, fmt.Errorf("%w: function %d changes a table or a segment", ErrUnsupported, f)
	}
	p := &Plan{m: m, init: init, memory: len(m.Memories) == 1}
	for _, e := range m.Exports {
		if strings.HasPrefix(e.Name, GlobalExport) {
			return nil, nil, fmt.Errorf("%w: exports %q, a name of the pass", ErrUnsupported, e.Name)
		}
	}
	exports := m.Exports[:len(m.Exports):len(m.Exports)]
	for i, g := range m.Globals {
		if !g.Type.Mutable {
			continue
		}
		switch g.Type.ValType {
		case wasm.I32, wasm.I64, wasm.F32, wasm.F64:
		default:
			return nil, nil, fmt.Errorf("%w: mutable global %d of type 0x%02x", ErrUnsupported, i, g.Type.ValType)
		}
		idx := uint32(i) // no imported globals: defined ones start at 0
		p.globals = append(p.globals, idx)
		exports = append(exports, wasm.Export{Name: GlobalExport + strconv.FormatUint(uint64(idx), 10), Kind: wasm.KindGlobal, Index: idx})
	}
	probe := *m
	probe.Exports = exports
	return p, probe.Encode(), nil
}

var kindName = [...]string{wasm.KindFunc: "function", wasm.KindTable: "table", wasm.KindMemory: "memory", wasm.KindGlobal: "global"}

// Build returns the image: the module with memory as its only data (one
// active segment per run of non-zero bytes), its initial memory the size
// of memory, each mutable global starting at its value in globals (raw
// bits, in the order of [Plan.Globals]), no start function, no
// initialiser export, and meta in a [MetaSection] custom section. memory
// must be whole pages.
func (p *Plan) Build(memory []byte, globals []uint64, meta Meta) ([]byte, error) {
	if len(globals) != len(p.globals) {
		return nil, fmt.Errorf("preinit: %d global values for %d globals", len(globals), len(p.globals))
	}
	if len(memory)%65536 != 0 || (!p.memory && len(memory) != 0) {
		return nil, fmt.Errorf("preinit: memory of %d bytes", len(memory))
	}
	m := *p.m
	m.HasStart = false
	m.HasDataCount = false // no code refers to a segment (checkCode)
	m.Exports = nil
	for _, e := range p.m.Exports {
		if !(e.Kind == wasm.KindFunc && e.Name == p.init) {
			m.Exports = append(m.Exports, e)
		}
	}
	if p.memory {
		m.Memories = []wasm.Limits{p.m.Memories[0]}
		m.Memories[0].Min = uint32(len(memory) / 65536)
	}
	m.Globals = append([]wasm.Global(nil), p.m.Globals...)
	for k, i := range p.globals {
		m.Globals[i].Init = constExpr(m.Globals[i].Type.ValType, globals[k])
	}
	m.Data = segments(memory)
	m.Customs = append(p.m.Customs[:len(p.m.Customs):len(p.m.Customs)],
		wasm.Custom{Name: MetaSection, Data: meta.encode(), After: wasm.SecData})
	return m.Encode(), nil
}

// constExpr is the constant expression of a value of type t with bits v.
func constExpr(t byte, v uint64) []byte {
	switch t {
	case wasm.I32:
		return append(wasm.AppendS64([]byte{wasm.OpI32Const}, int64(int32(v))), wasm.OpEnd)
	case wasm.I64:
		return append(wasm.AppendS64([]byte{wasm.OpI64Const}, int64(v)), wasm.OpEnd)
	case wasm.F32:
		return append(binary.LittleEndian.AppendUint32([]byte{0x43}, uint32(v)), wasm.OpEnd)
	default: // F64: Prepare admits no other type
		return append(binary.LittleEndian.AppendUint64([]byte{0x44}, v), wasm.OpEnd)
	}
}

// segments splits memory into active segments of memory 0, one per run of
// non-zero bytes separated by at least gapBytes zeros.
func segments(memory []byte) []wasm.Data {
	var out []wasm.Data
	for i := 0; i < len(memory); {
		if memory[i] == 0 {
			i++
			continue
		}
		start, end := i, i+1
		for j := i + 1; j < len(memory) && j-end < gapBytes; j++ {
			if memory[j] != 0 {
				end = j + 1
			}
		}
		out = append(out, wasm.Data{Offset: append(wasm.AppendS64([]byte{wasm.OpI32Const}, int64(int32(uint32(start)))), wasm.OpEnd),
			Init: memory[start:end:end]})
		i = end
	}
	return out
}

func (m Meta) encode() []byte {
	b := []byte{Version}
	b = binary.AppendUvarint(b, m.WallReads)
	return binary.AppendUvarint(b, m.MonoReads)
}

// ReadMeta finds the [MetaSection] of an image and decodes it; ok is false
// when the module has none (it is not an image). Only the section headers
// are read, not the sections.
func ReadMeta(module []byte) (meta Meta, ok bool, err error) {
	if len(module) < 8 {
		return meta, false, fmt.Errorf("%w: module of %d bytes", ErrMeta, len(module))
	}
	b := module[8:]
	for len(b) > 0 {
		id := b[0]
		size, n := binary.Uvarint(b[1:])
		if n <= 0 || n > 5 || size > uint64(len(b)-1-n) {
			return meta, false, fmt.Errorf("%w: bad section header", ErrMeta)
		}
		body := b[1+n : 1+n+int(size)]
		b = b[1+n+int(size):]
		if id != wasm.SecCustom {
			continue
		}
		l, k := binary.Uvarint(body)
		if k <= 0 || l > uint64(len(body)-k) {
			return meta, false, fmt.Errorf("%w: bad custom section name", ErrMeta)
		}
		if string(body[k:k+int(l)]) != MetaSection {
			continue
		}
		meta, err = decodeMeta(body[k+int(l):])
		return meta, err == nil, err
	}
	return meta, false, nil
}

func decodeMeta(b []byte) (Meta, error) {
	var m Meta
	if len(b) == 0 || b[0] != Version {
		return m, fmt.Errorf("%w: not version %d", ErrMeta, Version)
	}
	b = b[1:]
	var n int
	if m.WallReads, n = binary.Uvarint(b); n <= 0 {
		return m, fmt.Errorf("%w: wall reads", ErrMeta)
	}
	b = b[n:]
	if m.MonoReads, n = binary.Uvarint(b); n <= 0 {
		return m, fmt.Errorf("%w: mono reads", ErrMeta)
	}
	if n != len(b) {
		return m, fmt.Errorf("%w: %d trailing bytes", ErrMeta, len(b)-n)
	}
	return m, nil
}
