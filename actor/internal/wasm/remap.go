package wasm

// RemapFuncs renumbers the function indices of m outside the code
// section: exports, the start function, element segments, ref.func in
// constant expressions and the name section's function entries. Code
// bodies are left to the caller, which rewrites them anyway.
//
// A name section that does not decode is dropped: it is debug
// information that wazero reads leniently, and a wrong one would name the
// wrong functions in traces.
func (m *Module) RemapFuncs(f func(uint32) uint32) {
	for i := range m.Exports {
		if m.Exports[i].Kind == KindFunc {
			m.Exports[i].Index = f(m.Exports[i].Index)
		}
	}
	if m.HasStart {
		m.Start = f(m.Start)
	}
	for i := range m.Globals {
		m.Globals[i].Init = remapConstExpr(m.Globals[i].Init, f)
	}
	for i := range m.Elements {
		e := &m.Elements[i]
		e.Offset = remapConstExpr(e.Offset, f)
		if e.Funcs != nil {
			funcs := make([]uint32, len(e.Funcs))
			for j, x := range e.Funcs {
				funcs[j] = f(x)
			}
			e.Funcs = funcs
		}
		if e.Exprs != nil {
			exprs := make([][]byte, len(e.Exprs))
			for j, x := range e.Exprs {
				exprs[j] = remapConstExpr(x, f)
			}
			e.Exprs = exprs
		}
	}
	customs := m.Customs[:0:0]
	for _, c := range m.Customs {
		if c.Name == "name" {
			data, ok := remapNames(c.Data, f)
			if !ok {
				continue
			}
			c.Data = data
		}
		customs = append(customs, c)
	}
	m.Customs = customs
}

// remapConstExpr returns e with the index of every ref.func mapped; e was
// checked by the decoder.
func remapConstExpr(e []byte, f func(uint32) uint32) []byte {
	if e == nil {
		return nil
	}
	out := make([]byte, 0, len(e)+4)
	for p := 0; p < len(e); {
		op := e[p]
		start := p
		p++
		switch op {
		case OpI32Const, OpI64Const:
			n, _ := skipSLEB(e[p:], 10, 64)
			p += n
		case 0x43:
			p += 4
		case 0x44:
			p += 8
		case OpGlobalGet:
			_, n, _ := readU32(e[p:])
			p += n
		case 0xd0:
			p++
		case OpVecPrefix:
			_, n, _ := readU32(e[p:])
			p += n + 16
		case OpRefFunc:
			x, n, _ := readU32(e[p:])
			out = AppendU32(append(out, OpRefFunc), f(x))
			p += n
			continue
		}
		out = append(out, e[start:p]...)
	}
	return out
}

// remapNames rewrites the function indices of a name section's function
// (1), local (2) and label (3) subsections; other subsections are copied.
func remapNames(data []byte, f func(uint32) uint32) ([]byte, bool) {
	r := &reader{b: data}
	out := make([]byte, 0, len(data)+16)
	for !r.eof() {
		id, err := r.byte()
		if err != nil {
			return nil, false
		}
		size, err := r.u32()
		if err != nil {
			return nil, false
		}
		body, err := r.bytes(size)
		if err != nil {
			return nil, false
		}
		if id < 1 || id > 3 {
			out = append(AppendU32(append(out, id), size), body...)
			continue
		}
		sr := &reader{b: body}
		sub, ok := remapNameMap(sr, f, id != 1)
		if !ok || !sr.eof() {
			return nil, false
		}
		out = append(AppendU32(append(out, id), uint32(len(sub))), sub...)
	}
	return out, true
}

// remapNameMap maps the indices of a name map, or of an indirect name map
// whose inner maps (locals, labels) are copied unchanged.
func remapNameMap(r *reader, f func(uint32) uint32, indirect bool) ([]byte, bool) {
	n, err := r.count(2)
	if err != nil {
		return nil, false
	}
	out := AppendU32(nil, n)
	for i := uint32(0); i < n; i++ {
		idx, err := r.u32()
		if err != nil {
			return nil, false
		}
		out = AppendU32(out, f(idx))
		start := r.off
		if indirect {
			k, err := r.count(2)
			if err != nil {
				return nil, false
			}
			for j := uint32(0); j < k; j++ {
				if _, err := r.u32(); err != nil {
					return nil, false
				}
				if _, err := r.name(); err != nil {
					return nil, false
				}
			}
		} else if _, err := r.name(); err != nil {
			return nil, false
		}
		out = append(out, r.b[start:r.off]...)
	}
	return out, true
}
