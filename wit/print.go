package wit

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/theater-go/theater/wit/internal/syntax"
)

// Print writes pkg as canonical WIT: the package declaration, then its
// interfaces and worlds in model order, with two-space indentation. Names
// brought in by use print as use statements, resource members print
// inside their resource, and worlds print flattened: includes merged and
// transitively needed imports spelled out. Loading the output again
// gives an equal package.
func Print(w io.Writer, pkg *Package) error {
	if pkg == nil {
		return errors.New("wit: Print of a nil package")
	}
	p := &printer{pkg: pkg}
	p.header()
	for _, i := range pkg.Interfaces {
		p.b.WriteString("\n")
		p.iface(i)
	}
	for _, wd := range pkg.Worlds {
		p.b.WriteString("\n")
		p.world(wd)
	}
	_, err := io.WriteString(w, p.b.String())
	return err
}

// PrintWorld writes the package declaration of world's package followed
// by that one world.
func PrintWorld(w io.Writer, world *World) error {
	if world == nil || world.Package == nil {
		return errors.New("wit: PrintWorld of a nil world or one without a package")
	}
	p := &printer{pkg: world.Package}
	p.header()
	p.b.WriteString("\n")
	p.world(world)
	_, err := io.WriteString(w, p.b.String())
	return err
}

type printer struct {
	b      strings.Builder
	pkg    *Package
	indent int
}

func (p *printer) line(format string, args ...any) {
	p.b.WriteString(strings.Repeat("  ", p.indent))
	fmt.Fprintf(&p.b, format, args...)
	p.b.WriteString("\n")
}

func (p *printer) header() {
	p.docs(p.pkg.Docs)
	p.line("package %s;", pkgName(p.pkg.Name))
}

func (p *printer) docs(d string) {
	if d == "" {
		return
	}
	for _, l := range strings.Split(d, "\n") {
		if l == "" {
			p.line("///")
		} else {
			p.line("/// %s", l)
		}
	}
}

func (p *printer) gate(s Stability) {
	if s.Since != "" {
		p.line("@since(version = %s)", s.Since)
	}
	if s.Unstable != "" {
		p.line("@unstable(feature = %s)", ident(s.Unstable))
	}
	if s.Deprecated != "" {
		p.line("@deprecated(version = %s)", s.Deprecated)
	}
}

func (p *printer) externalID(id string) {
	if id != "" {
		p.line("@external-id(%s)", quote(id))
	}
}

// attrs writes what goes before an item: docs, gates and external id.
func (p *printer) attrs(docs string, s Stability, externalID string) {
	p.docs(docs)
	p.gate(s)
	p.externalID(externalID)
}

func (p *printer) iface(i *Interface) {
	p.attrs(i.Docs, i.Stability, "")
	p.line("interface %s {", ident(i.Name))
	p.ifaceBody(i)
	p.line("}")
}

func (p *printer) ifaceBody(i *Interface) {
	p.indent++
	sep := p.separator()
	for n := 0; n < len(i.Types); {
		if k := useRun(i.Types[n:]); k > 0 {
			sep(plainUse(i.Types[n]))
			p.use(i.Types[n : n+k])
			n += k
			continue
		}
		sep(false)
		p.typeDef(i.Types[n], i.Functions)
		n++
	}
	for _, f := range i.Functions {
		if f.Resource == nil {
			sep(false)
			p.attrs(f.Docs, f.Stability, f.ExternalID)
			p.line("%s: %s;", ident(f.Name), p.funcType(f, nil))
		}
	}
	p.indent--
}

// separator returns a function to call before each item: it writes a
// blank line between items, except between consecutive plain use
// statements (those without docs or gates), which stay together.
func (p *printer) separator() func(plainUse bool) {
	first, lastUse := true, false
	return func(use bool) {
		if !first && !(use && lastUse) {
			p.b.WriteString("\n")
		}
		first, lastUse = false, use
	}
}

func plainUse(t *TypeDef) bool { return t.Docs == "" && t.Stability.IsZero() }

// useTarget returns the type an alias brings in with use: a named type
// owned by an interface other than the alias's owner.
func useTarget(t *TypeDef) *TypeDef {
	a, ok := t.Kind.(*Alias)
	if !ok {
		return nil
	}
	d, ok := a.Target.(*TypeDef)
	if !ok || d.Name == "" {
		return nil
	}
	if o, ok := d.Owner.(*Interface); ok && o != t.Owner {
		return d
	}
	return nil
}

// useRun returns how many leading types form one use statement: aliases
// of the same interface with the same docs and gate.
func useRun(types []*TypeDef) int {
	first := useTarget(types[0])
	if first == nil {
		return 0
	}
	n := 1
	for ; n < len(types); n++ {
		t := useTarget(types[n])
		if t == nil || t.Owner != first.Owner || types[n].Docs != types[0].Docs || types[n].Stability != types[0].Stability {
			break
		}
	}
	return n
}

func (p *printer) use(aliases []*TypeDef) {
	p.attrs(aliases[0].Docs, aliases[0].Stability, "")
	names := make([]string, len(aliases))
	var from *Interface
	for n, a := range aliases {
		t := useTarget(a)
		from = t.Owner.(*Interface)
		names[n] = ident(t.Name)
		if a.Name != t.Name {
			names[n] += " as " + ident(a.Name)
		}
	}
	p.line("use %s.{%s};", p.ifacePath(from), strings.Join(names, ", "))
}

// ifacePath names an interface as seen from the printed package.
func (p *printer) ifacePath(i *Interface) string {
	if i.Package == p.pkg || i.Package == nil {
		return ident(i.Name)
	}
	n := i.Package.Name
	s := pkgPath(n) + "/" + ident(i.Name)
	if n.Version != "" {
		s += "@" + n.Version
	}
	return s
}

// typeDef writes a named type; funcs supply the members of a resource.
func (p *printer) typeDef(t *TypeDef, funcs []*Function) {
	p.attrs(t.Docs, t.Stability, t.ExternalID)
	name := ident(t.Name)
	switch k := t.Kind.(type) {
	case *Record:
		p.line("record %s {", name)
		p.indent++
		for _, f := range k.Fields {
			p.docs(f.Docs)
			p.line("%s: %s,", ident(f.Name), p.typ(f.Type))
		}
		p.indent--
		p.line("}")
	case *Variant:
		p.line("variant %s {", name)
		p.indent++
		for _, c := range k.Cases {
			p.docs(c.Docs)
			if c.Type == nil {
				p.line("%s,", ident(c.Name))
			} else {
				p.line("%s(%s),", ident(c.Name), p.typ(c.Type))
			}
		}
		p.indent--
		p.line("}")
	case *Enum:
		p.line("enum %s {", name)
		p.indent++
		for _, c := range k.Cases {
			p.docs(c.Docs)
			p.line("%s,", ident(c.Name))
		}
		p.indent--
		p.line("}")
	case *Flags:
		p.line("flags %s {", name)
		p.indent++
		for _, f := range k.Flags {
			p.docs(f.Docs)
			p.line("%s,", ident(f.Name))
		}
		p.indent--
		p.line("}")
	case *Resource:
		p.resource(t, funcs)
	case *Alias:
		p.line("type %s = %s;", name, p.typ(k.Target))
	default:
		p.line("type %s = %s;", name, p.kind(k))
	}
}

func (p *printer) resource(t *TypeDef, funcs []*Function) {
	var members []*Function
	for _, f := range funcs {
		if f.Resource == t {
			members = append(members, f)
		}
	}
	if len(members) == 0 {
		p.line("resource %s;", ident(t.Name))
		return
	}
	p.line("resource %s {", ident(t.Name))
	p.indent++
	sep := p.separator()
	for _, f := range members {
		sep(false)
		p.attrs(f.Docs, f.Stability, f.ExternalID)
		switch f.Kind {
		case Constructor:
			result := ""
			if !isOwnHandleOf(f.Result, t) {
				result = " -> " + p.typ(f.Result)
			}
			p.line("constructor(%s)%s;", p.params(f.Params), result)
		case Static:
			p.line("%s: static %s;", ident(f.Name), p.funcType(f, nil))
		default:
			p.line("%s: %s;", ident(f.Name), p.funcType(f, t))
		}
	}
	p.indent--
	p.line("}")
}

// isOwnHandleOf reports whether t is the implicit result of an
// infallible constructor of r.
func isOwnHandleOf(t Type, r *TypeDef) bool {
	d, ok := t.(*TypeDef)
	if !ok {
		return false
	}
	h, ok := d.Kind.(*Handle)
	return ok && !h.Borrow && h.Resource == r
}

// funcType spells "async? func(params) -> result"; for a method of
// self, the implicit self parameter is left out.
func (p *printer) funcType(f *Function, self *TypeDef) string {
	params := f.Params
	if self != nil && f.Kind == Method && len(params) > 0 {
		params = params[1:]
	}
	s := "func(" + p.params(params) + ")"
	if f.Async {
		s = "async " + s
	}
	if f.Result != nil {
		s += " -> " + p.typ(f.Result)
	}
	return s
}

func (p *printer) params(ps []Param) string {
	parts := make([]string, len(ps))
	for i, pr := range ps {
		parts[i] = ident(pr.Name) + ": " + p.typ(pr.Type)
	}
	return strings.Join(parts, ", ")
}

func (p *printer) world(w *World) {
	p.attrs(w.Docs, w.Stability, "")
	p.line("world %s {", ident(w.Name))
	p.indent++
	sep := p.separator()
	p.worldItems(sep, "import", w.Imports)
	p.worldItems(sep, "export", w.Exports)
	p.indent--
	p.line("}")
}

func (p *printer) worldItems(sep func(bool), kw string, items []*WorldItem) {
	var funcs []*Function
	var types []*TypeDef
	for _, it := range items {
		if it.Function != nil {
			funcs = append(funcs, it.Function)
		}
	}
	for n := 0; n < len(items); n++ {
		it := items[n]
		switch {
		case it.Type != nil:
			// Collect a run of type items so uses can be grouped.
			types = types[:0]
			for ; n < len(items) && items[n].Type != nil; n++ {
				types = append(types, items[n].Type)
			}
			n--
			for k := 0; k < len(types); {
				if r := useRun(types[k:]); r > 0 {
					sep(plainUse(types[k]))
					p.use(types[k : k+r])
					k += r
					continue
				}
				sep(false)
				p.typeDef(types[k], funcs)
				k++
			}
		case it.Function != nil && it.Function.Resource != nil:
			// Printed inside its resource.
		case it.Function != nil:
			sep(false)
			p.attrs(it.Docs, it.Stability, it.ExternalID)
			p.line("%s %s: %s;", kw, ident(it.Name), p.funcType(it.Function, nil))
		case it.Interface != nil && it.Name == "":
			sep(false)
			p.attrs(it.Docs, it.Stability, it.ExternalID)
			p.line("%s %s;", kw, p.ifacePath(it.Interface))
		case it.Interface != nil && it.Interface.Name != "":
			sep(false)
			p.attrs(it.Docs, it.Stability, it.ExternalID)
			p.line("%s %s: %s;", kw, ident(it.Name), p.ifacePath(it.Interface))
		case it.Interface != nil:
			sep(false)
			p.attrs(it.Docs, it.Stability, it.ExternalID)
			p.line("%s %s: interface {", kw, ident(it.Name))
			p.ifaceBody(it.Interface)
			p.line("}")
		}
	}
}

// typ spells a type reference.
func (p *printer) typ(t Type) string {
	switch t := t.(type) {
	case Primitive:
		return t.String()
	case *TypeDef:
		if t.Name != "" {
			return ident(t.Name)
		}
		return p.kind(t.Kind)
	}
	return "_"
}

// kind spells an anonymous type with keyword names escaped.
func (p *printer) kind(k TypeDefKind) string { return spellKind(k, p.typ, ident) }

func ident(s string) string {
	if syntax.IsKeyword(s) {
		return "%" + s
	}
	return s
}

// pkgPath spells ns:name with each segment escaped.
func pkgPath(n PackageName) string {
	segs := strings.Split(n.Namespace, ":")
	for i, s := range segs {
		segs[i] = ident(s)
	}
	names := strings.Split(n.Name, "/")
	for i, s := range names {
		names[i] = ident(s)
	}
	return strings.Join(segs, ":") + ":" + strings.Join(names, "/")
}

func pkgName(n PackageName) string {
	if n.Version == "" {
		return pkgPath(n)
	}
	return pkgPath(n) + "@" + n.Version
}

// quote writes a WIT string literal: the core WebAssembly name syntax,
// with \u{...} for control characters.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u{%x}`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
