package wasm

// Opcodes the passes look at.
const (
	OpUnreachable  = 0x00
	OpBlock        = 0x02
	OpLoop         = 0x03
	OpIf           = 0x04
	OpElse         = 0x05
	OpEnd          = 0x0b
	OpBr           = 0x0c
	OpBrIf         = 0x0d
	OpCall         = 0x10
	OpCallIndirect = 0x11
	OpDrop         = 0x1a
	OpGlobalGet    = 0x23
	OpGlobalSet    = 0x24
	OpMemoryGrow   = 0x40
	OpI32Const     = 0x41
	OpI64Const     = 0x42
	OpI64LtS       = 0x53
	OpI64Sub       = 0x7d
	OpRefFunc      = 0xd2
	OpMiscPrefix   = 0xfc
	OpVecPrefix    = 0xfd
)

// Instr is one decoded instruction of a function body: its opcode and
// where it and its immediates lie in the body.
type Instr struct {
	Op       byte   // first opcode byte
	Sub      uint32 // the second opcode of a 0xfc or 0xfd prefixed instruction
	Index    uint32 // first index immediate: call, ref.func, local/global/table ops, br, call_indirect's type, a block's type index
	TypeIdx  bool   // a block, loop or if whose type is a type index (in Index)
	Start    int    // offset of the opcode
	ImmStart int    // offset of the first immediate after the opcode(s)
	End      int    // offset just past the instruction
	Depth    int    // block nesting depth after this instruction
}

// InstrReader walks the instructions of one function body (the
// expression after the locals), checking that every opcode is a
// WebAssembly 2.0 opcode with well-formed immediates and that blocks nest
// properly. It does no type checking: wazero validates the result.
type InstrReader struct {
	b        []byte
	off      int
	depth    int
	maxDepth int
	done     bool
	err      error
}

// Reset makes the reader read body, refusing blocks nested deeper than
// maxDepth (0: no limit). A reader is used after Reset only, and one
// reader serves many bodies without allocating.
func (r *InstrReader) Reset(body []byte, maxDepth int) {
	*r = InstrReader{b: body, maxDepth: maxDepth, depth: 1}
}

// Err is the error that stopped Next, or nil when the body ended well.
func (r *InstrReader) Err() error { return r.err }

// Next decodes the next instruction into in and reports whether there was
// one. The function's final end is returned too (with Depth 0); after it
// Next returns false, and Err says whether the body was well formed.
func (r *InstrReader) Next(in *Instr) bool {
	if r.done || r.err != nil {
		return false
	}
	b := r.b
	if r.off >= len(b) {
		r.fail("body ends inside a block")
		return false
	}
	start := r.off
	op := b[r.off]
	p := r.off + 1
	var sub uint32
	var idx uint32
	typeIdx := false
	ok := true
	n := 0
	switch immKinds[op] {
	case immBlock:
		if p < len(b) && (b[p] == 0x40 || isValType(b[p])) {
			p++
		} else {
			var v int64
			v, n, ok = readS33(b[p:])
			ok = ok && v >= 0
			p += n
			idx, typeIdx = uint32(v), true
		}
		r.depth++
		if r.maxDepth > 0 && r.depth > r.maxDepth {
			r.off = start
			r.err = boundErr("blocks nest deeper than %d", r.maxDepth)
			return false
		}
	case immNone:
	case immEnd:
		r.depth--
		if r.depth == 0 {
			r.done = true
			if p != len(b) {
				r.off = p
				r.fail("code after the function's end")
				return false
			}
		}
	case immIndex:
		idx, n, ok = readU32(b[p:])
		p += n
	case immBrTable:
		var cnt uint32
		cnt, n, ok = readU32(b[p:])
		p += n
		if ok && uint64(cnt) >= uint64(len(b)-p) {
			ok = false
		}
		for i := uint32(0); ok && i <= cnt; i++ {
			_, n, ok = readU32(b[p:])
			p += n
		}
	case immCallIndirect:
		idx, n, ok = readU32(b[p:])
		p += n
		if ok {
			p, ok = skipU32s(b, p, 1)
		}
	case immSelect:
		var cnt uint32
		cnt, n, ok = readU32(b[p:])
		p += n
		if ok && uint64(cnt) > uint64(len(b)-p) {
			ok = false
		}
		for i := uint32(0); ok && i < cnt; i++ {
			ok = isValType(b[p])
			p++
		}
	case immMemarg:
		p, ok = skipU32s(b, p, 2)
	case immI32:
		n, ok = skipSLEB(b[p:], 5, 32)
		p += n
	case immI64:
		n, ok = skipSLEB(b[p:], 10, 64)
		p += n
	case immF32:
		p += 4
		ok = p <= len(b)
	case immF64:
		p += 8
		ok = p <= len(b)
	case immRefType:
		ok = p < len(b) && isRefType(b[p])
		p++
	case immMisc:
		sub, n, ok = readU32(b[p:])
		p += n
		if ok {
			p, ok = skipMisc(b, p, sub)
		}
	case immVec:
		sub, n, ok = readU32(b[p:])
		p += n
		if ok {
			p, ok = skipVec(b, p, sub)
		}
	default:
		r.fail("unknown opcode 0x%02x", op)
		return false
	}
	if !ok || p > len(b) {
		r.fail("bad immediate of opcode 0x%02x", op)
		return false
	}
	*in = Instr{Op: op, Sub: sub, Index: idx, TypeIdx: typeIdx, Start: start, ImmStart: start + 1, End: p, Depth: r.depth}
	if op == OpMiscPrefix || op == OpVecPrefix {
		_, n, _ := readU32(b[start+1:])
		in.ImmStart = start + 1 + n
	}
	r.off = p
	return true
}

// Immediate kinds of one-byte opcodes; immInvalid (0) marks opcodes that
// are not WebAssembly 2.0.
const (
	immInvalid = iota
	immNone
	immBlock
	immEnd
	immIndex // one u32
	immBrTable
	immCallIndirect
	immSelect
	immMemarg
	immI32
	immI64
	immF32
	immF64
	immRefType
	immMisc
	immVec
)

var immKinds = func() (k [256]byte) {
	for _, op := range []byte{0x00, 0x01, OpElse, 0x0f, OpDrop, 0x1b, 0xd1} {
		k[op] = immNone
	}
	for op := 0x45; op <= 0xc4; op++ {
		k[op] = immNone
	}
	k[OpBlock], k[OpLoop], k[OpIf] = immBlock, immBlock, immBlock
	k[OpEnd] = immEnd
	for _, op := range []byte{OpBr, OpBrIf, 0x3f, OpMemoryGrow, OpCall, OpRefFunc} {
		k[op] = immIndex
	}
	for op := 0x20; op <= 0x26; op++ { // local.*, global.*, table.get/set
		k[op] = immIndex
	}
	for op := 0x28; op <= 0x3e; op++ { // loads and stores
		k[op] = immMemarg
	}
	k[0x0e] = immBrTable
	k[OpCallIndirect] = immCallIndirect
	k[0x1c] = immSelect
	k[OpI32Const], k[OpI64Const], k[0x43], k[0x44] = immI32, immI64, immF32, immF64
	k[0xd0] = immRefType
	k[OpMiscPrefix], k[OpVecPrefix] = immMisc, immVec
	return k
}()

func (r *InstrReader) fail(format string, args ...any) {
	rd := reader{b: r.b, off: r.off}
	r.err = rd.errf(format, args...)
}

func skipU32s(b []byte, p, k int) (int, bool) {
	for i := 0; i < k; i++ {
		_, n, ok := readU32(b[p:])
		if !ok {
			return p, false
		}
		p += n
	}
	return p, true
}

// skipMisc skips the immediates of a 0xfc instruction.
func skipMisc(b []byte, p int, sub uint32) (int, bool) {
	switch {
	case sub <= 7: // saturating truncations
		return p, true
	case sub == 8: // memory.init data 0
		p, ok := skipU32s(b, p, 1)
		return p + 1, ok && p < len(b) && b[p] == 0
	case sub == 9 || sub == 13 || (sub >= 15 && sub <= 17): // data.drop, elem.drop, table.grow/size/fill
		return skipU32s(b, p, 1)
	case sub == 10: // memory.copy 0 0
		return p + 2, p+1 < len(b) && b[p] == 0 && b[p+1] == 0
	case sub == 11: // memory.fill 0
		return p + 1, p < len(b) && b[p] == 0
	case sub == 12 || sub == 14: // table.init, table.copy
		return skipU32s(b, p, 2)
	}
	return p, false
}

// vecInvalid lists the unassigned SIMD opcodes below 0x100.
var vecInvalid = [256]bool{
	0x9a: true, 0xa2: true, 0xa5: true, 0xa6: true, 0xaf: true, 0xb0: true, 0xb2: true,
	0xb3: true, 0xb4: true, 0xbb: true, 0xc2: true, 0xc5: true, 0xc6: true, 0xcf: true,
	0xd0: true, 0xd2: true, 0xd3: true, 0xd4: true, 0xe2: true, 0xee: true,
}

// skipVec skips the immediates of a 0xfd instruction.
func skipVec(b []byte, p int, sub uint32) (int, bool) {
	switch {
	case sub > 0xff || vecInvalid[sub]:
		return p, false
	case sub <= 0x0b || sub == 0x5c || sub == 0x5d: // loads and stores: memarg
		return skipU32s(b, p, 2)
	case sub == 0x0c || sub == 0x0d: // v128.const, i8x16.shuffle
		return p + 16, p+16 <= len(b)
	case sub >= 0x15 && sub <= 0x22: // extract and replace lane
		return p + 1, p < len(b)
	case sub >= 0x54 && sub <= 0x5b: // load and store lane: memarg, lane
		p, ok := skipU32s(b, p, 2)
		return p + 1, ok && p < len(b)
	}
	return p, true
}

func isValType(c byte) bool { return c >= 0x7b && c <= 0x7f || isRefType(c) }
func isRefType(c byte) bool { return c == 0x70 || c == 0x6f }
