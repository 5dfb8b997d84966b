package wasm

import (
	"bytes"
	"errors"
)

// Section ids of the binary format.
const (
	SecCustom    = 0
	SecType      = 1
	SecImport    = 2
	SecFunction  = 3
	SecTable     = 4
	SecMemory    = 5
	SecGlobal    = 6
	SecExport    = 7
	SecStart     = 8
	SecElement   = 9
	SecCode      = 10
	SecData      = 11
	SecDataCount = 12
)

// External kinds of imports and exports.
const (
	KindFunc   = 0
	KindTable  = 1
	KindMemory = 2
	KindGlobal = 3
)

// Value types.
const (
	I32       = 0x7f
	I64       = 0x7e
	F32       = 0x7d
	F64       = 0x7c
	V128      = 0x7b
	FuncRef   = 0x70
	ExternRef = 0x6f
)

var (
	// ErrMalformed is wrapped by every error about bytes that are not a
	// WebAssembly 2.0 module.
	ErrMalformed = errors.New("wasm: malformed module")
	// ErrBound is wrapped by every error about a module over one of its
	// [Bounds].
	ErrBound = errors.New("wasm: module over a limit")
)

var magic = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}

// FuncType is a function signature: value types of params and results.
type FuncType struct {
	Params, Results []byte
}

// Limits are the size limits of a memory (in pages) or a table.
type Limits struct {
	Min    uint32
	Max    uint32
	HasMax bool
}

// Import is one import entry. Type is the type index of a function, Table
// and Memory the limits of a table or memory, Global the type of a global.
type Import struct {
	Module, Name string
	Kind         byte
	Type         uint32
	RefType      byte
	Limits       Limits
	Global       GlobalType
}

// Table is a table definition.
type Table struct {
	RefType byte
	Limits  Limits
}

// GlobalType is the value type and mutability of a global.
type GlobalType struct {
	ValType byte
	Mutable bool
}

// Global is a global definition; Init is its constant expression,
// end opcode included.
type Global struct {
	Type GlobalType
	Init []byte
}

// Export is one export entry.
type Export struct {
	Name  string
	Kind  byte
	Index uint32
}

// Element is an element segment in any of the eight encodings (Flags).
// Exactly one of Funcs (flags 0-3) and Exprs (flags 4-7) is used.
type Element struct {
	Flags  uint32
	Table  uint32
	Offset []byte // constant expression of active segments
	Kind   byte   // elemkind (flags 1-3) or reftype (flags 5-7)
	Funcs  []uint32
	Exprs  [][]byte
}

// Data is a data segment: Flags 0 (active, memory 0), 1 (passive) or 2
// (active, explicit memory).
type Data struct {
	Flags  uint32
	Memory uint32
	Offset []byte
	Init   []byte
}

// Code is one function body: the encoded locals vector and the expression
// after it, final end included.
type Code struct {
	Locals    []byte
	NumLocals uint64
	Body      []byte
}

// Custom is a custom section, placed after the known section After (0:
// before every known section) so that encoding keeps the order.
type Custom struct {
	Name  string
	Data  []byte
	After byte
}

// Module is a decoded module. Slices point into the decoded bytes: change
// them by replacing, never by writing through.
type Module struct {
	Types        []FuncType
	Imports      []Import
	Funcs        []uint32 // type index of each defined function
	Tables       []Table
	Memories     []Limits
	Globals      []Global
	Exports      []Export
	Start        uint32
	HasStart     bool
	Elements     []Element
	DataCount    uint32
	HasDataCount bool
	Codes        []Code
	Data         []Data
	Customs      []Custom

	// Instructions is the number of instructions in all bodies, and
	// MaxDepth the deepest block nesting of any body (the function's own
	// block counts as 1).
	Instructions int
	MaxDepth     int
	// ChangesTables is the first function (in the function index space)
	// with an instruction that changes a table or a segment's state:
	// table.set, table.grow, table.fill, table.copy, table.init,
	// elem.drop, memory.init or data.drop. -1 when none has one.
	ChangesTables int
}

// ImportedFuncs is the number of function imports, the index of the
// first defined function.
func (m *Module) ImportedFuncs() uint32 { return m.imported(KindFunc) }

// ImportedGlobals is the number of global imports, the index of the first
// defined global.
func (m *Module) ImportedGlobals() uint32 { return m.imported(KindGlobal) }

func (m *Module) imported(kind byte) uint32 {
	var n uint32
	for i := range m.Imports {
		if m.Imports[i].Kind == kind {
			n++
		}
	}
	return n
}

// order is the position of each known section id in a module.
var order = [13]int{SecType: 1, SecImport: 2, SecFunction: 3, SecTable: 4, SecMemory: 5,
	SecGlobal: 6, SecExport: 7, SecStart: 8, SecElement: 9, SecDataCount: 10, SecCode: 11, SecData: 12}

// Decode decodes a WebAssembly 2.0 binary module, checking b against the
// bounds as it goes, so that an oversize module is refused before its
// cost is paid. Every function body is walked (see [InstrReader]).
func Decode(b []byte, bounds Bounds) (*Module, error) {
	if bounds.ModuleBytes > 0 && len(b) > bounds.ModuleBytes {
		return nil, boundErr("module is %d bytes, limit is %d", len(b), bounds.ModuleBytes)
	}
	if len(b) < 8 || !bytes.Equal(b[:8], magic) {
		return nil, errMalformed("not a WebAssembly 1.0 binary (bad magic or version)")
	}
	m := &Module{}
	r := &reader{b: b, off: 8}
	last := 0
	var lastID byte
	for !r.eof() {
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		body, err := r.bytes(size)
		if err != nil {
			return nil, err
		}
		sr := &reader{b: body}
		if id == SecCustom {
			name, err := sr.name()
			if err != nil {
				return nil, err
			}
			m.Customs = append(m.Customs, Custom{Name: name, Data: body[sr.off:], After: lastID})
			continue
		}
		if int(id) >= len(order) {
			return nil, r.errf("unknown section id %d", id)
		}
		if order[id] <= last {
			return nil, r.errf("section %d out of order or repeated", id)
		}
		last, lastID = order[id], id
		if err := m.decodeSection(id, sr, bounds); err != nil {
			return nil, err
		}
		if !sr.eof() {
			return nil, sr.errf("section %d has %d trailing bytes", id, len(body)-sr.off)
		}
	}
	if len(m.Funcs) != len(m.Codes) {
		return nil, errMalformed("%d functions declared, %d bodies", len(m.Funcs), len(m.Codes))
	}
	if m.HasDataCount && int(m.DataCount) != len(m.Data) {
		return nil, errMalformed("data count %d, %d segments", m.DataCount, len(m.Data))
	}
	if err := m.walkCode(bounds); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Module) decodeSection(id byte, r *reader, bounds Bounds) error {
	switch id {
	case SecType:
		n, err := r.count(3)
		if err != nil {
			return err
		}
		m.Types = make([]FuncType, n)
		for i := range m.Types {
			if c, err := r.byte(); err != nil {
				return err
			} else if c != 0x60 {
				return r.errf("type %d is not a function type (0x%02x)", i, c)
			}
			if m.Types[i].Params, err = r.valTypes(); err != nil {
				return err
			}
			if m.Types[i].Results, err = r.valTypes(); err != nil {
				return err
			}
		}
	case SecImport:
		n, err := r.count(4)
		if err != nil {
			return err
		}
		if bounds.Imports > 0 && int(n) > bounds.Imports {
			return boundErr("module has %d imports, limit is %d", n, bounds.Imports)
		}
		m.Imports = make([]Import, n)
		for i := range m.Imports {
			if err := r.importEntry(&m.Imports[i]); err != nil {
				return err
			}
			if err := bounds.checkImport(&m.Imports[i]); err != nil {
				return err
			}
		}
	case SecFunction:
		n, err := r.count(1)
		if err != nil {
			return err
		}
		if bounds.Functions > 0 && int(n) > bounds.Functions {
			return boundErr("module defines %d functions, limit is %d", n, bounds.Functions)
		}
		m.Funcs = make([]uint32, n)
		for i := range m.Funcs {
			if m.Funcs[i], err = r.u32(); err != nil {
				return err
			}
		}
	case SecTable:
		n, err := r.count(2)
		if err != nil {
			return err
		}
		m.Tables = make([]Table, n)
		for i := range m.Tables {
			t := &m.Tables[i]
			if t.RefType, err = r.refType(); err != nil {
				return err
			}
			if t.Limits, err = r.limits(); err != nil {
				return err
			}
			if err := bounds.checkTable(t.Limits); err != nil {
				return err
			}
		}
	case SecMemory:
		n, err := r.count(2)
		if err != nil {
			return err
		}
		m.Memories = make([]Limits, n)
		for i := range m.Memories {
			if m.Memories[i], err = r.limits(); err != nil {
				return err
			}
			if err := bounds.checkMemory(m.Memories[i]); err != nil {
				return err
			}
		}
	case SecGlobal:
		n, err := r.count(3)
		if err != nil {
			return err
		}
		if bounds.Globals > 0 && int(n) > bounds.Globals {
			return boundErr("module defines %d globals, limit is %d", n, bounds.Globals)
		}
		m.Globals = make([]Global, n)
		for i := range m.Globals {
			g := &m.Globals[i]
			if g.Type, err = r.globalType(); err != nil {
				return err
			}
			if g.Init, err = r.constExpr(); err != nil {
				return err
			}
		}
	case SecExport:
		n, err := r.count(3)
		if err != nil {
			return err
		}
		if bounds.Exports > 0 && int(n) > bounds.Exports {
			return boundErr("module has %d exports, limit is %d", n, bounds.Exports)
		}
		m.Exports = make([]Export, n)
		for i := range m.Exports {
			e := &m.Exports[i]
			if e.Name, err = r.name(); err != nil {
				return err
			}
			if e.Kind, err = r.byte(); err != nil {
				return err
			}
			if e.Kind > KindGlobal {
				return r.errf("export kind %d", e.Kind)
			}
			if e.Index, err = r.u32(); err != nil {
				return err
			}
		}
	case SecStart:
		var err error
		m.Start, err = r.u32()
		m.HasStart = true
		return err
	case SecElement:
		n, err := r.count(2)
		if err != nil {
			return err
		}
		m.Elements = make([]Element, n)
		for i := range m.Elements {
			if err := r.element(&m.Elements[i]); err != nil {
				return err
			}
		}
	case SecDataCount:
		var err error
		m.DataCount, err = r.u32()
		m.HasDataCount = true
		return err
	case SecCode:
		n, err := r.count(3)
		if err != nil {
			return err
		}
		if int(n) != len(m.Funcs) {
			return r.errf("%d functions declared, %d bodies", len(m.Funcs), n)
		}
		m.Codes = make([]Code, n)
		base := int(m.ImportedFuncs())
		for i := range m.Codes {
			if err := r.code(&m.Codes[i], base+i, bounds); err != nil {
				return err
			}
		}
	case SecData:
		n, err := r.count(2)
		if err != nil {
			return err
		}
		m.Data = make([]Data, n)
		total := 0
		for i := range m.Data {
			d := &m.Data[i]
			if err := r.data(d); err != nil {
				return err
			}
			total += len(d.Init)
			if bounds.DataBytes > 0 && total > bounds.DataBytes {
				return boundErr("data segments hold at least %d bytes, limit is %d", total, bounds.DataBytes)
			}
		}
	}
	return nil
}

func (r *reader) valTypes() ([]byte, error) {
	n, err := r.count(1)
	if err != nil {
		return nil, err
	}
	b, _ := r.bytes(n)
	for _, c := range b {
		if !isValType(c) {
			return nil, r.errf("bad value type 0x%02x", c)
		}
	}
	return b, nil
}

func (r *reader) refType() (byte, error) {
	c, err := r.byte()
	if err == nil && !isRefType(c) {
		err = r.errf("bad reference type 0x%02x", c)
	}
	return c, err
}

func (r *reader) limits() (Limits, error) {
	var l Limits
	flag, err := r.byte()
	if err != nil {
		return l, err
	}
	if flag > 1 {
		return l, r.errf("limits flag 0x%02x (shared memories and 64-bit limits are not supported)", flag)
	}
	if l.Min, err = r.u32(); err != nil {
		return l, err
	}
	if flag == 1 {
		l.HasMax = true
		if l.Max, err = r.u32(); err != nil {
			return l, err
		}
	}
	return l, nil
}

func (r *reader) globalType() (GlobalType, error) {
	var g GlobalType
	var err error
	if g.ValType, err = r.byte(); err != nil {
		return g, err
	}
	if !isValType(g.ValType) {
		return g, r.errf("bad value type 0x%02x", g.ValType)
	}
	mut, err := r.byte()
	if err != nil {
		return g, err
	}
	if mut > 1 {
		return g, r.errf("bad mutability 0x%02x", mut)
	}
	g.Mutable = mut == 1
	return g, nil
}

func (r *reader) importEntry(im *Import) error {
	var err error
	if im.Module, err = r.name(); err != nil {
		return err
	}
	if im.Name, err = r.name(); err != nil {
		return err
	}
	if im.Kind, err = r.byte(); err != nil {
		return err
	}
	switch im.Kind {
	case KindFunc:
		im.Type, err = r.u32()
	case KindTable:
		if im.RefType, err = r.refType(); err == nil {
			im.Limits, err = r.limits()
		}
	case KindMemory:
		im.Limits, err = r.limits()
	case KindGlobal:
		im.Global, err = r.globalType()
	default:
		err = r.errf("import kind %d", im.Kind)
	}
	return err
}

// constExpr reads a constant expression up to and with its end.
func (r *reader) constExpr() ([]byte, error) {
	start := r.off
	for {
		op, err := r.byte()
		if err != nil {
			return nil, err
		}
		p := r.off
		ok := true
		n := 0
		switch op {
		case OpEnd:
			return r.b[start:r.off:r.off], nil
		case OpI32Const:
			n, ok = skipSLEB(r.b[p:], 5, 32)
		case OpI64Const:
			n, ok = skipSLEB(r.b[p:], 10, 64)
		case 0x43:
			n, ok = 4, p+4 <= len(r.b)
		case 0x44:
			n, ok = 8, p+8 <= len(r.b)
		case OpGlobalGet, OpRefFunc:
			_, n, ok = readU32(r.b[p:])
		case 0xd0:
			n, ok = 1, p < len(r.b) && isRefType(r.b[p])
		case OpVecPrefix:
			var sub uint32
			sub, n, ok = readU32(r.b[p:])
			ok = ok && sub == 0x0c && p+n+16 <= len(r.b)
			n += 16
		default:
			ok = false
		}
		if !ok {
			return nil, r.errf("opcode 0x%02x in a constant expression", op)
		}
		r.off += n
	}
}

func (r *reader) element(e *Element) error {
	var err error
	if e.Flags, err = r.u32(); err != nil {
		return err
	}
	if e.Flags > 7 {
		return r.errf("element segment flags %d", e.Flags)
	}
	if e.Flags&2 != 0 && e.Flags&1 == 0 { // explicit table index
		if e.Table, err = r.u32(); err != nil {
			return err
		}
	}
	if e.Flags&1 == 0 { // active
		if e.Offset, err = r.constExpr(); err != nil {
			return err
		}
	}
	if e.Flags&3 != 0 { // elemkind or reftype
		if e.Kind, err = r.byte(); err != nil {
			return err
		}
		if e.Flags&4 == 0 && e.Kind != 0 {
			return r.errf("element kind 0x%02x", e.Kind)
		}
		if e.Flags&4 != 0 && !isRefType(e.Kind) {
			return r.errf("bad reference type 0x%02x", e.Kind)
		}
	}
	n, err := r.count(1)
	if err != nil {
		return err
	}
	if e.Flags&4 == 0 {
		e.Funcs = make([]uint32, n)
		for i := range e.Funcs {
			if e.Funcs[i], err = r.u32(); err != nil {
				return err
			}
		}
		return nil
	}
	e.Exprs = make([][]byte, n)
	for i := range e.Exprs {
		if e.Exprs[i], err = r.constExpr(); err != nil {
			return err
		}
	}
	return nil
}

func (r *reader) data(d *Data) error {
	var err error
	if d.Flags, err = r.u32(); err != nil {
		return err
	}
	switch d.Flags {
	case 0:
	case 1:
	case 2:
		if d.Memory, err = r.u32(); err != nil {
			return err
		}
	default:
		return r.errf("data segment flags %d", d.Flags)
	}
	if d.Flags != 1 {
		if d.Offset, err = r.constExpr(); err != nil {
			return err
		}
	}
	n, err := r.u32()
	if err != nil {
		return err
	}
	d.Init, err = r.bytes(n)
	return err
}

func (r *reader) code(c *Code, i int, bounds Bounds) error {
	size, err := r.u32()
	if err != nil {
		return err
	}
	if bounds.BodyBytes > 0 && int64(size) > int64(bounds.BodyBytes) {
		return boundErr("function %d has a %d-byte body, limit is %d", i, size, bounds.BodyBytes)
	}
	b, err := r.bytes(size)
	if err != nil {
		return err
	}
	br := &reader{b: b}
	n, err := br.count(2)
	if err != nil {
		return err
	}
	for j := uint32(0); j < n; j++ {
		k, err := br.u32()
		if err != nil {
			return err
		}
		t, err := br.byte()
		if err != nil {
			return err
		}
		if !isValType(t) {
			return br.errf("bad local type 0x%02x", t)
		}
		c.NumLocals += uint64(k)
	}
	if bounds.Locals > 0 && c.NumLocals > uint64(bounds.Locals) {
		return boundErr("function %d declares %d locals, limit is %d", i, c.NumLocals, bounds.Locals)
	}
	if c.NumLocals > 1<<32-1 {
		return br.errf("function %d declares %d locals", i, c.NumLocals)
	}
	c.Locals, c.Body = b[:br.off:br.off], b[br.off:]
	return nil
}

// walkCode walks every body once, counting instructions and nesting.
// Errors name functions by their index in the function index space.
func (m *Module) walkCode(bounds Bounds) error {
	base := int(m.ImportedFuncs())
	m.ChangesTables = -1
	var ir InstrReader
	var in Instr
	for i := range m.Codes {
		ir.Reset(m.Codes[i].Body, bounds.Nesting)
		n := 0
		for ir.Next(&in) {
			if m.ChangesTables < 0 && changesTables(&in) {
				m.ChangesTables = base + i
			}
			n++
			if bounds.BodyInstrs > 0 && n > bounds.BodyInstrs {
				return boundErr("function %d has more than %d instructions", base+i, bounds.BodyInstrs)
			}
			m.Instructions++
			if bounds.Instructions > 0 && m.Instructions > bounds.Instructions {
				return boundErr("module has more than %d instructions", bounds.Instructions)
			}
			if in.Depth > m.MaxDepth {
				m.MaxDepth = in.Depth
			}
		}
		if err := ir.Err(); err != nil {
			return fmtFunc(err, base+i)
		}
	}
	return nil
}

// changesTables reports whether in changes a table or a segment.
func changesTables(in *Instr) bool {
	if in.Op == 0x26 { // table.set
		return true
	}
	if in.Op != OpMiscPrefix {
		return false
	}
	switch in.Sub {
	case 8, 9, 12, 13, 14, 15, 17: // memory.init, data.drop, table.init, elem.drop, table.copy, table.grow, table.fill
		return true
	}
	return false
}
