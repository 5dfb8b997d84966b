package syntax

import (
	"fmt"
	"strings"
)

// render prints a File back as compact, canonical WIT so tests can assert
// the whole tree in one readable string. Doc comments and positions are
// left out; they have their own tests.
func render(f *File) string {
	var parts []string
	if f.Package != nil {
		parts = append(parts, "package "+renderDecl(f.Package)+";")
	}
	for _, it := range f.Items {
		parts = append(parts, renderItem(it))
	}
	for _, n := range f.Nested {
		var items []string
		for _, it := range n.Items {
			items = append(items, renderItem(it))
		}
		parts = append(parts, "package "+renderDecl(n.Decl)+" {"+strings.Join(items, " ")+"}")
	}
	return strings.Join(parts, " ")
}

func renderDecl(d *PackageDecl) string {
	s := d.Namespace + ":" + d.Name
	if d.Version != "" {
		s += "@" + d.Version
	}
	return s
}

func renderPath(p UsePath) string {
	if p.Namespace == "" {
		return p.Name.Name
	}
	s := p.Namespace + ":"
	if p.Package != "" {
		s += p.Package + "/"
	}
	s += p.Name.Name
	if p.Version != "" {
		s += "@" + p.Version
	}
	return s
}

func renderGate(g Gate, extID string) string {
	var s string
	if g.Since != "" {
		s += "@since(" + g.Since + ") "
	}
	if g.Unstable != "" {
		s += "@unstable(" + g.Unstable + ") "
	}
	if g.Deprecated != "" {
		s += "@deprecated(" + g.Deprecated + ") "
	}
	if extID != "" {
		s += fmt.Sprintf("@external-id(%q) ", extID)
	}
	return s
}

func renderItem(it Item) string {
	switch it := it.(type) {
	case *TopUse:
		s := "use " + renderPath(it.Path)
		if it.As != nil {
			s += " as " + it.As.Name
		}
		return s + ";"
	case *Interface:
		return renderGate(it.Gate, "") + "interface " + it.Name.Name + " " + renderIfaceItems(it.Items)
	case *World:
		var items []string
		for _, wi := range it.Items {
			items = append(items, renderWorldItem(wi))
		}
		return renderGate(it.Gate, "") + "world " + it.Name.Name + " {" + strings.Join(items, " ") + "}"
	}
	return fmt.Sprintf("?%T", it)
}

func renderIfaceItems(items []InterfaceItem) string {
	var parts []string
	for _, it := range items {
		switch it := it.(type) {
		case *Use:
			parts = append(parts, renderUse(it))
		case *TypeDecl:
			parts = append(parts, renderTypeDecl(it))
		case *Func:
			parts = append(parts, renderGate(it.Gate, it.ExternalID)+it.Name.Name+": "+renderFunc(it.Func)+";")
		}
	}
	return "{" + strings.Join(parts, " ") + "}"
}

func renderUse(u *Use) string {
	var names []string
	for _, n := range u.Names {
		s := n.Name.Name
		if n.As != nil {
			s += " as " + n.As.Name
		}
		names = append(names, s)
	}
	return renderGate(u.Gate, "") + "use " + renderPath(u.Path) + ".{" + strings.Join(names, ", ") + "};"
}

func renderWorldItem(wi WorldItem) string {
	switch wi := wi.(type) {
	case *Import:
		return renderExtern("import", wi.Extern)
	case *Export:
		return renderExtern("export", wi.Extern)
	case *Use:
		return renderUse(wi)
	case *TypeDecl:
		return renderTypeDecl(wi)
	case *Include:
		s := renderGate(wi.Gate, "") + "include " + renderPath(wi.Path)
		if wi.With == nil {
			return s + ";"
		}
		var names []string
		for _, n := range wi.With {
			names = append(names, n.Name.Name+" as "+n.As.Name)
		}
		return s + " with {" + strings.Join(names, ", ") + "}"
	}
	return fmt.Sprintf("?%T", wi)
}

func renderExtern(kw string, e Extern) string {
	s := renderGate(e.Gate, e.ExternalID) + kw + " "
	if e.Name != nil {
		s += e.Name.Name + ": "
	}
	switch e.Kind {
	case ExternFunc:
		return s + renderFunc(e.Func) + ";"
	case ExternInterface:
		return s + "interface " + renderIfaceItems(e.Items)
	}
	return s + renderPath(e.Path) + ";"
}

func renderParams(ps []NamedType) string {
	var parts []string
	for _, p := range ps {
		parts = append(parts, p.Name.Name+": "+renderType(p.Type))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func renderFunc(ft FuncType) string {
	s := "func" + renderParams(ft.Params)
	if ft.Async {
		s = "async " + s
	}
	if ft.Result != nil {
		s += " -> " + renderType(ft.Result)
	}
	return s
}

func renderTypeDecl(td *TypeDecl) string {
	s := renderGate(td.Gate, td.ExternalID)
	switch k := td.Kind.(type) {
	case *AliasDecl:
		return s + "type " + td.Name.Name + " = " + renderType(k.Type) + ";"
	case *RecordDecl:
		var fs []string
		for _, f := range k.Fields {
			fs = append(fs, f.Name.Name+": "+renderType(f.Type))
		}
		return s + "record " + td.Name.Name + " {" + strings.Join(fs, ", ") + "}"
	case *VariantDecl:
		var cs []string
		for _, c := range k.Cases {
			if c.Type != nil {
				cs = append(cs, c.Name.Name+"("+renderType(c.Type)+")")
			} else {
				cs = append(cs, c.Name.Name)
			}
		}
		return s + "variant " + td.Name.Name + " {" + strings.Join(cs, ", ") + "}"
	case *EnumDecl:
		return s + "enum " + td.Name.Name + " {" + joinDocIdents(k.Cases) + "}"
	case *FlagsDecl:
		return s + "flags " + td.Name.Name + " {" + joinDocIdents(k.Flags) + "}"
	case *ResourceDecl:
		if !k.Braced {
			return s + "resource " + td.Name.Name + ";"
		}
		var fs []string
		for _, rf := range k.Funcs {
			g := renderGate(rf.Gate, rf.ExternalID)
			switch rf.Kind {
			case ResourceConstructor:
				c := g + "constructor" + renderParams(rf.Func.Params)
				if rf.Func.Result != nil {
					c += " -> " + renderType(rf.Func.Result)
				}
				fs = append(fs, c+";")
			case ResourceStatic:
				fs = append(fs, g+rf.Name.Name+": static "+renderFunc(rf.Func)+";")
			default:
				fs = append(fs, g+rf.Name.Name+": "+renderFunc(rf.Func)+";")
			}
		}
		return s + "resource " + td.Name.Name + " {" + strings.Join(fs, " ") + "}"
	}
	return fmt.Sprintf("?%T", td.Kind)
}

func joinDocIdents(ids []DocIdent) string {
	var names []string
	for _, id := range ids {
		names = append(names, id.Name.Name)
	}
	return strings.Join(names, ", ")
}

func renderType(t Type) string {
	switch t := t.(type) {
	case *Prim:
		return t.Name
	case *Named:
		return t.Name.Name
	case *Handle:
		if t.Borrow {
			return "borrow<" + t.Resource.Name + ">"
		}
		return "own<" + t.Resource.Name + ">"
	case *List:
		if t.Len > 0 {
			return fmt.Sprintf("list<%s, %d>", renderType(t.Elem), t.Len)
		}
		return "list<" + renderType(t.Elem) + ">"
	case *Option:
		return "option<" + renderType(t.Type) + ">"
	case *Result:
		switch {
		case t.OK == nil && t.Err == nil:
			return "result"
		case t.Err == nil:
			return "result<" + renderType(t.OK) + ">"
		case t.OK == nil:
			return "result<_, " + renderType(t.Err) + ">"
		}
		return "result<" + renderType(t.OK) + ", " + renderType(t.Err) + ">"
	case *Tuple:
		var ts []string
		for _, e := range t.Types {
			ts = append(ts, renderType(e))
		}
		return "tuple<" + strings.Join(ts, ", ") + ">"
	case *Map:
		return "map<" + renderType(t.Key) + ", " + renderType(t.Value) + ">"
	case *Future:
		if t.Elem == nil {
			return "future"
		}
		return "future<" + renderType(t.Elem) + ">"
	case *Stream:
		if t.Elem == nil {
			return "stream"
		}
		return "stream<" + renderType(t.Elem) + ">"
	}
	return fmt.Sprintf("?%T", t)
}
