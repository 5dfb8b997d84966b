package wit

import (
	"strconv"
	"strings"
)

// Package returns the package named ns:name or ns:name@version. Without
// a version it returns the only loaded version, or nil if there are
// several.
func (m *Model) Package(name string) *Package {
	p, _ := m.findPackage(name)
	return p
}

func (m *Model) findPackage(name string) (*Package, error) {
	if m == nil {
		return nil, notFound("package %s not found", name)
	}
	var match *Package
	var versions []string
	for _, p := range m.Packages {
		if p.Name.String() == name {
			return p, nil
		}
		if p.Name.Namespace+":"+p.Name.Name == name {
			match = p
			versions = append(versions, p.Name.Version)
		}
	}
	switch len(versions) {
	case 0:
		return nil, notFound("package %s not found", name)
	case 1:
		return match, nil
	}
	return nil, notFound("package %s is ambiguous: loaded as %s; name a version", name, strings.Join(versions, " and "))
}

// splitRef splits "ns:pkg/name@version" into "ns:pkg@version" and name,
// or returns the root package for a bare name.
func (m *Model) splitRef(ref string) (*Package, string, error) {
	if !strings.Contains(ref, ":") {
		if m == nil || m.Root == nil {
			return nil, "", notFound("no root package for %q", ref)
		}
		return m.Root, ref, nil
	}
	path, version, _ := strings.Cut(ref, "@")
	slash := strings.LastIndex(path, "/")
	if slash < 0 {
		return nil, "", notFound("%q is not of the form ns:pkg/name", ref)
	}
	pkg := path[:slash]
	if version != "" {
		pkg += "@" + version
	}
	p, err := m.findPackage(pkg)
	return p, path[slash+1:], err
}

// Interface returns the interface named by ref: a name in the root
// package, or ns:pkg/name with an optional @version.
func (m *Model) Interface(ref string) (*Interface, error) {
	p, name, err := m.splitRef(ref)
	if err != nil {
		return nil, err
	}
	for _, i := range p.Interfaces {
		if i.Name == name {
			return i, nil
		}
	}
	return nil, notFound("interface %q not found in package %s", name, p.Name)
}

// World returns the world named by ref: a name in the root package, or
// ns:pkg/name with an optional @version.
func (m *Model) World(ref string) (*World, error) {
	p, name, err := m.splitRef(ref)
	if err != nil {
		return nil, err
	}
	for _, w := range p.Worlds {
		if w.Name == name {
			return w, nil
		}
	}
	return nil, notFound("world %q not found in package %s", name, p.Name)
}

// Type returns the type named by ref: a primitive such as u32, or
// iface.name for an interface of the root package, or
// ns:pkg/iface.name and ns:pkg/iface@1.2.3.name (the type name is what
// follows the last dot), or an anonymous type written as in WIT whose
// named parts are such references: list<u8>, option<api.transfer>,
// result<_, wasi:io/streams.stream-error>, tuple<string, u32>,
// list<f32, 4>, map<string, u64>.
func (m *Model) Type(ref string) (Type, error) {
	p := typeExprParser{m: m, src: ref}
	t, err := p.parse(0)
	if err != nil {
		return nil, err
	}
	if p.space(); p.pos != len(ref) {
		return nil, notFound("type %q: unexpected %q at offset %d", ref, ref[p.pos:], p.pos)
	}
	return t, nil
}

// namedType looks up a single reference: a primitive or iface.name.
func (m *Model) namedType(ref string) (Type, error) {
	if p, ok := primitives[ref]; ok {
		return p, nil
	}
	dot := strings.LastIndex(ref, ".")
	if dot < 0 {
		return nil, notFound("type %q not found: expected a primitive or iface.name", ref)
	}
	iface, err := m.Interface(ref[:dot])
	if err != nil {
		return nil, err
	}
	if t := iface.Type(ref[dot+1:]); t != nil {
		return t, nil
	}
	return nil, notFound("type %q not found in interface %s", ref[dot+1:], iface.QualifiedName())
}

// typeExprParser reads the small type-expression language of Model.Type.
type typeExprParser struct {
	m   *Model
	src string
	pos int
}

// maxTypeExprDepth bounds nesting so a hostile reference cannot exhaust
// the stack.
const maxTypeExprDepth = 32

func (p *typeExprParser) word() string {
	p.space()
	start := p.pos
	for p.pos < len(p.src) && !strings.ContainsRune("<>, \t", rune(p.src[p.pos])) {
		p.pos++
	}
	return p.src[start:p.pos]
}

func (p *typeExprParser) space() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

// punct consumes c if it comes next.
func (p *typeExprParser) punct(c byte) bool {
	p.space()
	if p.pos < len(p.src) && p.src[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

func (p *typeExprParser) expect(c byte) error {
	if !p.punct(c) {
		return notFound("type %q: expected %q at offset %d", p.src, string(c), p.pos)
	}
	return nil
}

func (p *typeExprParser) parse(depth int) (Type, error) {
	if depth > maxTypeExprDepth {
		return nil, notFound("type %q: nested deeper than %d", p.src, maxTypeExprDepth)
	}
	at := p.pos
	w := p.word()
	if w == "" {
		return nil, notFound("type %q: expected a type at offset %d", p.src, at)
	}
	if !p.punct('<') {
		switch w {
		case "result":
			return &TypeDef{Kind: &Result{}}, nil
		case "future":
			return &TypeDef{Kind: &Future{}}, nil
		case "stream":
			return &TypeDef{Kind: &Stream{}}, nil
		}
		return p.m.namedType(w)
	}
	var args []Type
	var fixedLen string
	for {
		if w == "result" && len(args) == 0 && p.punct('_') {
			args = append(args, nil)
		} else if w == "list" && len(args) == 1 {
			if fixedLen = p.word(); fixedLen == "" || !p.punct('>') {
				return nil, notFound("type %q: expected a length and '>' after list<T,", p.src)
			}
			break
		} else {
			t, err := p.parse(depth + 1)
			if err != nil {
				return nil, err
			}
			args = append(args, t)
		}
		if p.punct('>') {
			break
		}
		if err := p.expect(','); err != nil {
			return nil, err
		}
	}
	arity := func(n int) error {
		if len(args) != n {
			return notFound("type %q: %s takes %d type argument(s), got %d", p.src, w, n, len(args))
		}
		return nil
	}
	var kind TypeDefKind
	switch w {
	case "list":
		if fixedLen == "" {
			kind = &List{Elem: args[0]}
			break
		}
		n, err := strconv.ParseUint(fixedLen, 10, 32)
		if err != nil || n == 0 {
			return nil, notFound("type %q: fixed-size list length %q is not a whole number from 1 to 4294967295", p.src, fixedLen)
		}
		kind = &FixedList{Elem: args[0], Len: uint32(n)}
	case "option":
		if err := arity(1); err != nil {
			return nil, err
		}
		kind = &Option{Type: args[0]}
	case "result":
		if len(args) == 1 {
			kind = &Result{OK: args[0]}
		} else if err := arity(2); err != nil {
			return nil, err
		} else {
			kind = &Result{OK: args[0], Err: args[1]}
		}
	case "tuple":
		kind = &Tuple{Types: args}
	case "map":
		if err := arity(2); err != nil {
			return nil, err
		}
		kind = &Map{Key: args[0], Value: args[1]}
	case "future", "stream":
		if err := arity(1); err != nil {
			return nil, err
		}
		if w == "future" {
			kind = &Future{Elem: args[0]}
		} else {
			kind = &Stream{Elem: args[0]}
		}
	case "borrow", "own":
		if err := arity(1); err != nil {
			return nil, err
		}
		r, ok := args[0].(*TypeDef)
		if !ok || !isResource(r) {
			return nil, notFound("type %q: %s of %s, which is not a resource", p.src, w, args[0])
		}
		kind = &Handle{Resource: r, Borrow: w == "borrow"}
	default:
		return nil, notFound("type %q: %q takes no type arguments", p.src, w)
	}
	for _, a := range args {
		if a == nil && !(w == "result" && len(args) == 2) {
			return nil, notFound("type %q: '_' is only allowed as the ok type of result<_, E>", p.src)
		}
	}
	return &TypeDef{Kind: kind}, nil
}

// Type returns the named type of the interface, or nil.
func (i *Interface) Type(name string) *TypeDef {
	if i == nil {
		return nil
	}
	for _, t := range i.Types {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Function returns the function with the given mangled name
// ("[method]r.read") or plain name ("read", the first resource member so
// named when no freestanding function is), or nil.
func (i *Interface) Function(name string) *Function {
	if i == nil {
		return nil
	}
	var member *Function
	for _, f := range i.Functions {
		if f.MangledName() == name {
			return f
		}
		if member == nil && f.Name == name {
			member = f
		}
	}
	return member
}
