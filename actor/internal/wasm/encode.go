package wasm

// Encode returns the binary form of m. Known sections come in the
// standard order, each only when it has entries (or, for start and data
// count, when set); custom sections stay after the known section they
// followed.
func (m *Module) Encode() []byte {
	out := append(make([]byte, 0, m.sizeHint()), magic...)
	var buf []byte
	out = m.appendCustoms(out, 0)
	for _, id := range []byte{SecType, SecImport, SecFunction, SecTable, SecMemory, SecGlobal,
		SecExport, SecStart, SecElement, SecDataCount, SecCode, SecData} {
		buf = m.appendSection(buf[:0], id)
		if buf != nil {
			out = append(out, id)
			out = AppendU32(out, uint32(len(buf)))
			out = append(out, buf...)
		}
		out = m.appendCustoms(out, id)
	}
	return out
}

func (m *Module) sizeHint() int {
	n := 1024
	for i := range m.Codes {
		n += len(m.Codes[i].Locals) + len(m.Codes[i].Body) + 5
	}
	for i := range m.Data {
		n += len(m.Data[i].Init) + 16
	}
	for i := range m.Customs {
		n += len(m.Customs[i].Data) + len(m.Customs[i].Name) + 10
	}
	return n
}

func (m *Module) appendCustoms(out []byte, after byte) []byte {
	for i := range m.Customs {
		c := &m.Customs[i]
		if c.After != after {
			continue
		}
		body := appendName(nil, c.Name)
		out = append(out, SecCustom)
		out = AppendU32(out, uint32(len(body)+len(c.Data)))
		out = append(out, body...)
		out = append(out, c.Data...)
	}
	return out
}

// appendSection appends the body of section id to b, or returns nil when
// the section is left out.
func (m *Module) appendSection(b []byte, id byte) []byte {
	if b == nil {
		b = []byte{}
	}
	switch id {
	case SecType:
		if len(m.Types) == 0 {
			return nil
		}
		b = AppendU32(b, uint32(len(m.Types)))
		for _, t := range m.Types {
			b = append(b, 0x60)
			b = AppendU32(b, uint32(len(t.Params)))
			b = append(b, t.Params...)
			b = AppendU32(b, uint32(len(t.Results)))
			b = append(b, t.Results...)
		}
	case SecImport:
		if len(m.Imports) == 0 {
			return nil
		}
		b = AppendU32(b, uint32(len(m.Imports)))
		for _, im := range m.Imports {
			b = appendName(b, im.Module)
			b = appendName(b, im.Name)
			b = append(b, im.Kind)
			switch im.Kind {
			case KindFunc:
				b = AppendU32(b, im.Type)
			case KindTable:
				b = append(b, im.RefType)
				b = appendLimits(b, im.Limits)
			case KindMemory:
				b = appendLimits(b, im.Limits)
			case KindGlobal:
				b = appendGlobalType(b, im.Global)
			}
		}
	case SecFunction:
		if len(m.Funcs) == 0 {
			return nil
		}
		b = AppendU32(b, uint32(len(m.Funcs)))
		for _, t := range m.Funcs {
			b = AppendU32(b, t)
		}
	case SecTable:
		if len(m.Tables) == 0 {
			return nil
		}
		b = AppendU32(b, uint32(len(m.Tables)))
		for _, t := range m.Tables {
			b = append(b, t.RefType)
			b = appendLimits(b, t.Limits)
		}
	case SecMemory:
		if len(m.Memories) == 0 {
			return nil
		}
		b = AppendU32(b, uint32(len(m.Memories)))
		for _, l := range m.Memories {
			b = appendLimits(b, l)
		}
	case SecGlobal:
		if len(m.Globals) == 0 {
			return nil
		}
		b = AppendU32(b, uint32(len(m.Globals)))
		for _, g := range m.Globals {
			b = appendGlobalType(b, g.Type)
			b = append(b, g.Init...)
		}
	case SecExport:
		if len(m.Exports) == 0 {
			return nil
		}
		b = AppendU32(b, uint32(len(m.Exports)))
		for _, e := range m.Exports {
			b = appendName(b, e.Name)
			b = append(b, e.Kind)
			b = AppendU32(b, e.Index)
		}
	case SecStart:
		if !m.HasStart {
			return nil
		}
		b = AppendU32(b, m.Start)
	case SecElement:
		if len(m.Elements) == 0 {
			return nil
		}
		b = AppendU32(b, uint32(len(m.Elements)))
		for i := range m.Elements {
			b = appendElement(b, &m.Elements[i])
		}
	case SecDataCount:
		if !m.HasDataCount {
			return nil
		}
		b = AppendU32(b, m.DataCount)
	case SecCode:
		if len(m.Codes) == 0 {
			return nil
		}
		b = AppendU32(b, uint32(len(m.Codes)))
		for _, c := range m.Codes {
			b = AppendU32(b, uint32(len(c.Locals)+len(c.Body)))
			b = append(b, c.Locals...)
			b = append(b, c.Body...)
		}
	case SecData:
		if len(m.Data) == 0 {
			return nil
		}
		b = AppendU32(b, uint32(len(m.Data)))
		for _, d := range m.Data {
			b = AppendU32(b, d.Flags)
			if d.Flags == 2 {
				b = AppendU32(b, d.Memory)
			}
			b = append(b, d.Offset...)
			b = AppendU32(b, uint32(len(d.Init)))
			b = append(b, d.Init...)
		}
	}
	return b
}

func appendLimits(b []byte, l Limits) []byte {
	if !l.HasMax {
		return AppendU32(append(b, 0), l.Min)
	}
	return AppendU32(AppendU32(append(b, 1), l.Min), l.Max)
}

func appendGlobalType(b []byte, g GlobalType) []byte {
	mut := byte(0)
	if g.Mutable {
		mut = 1
	}
	return append(b, g.ValType, mut)
}

func appendElement(b []byte, e *Element) []byte {
	b = AppendU32(b, e.Flags)
	if e.Flags&2 != 0 && e.Flags&1 == 0 {
		b = AppendU32(b, e.Table)
	}
	b = append(b, e.Offset...)
	if e.Flags&3 != 0 {
		b = append(b, e.Kind)
	}
	if e.Flags&4 == 0 {
		b = AppendU32(b, uint32(len(e.Funcs)))
		for _, f := range e.Funcs {
			b = AppendU32(b, f)
		}
		return b
	}
	b = AppendU32(b, uint32(len(e.Exprs)))
	for _, x := range e.Exprs {
		b = append(b, x...)
	}
	return b
}
