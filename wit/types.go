package wit

import (
	"strings"

	"github.com/theater-go/theater/wit/internal/syntax"
)

// typeScope is the namespace of an interface or world: its types and
// functions. Types are resolved on first reference, so a type may be used
// before it is declared.
type typeScope struct {
	fs    *fileScope
	owner any // *Interface or *World
	names map[string]entry
	types map[string]*typeEntry
	order []*typeEntry // in declaration order, for a stable first error
	stack []*typeEntry // types being resolved, innermost last
}

type typeEntry struct {
	def   *TypeDef
	decl  *syntax.TypeDecl // nil for names brought in by use
	state uint8
}

func (fs *fileScope) newTypeScope(owner any) *typeScope {
	return &typeScope{fs: fs, owner: owner, names: map[string]entry{}, types: map[string]*typeEntry{}}
}

// interfaceBody resolves the items of a named or inline interface into
// iface.
func (fs *fileScope) interfaceBody(iface *Interface, items []syntax.InterfaceItem) error {
	ts := fs.newTypeScope(iface)
	for _, it := range items {
		switch it := it.(type) {
		case *syntax.Use:
			defs, err := ts.use(it)
			if err != nil {
				return err
			}
			iface.Types = append(iface.Types, defs...)
		case *syntax.TypeDecl:
			def, err := ts.declare(it)
			if err != nil {
				return err
			}
			iface.Types = append(iface.Types, def)
		case *syntax.Func:
			if err := define(ts.names, `function "`+it.Name.Name+`"`, it.Name.Name, it.Name.Pos); err != nil {
				return err
			}
		}
	}
	if err := ts.resolveAll(); err != nil {
		return err
	}
	// Resource members come first, grouped by resource, so that printing
	// (which writes them inside their resource) round-trips exactly.
	for _, it := range items {
		if td, ok := it.(*syntax.TypeDecl); ok {
			fns, err := ts.members(td)
			if err != nil {
				return err
			}
			iface.Functions = append(iface.Functions, fns...)
		}
	}
	for _, it := range items {
		if fn, ok := it.(*syntax.Func); ok {
			f, err := ts.function(fn.Name.Name, Freestanding, nil, &fn.Func, fn.Name.Pos)
			if err != nil {
				return err
			}
			f.Docs, f.ExternalID = fn.Docs, fn.ExternalID
			if f.Stability, err = ts.fs.pkg.stability(fn.Gate); err != nil {
				return err
			}
			iface.Functions = append(iface.Functions, f)
		}
	}
	return nil
}

// use brings the named types of another interface into the scope as
// aliases.
func (ts *typeScope) use(u *syntax.Use) ([]*TypeDef, error) {
	target, err := ts.fs.lookupIface(u.Path)
	if err != nil {
		return nil, err
	}
	stab, err := ts.fs.pkg.stability(u.Gate)
	if err != nil {
		return nil, err
	}
	var defs []*TypeDef
	for _, n := range u.Names {
		t := target.Type(n.Name.Name)
		if t == nil {
			return nil, resolveErr(n.Name.Pos, "type %q not found in interface %s", n.Name.Name, target.QualifiedName())
		}
		id := n.Name
		if n.As != nil {
			id = *n.As
		}
		def := &TypeDef{Name: id.Name, Owner: ts.owner, Kind: &Alias{Target: t}, Docs: u.Docs, Stability: stab, Pos: id.Pos}
		if err := ts.add(def, nil); err != nil {
			return nil, err
		}
		defs = append(defs, def)
	}
	return defs, nil
}

// declare adds a type declaration; its structure is resolved later.
func (ts *typeScope) declare(td *syntax.TypeDecl) (*TypeDef, error) {
	stab, err := ts.fs.pkg.stability(td.Gate)
	if err != nil {
		return nil, err
	}
	def := &TypeDef{Name: td.Name.Name, Owner: ts.owner, Docs: td.Docs, Stability: stab, ExternalID: td.ExternalID, Pos: td.Name.Pos}
	if err := ts.add(def, td); err != nil {
		return nil, err
	}
	if r, ok := td.Kind.(*syntax.ResourceDecl); ok {
		for _, f := range r.Funcs {
			if f == nil {
				continue
			}
			desc, key, pos := memberName(td.Name.Name, f)
			if err := define(ts.names, desc, key, pos); err != nil {
				return nil, err
			}
		}
	}
	return def, nil
}

// memberName describes a resource member and gives its namespace key,
// the mangled name, which cannot clash with a plain name.
func memberName(res string, f *syntax.ResourceFunc) (desc, key string, pos Pos) {
	switch f.Kind {
	case syntax.ResourceConstructor:
		return `constructor of "` + res + `"`, "[constructor]" + res, f.Pos
	case syntax.ResourceStatic:
		return `static function "` + res + "." + f.Name.Name + `"`, "[static]" + res + "." + f.Name.Name, f.Name.Pos
	}
	return `method "` + res + "." + f.Name.Name + `"`, "[method]" + res + "." + f.Name.Name, f.Name.Pos
}

func (ts *typeScope) add(def *TypeDef, decl *syntax.TypeDecl) error {
	if err := define(ts.names, `type "`+def.Name+`"`, def.Name, def.Pos); err != nil {
		return err
	}
	e := &typeEntry{def: def, decl: decl, state: resolved}
	if decl != nil {
		e.state = unresolved
	}
	ts.types[def.Name] = e
	ts.order = append(ts.order, e)
	return nil
}

func (ts *typeScope) resolveAll() error {
	for _, e := range ts.order {
		if err := ts.ensure(e); err != nil {
			return err
		}
	}
	return nil
}

func (ts *typeScope) ensure(e *typeEntry) error {
	switch e.state {
	case resolved:
		return nil
	case resolving:
		return resolveErr(e.def.Pos, "type %q refers to itself (%s)", e.def.Name,
			cyclePath(ts.stack, e, func(t *typeEntry) string { return t.def.Name }))
	}
	e.state = resolving
	ts.stack = append(ts.stack, e)
	kind, err := ts.kind(e.decl)
	ts.stack = ts.stack[:len(ts.stack)-1]
	e.def.Kind = kind
	e.state = resolved
	return err
}

// kind resolves the structure of a type declaration.
func (ts *typeScope) kind(td *syntax.TypeDecl) (TypeDefKind, error) {
	switch k := td.Kind.(type) {
	case *syntax.AliasDecl:
		// "type x = r" names the resource r itself rather than an owned
		// handle, so that x can be borrowed like r.
		if n, ok := k.Type.(*syntax.Named); ok {
			def, err := ts.named(n.Name)
			return &Alias{Target: def}, err
		}
		t, err := ts.typ(k.Type)
		return &Alias{Target: t}, err
	case *syntax.RecordDecl:
		r := &Record{}
		seen := map[string]entry{}
		for _, f := range k.Fields {
			if err := define(seen, `field "`+f.Name.Name+`"`, f.Name.Name, f.Name.Pos); err != nil {
				return nil, err
			}
			t, err := ts.typ(f.Type)
			if err != nil {
				return nil, err
			}
			r.Fields = append(r.Fields, Field{Name: f.Name.Name, Type: t, Docs: f.Docs})
		}
		return r, nil
	case *syntax.VariantDecl:
		if len(k.Cases) == 0 {
			return nil, resolveErr(td.Name.Pos, "variant %q has no cases", td.Name.Name)
		}
		v := &Variant{}
		seen := map[string]entry{}
		for _, c := range k.Cases {
			if err := define(seen, `case "`+c.Name.Name+`"`, c.Name.Name, c.Name.Pos); err != nil {
				return nil, err
			}
			var t Type
			if c.Type != nil {
				var err error
				if t, err = ts.typ(c.Type); err != nil {
					return nil, err
				}
			}
			v.Cases = append(v.Cases, Case{Name: c.Name.Name, Type: t, Docs: c.Docs})
		}
		return v, nil
	case *syntax.EnumDecl:
		if len(k.Cases) == 0 {
			return nil, resolveErr(td.Name.Pos, "enum %q has no cases", td.Name.Name)
		}
		e := &Enum{}
		seen := map[string]entry{}
		for _, c := range k.Cases {
			if err := define(seen, `case "`+c.Name.Name+`"`, c.Name.Name, c.Name.Pos); err != nil {
				return nil, err
			}
			e.Cases = append(e.Cases, EnumCase{Name: c.Name.Name, Docs: c.Docs})
		}
		return e, nil
	case *syntax.FlagsDecl:
		f := &Flags{}
		seen := map[string]entry{}
		for _, c := range k.Flags {
			if err := define(seen, `flag "`+c.Name.Name+`"`, c.Name.Name, c.Name.Pos); err != nil {
				return nil, err
			}
			f.Flags = append(f.Flags, Flag{Name: c.Name.Name, Docs: c.Docs})
		}
		return f, nil
	case *syntax.ResourceDecl:
		return &Resource{}, nil
	}
	return nil, resolveErr(td.Name.Pos, "type %q has no definition", td.Name.Name)
}

// named looks up a type by name and makes sure it is resolved.
func (ts *typeScope) named(id syntax.Ident) (*TypeDef, error) {
	e := ts.types[id.Name]
	if e == nil {
		if old, ok := ts.names[strings.ToLower(id.Name)]; ok {
			return nil, resolveErr(id.Pos, "%s is not a type", old.desc)
		}
		return nil, resolveErr(id.Pos, "undefined type %q", id.Name)
	}
	if err := ts.ensure(e); err != nil {
		return nil, err
	}
	return e.def, nil
}

// isResource reports whether t is, or is an alias of, a resource.
func isResource(t Type) bool {
	d, ok := Underlying(t).(*TypeDef)
	if !ok {
		return false
	}
	_, ok = d.Kind.(*Resource)
	return ok
}

var primitives = map[string]Primitive{}

func init() {
	for p, name := range primitiveNames {
		if name != "" {
			primitives[name] = Primitive(p)
		}
	}
}

func anon(k TypeDefKind, pos Pos) *TypeDef { return &TypeDef{Kind: k, Pos: pos} }

// typ resolves a type expression.
func (ts *typeScope) typ(t syntax.Type) (Type, error) {
	switch t := t.(type) {
	case *syntax.Prim:
		if p, ok := primitives[t.Name]; ok {
			return p, nil
		}
		return nil, resolveErr(t.Pos, "undefined type %q", t.Name)
	case *syntax.Named:
		def, err := ts.named(t.Name)
		if err != nil {
			return nil, err
		}
		if isResource(def) {
			// A resource named as a type is an owned handle.
			return anon(&Handle{Resource: def}, t.Name.Pos), nil
		}
		return def, nil
	case *syntax.Handle:
		def, err := ts.named(t.Resource)
		if err != nil {
			return nil, err
		}
		if !isResource(def) {
			return nil, resolveErr(t.Resource.Pos, "%q is not a resource", t.Resource.Name)
		}
		return anon(&Handle{Resource: def, Borrow: t.Borrow}, t.Pos), nil
	case *syntax.List:
		elem, err := ts.typ(t.Elem)
		if err != nil {
			return nil, err
		}
		if t.Len > 0 {
			return anon(&FixedList{Elem: elem, Len: t.Len}, t.Pos), nil
		}
		return anon(&List{Elem: elem}, t.Pos), nil
	case *syntax.Option:
		elem, err := ts.typ(t.Type)
		return anon(&Option{Type: elem}, t.Pos), err
	case *syntax.Result:
		ok, err := ts.optTyp(t.OK)
		if err != nil {
			return nil, err
		}
		e, err := ts.optTyp(t.Err)
		return anon(&Result{OK: ok, Err: e}, t.Pos), err
	case *syntax.Tuple:
		tu := &Tuple{}
		for _, e := range t.Types {
			et, err := ts.typ(e)
			if err != nil {
				return nil, err
			}
			tu.Types = append(tu.Types, et)
		}
		return anon(tu, t.Pos), nil
	case *syntax.Map:
		k, err := ts.typ(t.Key)
		if err != nil {
			return nil, err
		}
		v, err := ts.typ(t.Value)
		return anon(&Map{Key: k, Value: v}, t.Pos), err
	case *syntax.Future:
		elem, err := ts.optTyp(t.Elem)
		return anon(&Future{Elem: elem}, t.Pos), err
	case *syntax.Stream:
		elem, err := ts.optTyp(t.Elem)
		return anon(&Stream{Elem: elem}, t.Pos), err
	}
	return nil, resolveErr(Pos{}, "missing type")
}

// optTyp resolves a type expression that may be absent.
func (ts *typeScope) optTyp(t syntax.Type) (Type, error) {
	if t == nil {
		return nil, nil
	}
	return ts.typ(t)
}

// members resolves the constructor, methods and static functions of a
// resource declaration; other declarations have none.
func (ts *typeScope) members(td *syntax.TypeDecl) ([]*Function, error) {
	r, ok := td.Kind.(*syntax.ResourceDecl)
	if !ok {
		return nil, nil
	}
	res := ts.types[td.Name.Name].def
	var out []*Function
	for _, m := range r.Funcs {
		if m == nil {
			continue
		}
		kind := memberKinds[m.Kind]
		pos := m.Name.Pos
		if kind == Constructor {
			pos = m.Pos
		}
		f, err := ts.function(m.Name.Name, kind, res, &m.Func, pos)
		if err != nil {
			return nil, err
		}
		f.Docs, f.ExternalID = m.Docs, m.ExternalID
		if f.Stability, err = ts.fs.pkg.stability(m.Gate); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

var memberKinds = map[syntax.ResourceFuncKind]FunctionKind{
	syntax.ResourceMethod:      Method,
	syntax.ResourceStatic:      Static,
	syntax.ResourceConstructor: Constructor,
}

// function resolves a signature. Methods get their self parameter and
// constructors their result here.
func (ts *typeScope) function(name string, kind FunctionKind, res *TypeDef, ft *syntax.FuncType, pos Pos) (*Function, error) {
	f := &Function{Name: name, Kind: kind, Resource: res, Async: ft.Async, Pos: pos}
	seen := map[string]entry{}
	if kind == Method {
		seen["self"] = entry{desc: `parameter "self"`, pos: pos}
		f.Params = append(f.Params, Param{Name: "self", Type: anon(&Handle{Resource: res, Borrow: true}, pos)})
	}
	for _, p := range ft.Params {
		if err := define(seen, `parameter "`+p.Name.Name+`"`, p.Name.Name, p.Name.Pos); err != nil {
			return nil, err
		}
		t, err := ts.typ(p.Type)
		if err != nil {
			return nil, err
		}
		f.Params = append(f.Params, Param{Name: p.Name.Name, Type: t})
	}
	var err error
	if f.Result, err = ts.optTyp(ft.Result); err != nil {
		return nil, err
	}
	if kind == Constructor {
		if f.Result == nil {
			f.Result = anon(&Handle{Resource: res}, pos)
		} else if !fallibleCtor(f.Result, res) {
			return nil, resolveErr(ft.Result.TypePos(), "constructor of %q must return result<%s, E>, not %s", res.Name, res.Name, f.Result)
		}
	}
	return f, nil
}

// fallibleCtor reports whether t is result<r, E> or result<r> for the
// resource res.
func fallibleCtor(t Type, res *TypeDef) bool {
	d, ok := t.(*TypeDef)
	if !ok {
		return false
	}
	r, ok := d.Kind.(*Result)
	if !ok {
		return false
	}
	h, ok := r.OK.(*TypeDef)
	if !ok {
		return false
	}
	k, ok := h.Kind.(*Handle)
	return ok && !k.Borrow && Underlying(k.Resource) == Underlying(res)
}
