package syntax

import (
	"fmt"
	"strconv"
	"strings"
)

// maxTypeDepth bounds the nesting of type expressions so hostile input
// cannot exhaust the stack.
const maxTypeDepth = 100

// Parse parses one WIT file. It returns a *Error for the first syntax
// error.
func Parse(filename string, src []byte) (f *File, err error) {
	p := &parser{lx: lexer{file: filename, src: src, line: 1, col: 1}}
	// Errors unwind the recursive descent by panicking with *Error; any
	// other panic is a bug and is not swallowed.
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			f, err = nil, e
		}
	}()
	p.lx.checkSource()
	p.tok = p.lx.next()
	return p.parseFile(), nil
}

type parser struct {
	lx  lexer
	tok token
	// ahead holds tokens already lexed past tok.
	ahead []token
}

func (p *parser) next() {
	if len(p.ahead) > 0 {
		p.tok = p.ahead[0]
		p.ahead = p.ahead[1:]
		return
	}
	p.tok = p.lx.next()
}

// peek returns the token n places after the current one (n >= 1).
func (p *parser) peek(n int) token {
	for len(p.ahead) < n {
		p.ahead = append(p.ahead, p.lx.next())
	}
	return p.ahead[n-1]
}

func (p *parser) errorf(pos Pos, format string, args ...any) {
	panic(&Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) unexpected(want string) {
	p.errorf(p.tok.pos, "expected %s, found %s", want, p.tok.describe())
}

func (p *parser) is(k tokKind) bool { return p.tok.kind == k }

func (p *parser) isKeyword(kw string) bool {
	return p.tok.kind == tKeyword && p.tok.text == kw
}

// eat consumes the current token if it has kind k.
func (p *parser) eat(k tokKind) bool {
	if p.tok.kind != k {
		return false
	}
	p.next()
	return true
}

func (p *parser) eatKeyword(kw string) bool {
	if !p.isKeyword(kw) {
		return false
	}
	p.next()
	return true
}

func (p *parser) expect(k tokKind) token {
	t := p.tok
	if t.kind != k {
		p.unexpected("'" + punctText[k] + "'")
	}
	p.next()
	return t
}

func (p *parser) expectKeyword(kw string) token {
	t := p.tok
	if !p.isKeyword(kw) {
		p.unexpected("'" + kw + "'")
	}
	p.next()
	return t
}

func (p *parser) ident() Ident {
	t := p.tok
	if t.kind != tIdent {
		p.unexpected("identifier")
	}
	p.next()
	return Ident{Name: t.text, Pos: t.pos}
}

// version parses a semver token.
func (p *parser) version() string {
	t := p.tok
	if t.kind != tNumber {
		p.unexpected("version")
	}
	if msg := checkSemver(t.text); msg != "" {
		p.errorf(t.pos, "invalid version %q: %s", t.text, msg)
	}
	p.next()
	return t.text
}

func (p *parser) parseFile() *File {
	f := &File{Name: p.lx.file}
	first := true
	for !p.is(tEOF) {
		if p.isKeyword("package") {
			decl := p.packageDecl()
			if p.is(tSemi) {
				if !first {
					p.errorf(decl.Pos, "package declaration must come first in the file")
				}
				p.next()
				f.Package = decl
			} else {
				f.Nested = append(f.Nested, p.nestedPackage(decl))
			}
		} else {
			f.Items = append(f.Items, p.packageItem("'interface', 'world', 'use' or 'package'"))
		}
		first = false
	}
	return f
}

// packageDecl parses "package (id ':')+ id ('/' id)* ('@' version)?".
func (p *parser) packageDecl() *PackageDecl {
	d := &PackageDecl{Docs: p.tok.docs, Pos: p.tok.pos}
	p.expectKeyword("package")
	names := []string{p.ident().Name}
	p.expect(tColon)
	names = append(names, p.ident().Name)
	for p.eat(tColon) {
		names = append(names, p.ident().Name)
	}
	d.Namespace = strings.Join(names[:len(names)-1], ":")
	pkg := names[len(names)-1:]
	for p.eat(tSlash) {
		pkg = append(pkg, p.ident().Name)
	}
	d.Name = strings.Join(pkg, "/")
	if p.eat(tAt) {
		d.Version = p.version()
	}
	return d
}

func (p *parser) nestedPackage(decl *PackageDecl) *NestedPackage {
	if !p.is(tLBrace) {
		p.unexpected("';' or '{'")
	}
	p.next()
	n := &NestedPackage{Decl: decl}
	for !p.eat(tRBrace) {
		if p.is(tEOF) {
			p.unexpected("'}'")
		}
		if p.isKeyword("package") {
			p.errorf(p.tok.pos, "package blocks cannot be nested")
		}
		n.Items = append(n.Items, p.packageItem("'interface', 'world', 'use' or '}'"))
	}
	return n
}

// attrs are the doc comments and '@' attributes written before an item.
type attrs struct {
	docs       string
	gate       Gate
	externalID string
	extPos     Pos // zero when there is no @external-id
}

// attributes parses the gates and @external-id before an item, in any
// order. Doc comments may appear before, between and after them.
func (p *parser) attributes() attrs {
	var a attrs
	var docs []string
	for {
		if p.tok.docs != "" {
			docs = append(docs, p.tok.docs)
		}
		if !p.is(tAt) {
			break
		}
		at := p.tok.pos
		p.next()
		name := p.tok
		if name.kind != tIdent {
			p.unexpected("attribute name")
		}
		p.next()
		p.expect(tLParen)
		switch name.text {
		case "since", "deprecated":
			p.expectField("version")
			v := p.version()
			if name.text == "since" {
				p.setGate(&a, &a.gate.Since, v, name, at)
			} else {
				p.setGate(&a, &a.gate.Deprecated, v, name, at)
			}
		case "unstable":
			p.expectField("feature")
			p.setGate(&a, &a.gate.Unstable, p.ident().Name, name, at)
		case "external-id":
			if a.extPos != (Pos{}) {
				p.errorf(at, "duplicate @external-id attribute")
			}
			if !p.is(tString) {
				p.unexpected("string literal")
			}
			a.externalID, a.extPos = p.tok.text, at
			p.next()
		default:
			p.errorf(at, "unknown attribute '@%s' (expected @since, @unstable, @deprecated or @external-id)", name.text)
		}
		if a.gate.Since != "" && a.gate.Unstable != "" {
			p.errorf(at, "@since and @unstable cannot be used together")
		}
		p.expect(tRParen)
	}
	a.docs = strings.Join(docs, "\n")
	return a
}

// expectField parses "name =" inside a gate.
func (p *parser) expectField(name string) {
	if !p.is(tIdent) || p.tok.text != name {
		p.unexpected("'" + name + "'")
	}
	p.next()
	p.expect(tEquals)
}

func (p *parser) setGate(a *attrs, field *string, v string, name token, at Pos) {
	if *field != "" {
		p.errorf(at, "duplicate @%s attribute", name.text)
	}
	*field = v
	if a.gate.Pos == (Pos{}) {
		a.gate.Pos = at
	}
}

// noGate rejects attributes on items that cannot carry them.
func (p *parser) noGate(a attrs, what string) {
	if a.gate.Pos != (Pos{}) {
		p.errorf(a.gate.Pos, "feature gates are not allowed on %s", what)
	}
	p.noExternalID(a, what)
}

func (p *parser) noExternalID(a attrs, what string) {
	if a.extPos != (Pos{}) {
		p.errorf(a.extPos, "@external-id is not allowed on %s", what)
	}
}

// packageItem parses a top-level use, interface or world; want describes
// the acceptable tokens for the error message.
func (p *parser) packageItem(want string) Item {
	a := p.attributes()
	switch {
	case p.isKeyword("use"):
		p.noGate(a, "a top-level use")
		u := &TopUse{Docs: a.docs, Pos: p.tok.pos}
		p.next()
		u.Path = p.usePath()
		if p.eatKeyword("as") {
			id := p.ident()
			u.As = &id
		}
		p.expect(tSemi)
		return u
	case p.isKeyword("interface"):
		p.noExternalID(a, "an interface")
		i := &Interface{Docs: a.docs, Gate: a.gate, Pos: p.tok.pos}
		p.next()
		i.Name = p.ident()
		i.Items = p.interfaceBody()
		return i
	case p.isKeyword("world"):
		p.noExternalID(a, "a world")
		w := &World{Docs: a.docs, Gate: a.gate, Pos: p.tok.pos}
		p.next()
		w.Name = p.ident()
		p.expect(tLBrace)
		for !p.eat(tRBrace) {
			w.Items = append(w.Items, p.worldItem())
		}
		return w
	}
	p.unexpected(want)
	return nil
}

// usePath parses "id" or "(id ':')+ id ('/' id)+ ('@' version)?".
func (p *parser) usePath() UsePath {
	first := p.ident()
	up := UsePath{Pos: first.Pos}
	if !p.is(tColon) {
		up.Name = first
		return up
	}
	names := []string{first.Name}
	for p.eat(tColon) {
		names = append(names, p.ident().Name)
	}
	up.Namespace = strings.Join(names[:len(names)-1], ":")
	segs := []Ident{{Name: names[len(names)-1]}}
	if !p.is(tSlash) {
		p.unexpected("'/'")
	}
	for p.eat(tSlash) {
		segs = append(segs, p.ident())
	}
	pkg := make([]string, len(segs)-1)
	for i, s := range segs[:len(segs)-1] {
		pkg[i] = s.Name
	}
	up.Package = strings.Join(pkg, "/")
	up.Name = segs[len(segs)-1]
	if p.eat(tAt) {
		up.Version = p.version()
	}
	return up
}

func (p *parser) interfaceBody() []InterfaceItem {
	p.expect(tLBrace)
	var items []InterfaceItem
	for !p.eat(tRBrace) {
		items = append(items, p.interfaceItem())
	}
	return items
}

func (p *parser) interfaceItem() InterfaceItem {
	a := p.attributes()
	switch {
	case p.isKeyword("use"):
		p.noExternalID(a, "a use")
		return p.use(a)
	case p.is(tKeyword) && isTypeDeclKeyword(p.tok.text):
		return p.typeDecl(a)
	case p.is(tIdent):
		fn := &Func{Docs: a.docs, Gate: a.gate, ExternalID: a.externalID, Pos: p.tok.pos}
		fn.Name = p.ident()
		p.expect(tColon)
		fn.Func = p.funcType()
		p.expect(tSemi)
		return fn
	}
	p.unexpected("'use', type definition, function or '}'")
	return nil
}

func isTypeDeclKeyword(kw string) bool {
	switch kw {
	case "type", "record", "variant", "enum", "flags", "resource":
		return true
	}
	return false
}

// use parses "use path.{a, b as c};".
func (p *parser) use(a attrs) *Use {
	u := &Use{Docs: a.docs, Gate: a.gate, Pos: p.tok.pos}
	p.expectKeyword("use")
	u.Path = p.usePath()
	p.expect(tDot)
	p.expect(tLBrace)
	for {
		n := UseName{Name: p.ident()}
		if p.eatKeyword("as") {
			id := p.ident()
			n.As = &id
		}
		u.Names = append(u.Names, n)
		if !p.eat(tComma) || p.is(tRBrace) {
			break
		}
	}
	p.expect(tRBrace)
	p.expect(tSemi)
	return u
}

func (p *parser) worldItem() WorldItem {
	a := p.attributes()
	switch {
	case p.isKeyword("import"), p.isKeyword("export"):
		imp := p.isKeyword("import")
		e := p.extern(a)
		if imp {
			return &Import{Extern: e}
		}
		return &Export{Extern: e}
	case p.isKeyword("use"):
		p.noExternalID(a, "a use")
		return p.use(a)
	case p.isKeyword("include"):
		p.noExternalID(a, "an include")
		return p.include(a)
	case p.is(tKeyword) && isTypeDeclKeyword(p.tok.text):
		p.noExternalID(a, "a type in a world")
		return p.typeDecl(a)
	}
	p.unexpected("'import', 'export', 'use', 'include', type definition or '}'")
	return nil
}

// extern parses what follows "import" or "export". "import a:b/c;" names
// an interface by path while "import a: b/c;" would be a named import: a
// colon with no space on either side binds a namespace.
func (p *parser) extern(a attrs) Extern {
	kw := p.tok
	p.next()
	e := Extern{Docs: a.docs, Gate: a.gate, ExternalID: a.externalID, Pos: kw.pos}
	colon, after := p.peek(1), p.peek(2)
	named := p.is(tIdent) && colon.kind == tColon &&
		(colon.spaced || after.spaced || after.kind != tIdent)
	if !named {
		if a.extPos != (Pos{}) {
			p.errorf(a.extPos, "@external-id requires a named %s (%s name: ...)", kw.text, kw.text)
		}
		e.Kind = ExternPath
		e.Path = p.usePath()
		p.expect(tSemi)
		return e
	}
	name := p.ident()
	e.Name = &name
	p.next() // ':'
	switch {
	case p.isKeyword("func"), p.isKeyword("async"):
		e.Kind = ExternFunc
		e.Func = p.funcType()
		p.expect(tSemi)
	case p.isKeyword("interface"):
		e.Kind = ExternInterface
		p.next()
		e.Items = p.interfaceBody()
	case p.is(tIdent):
		e.Kind = ExternPath
		e.Path = p.usePath()
		p.expect(tSemi)
	default:
		p.unexpected("'func', 'interface' or interface path")
	}
	return e
}

// include parses "include path;" or "include path with { a as b, ... }".
// A ';' after the closing brace is accepted as WIT.md's examples write one.
func (p *parser) include(a attrs) *Include {
	inc := &Include{Docs: a.docs, Gate: a.gate, Pos: p.tok.pos}
	p.next()
	inc.Path = p.usePath()
	if !p.eatKeyword("with") {
		p.expect(tSemi)
		return inc
	}
	p.expect(tLBrace)
	for {
		n := IncludeName{Name: p.ident()}
		p.expectKeyword("as")
		n.As = p.ident()
		inc.With = append(inc.With, n)
		if !p.eat(tComma) {
			break
		}
	}
	p.expect(tRBrace)
	p.eat(tSemi)
	return inc
}

// funcType parses "async? func(params) (-> ty)?".
func (p *parser) funcType() FuncType {
	ft := FuncType{Pos: p.tok.pos}
	ft.Async = p.eatKeyword("async")
	p.expectKeyword("func")
	ft.Params = p.params()
	if p.eat(tArrow) {
		ft.Result = p.typ(0)
	}
	return ft
}

// params parses "(a: T, b: U)". WIT.md's grammar has no trailing comma
// here, but the WASI files themselves write one.
func (p *parser) params() []NamedType {
	p.expect(tLParen)
	var ps []NamedType
	for !p.is(tRParen) {
		ps = append(ps, p.namedType())
		if !p.eat(tComma) {
			break
		}
	}
	p.expect(tRParen)
	return ps
}

func (p *parser) namedType() NamedType {
	nt := NamedType{Docs: p.tok.docs}
	nt.Name = p.ident()
	p.expect(tColon)
	nt.Type = p.typ(0)
	return nt
}

func (p *parser) typeDecl(a attrs) *TypeDecl {
	kw := p.tok
	p.next()
	td := &TypeDecl{Docs: a.docs, Gate: a.gate, ExternalID: a.externalID, Pos: kw.pos}
	td.Name = p.ident()
	switch kw.text {
	case "type":
		p.expect(tEquals)
		td.Kind = &AliasDecl{Type: p.typ(0)}
		p.expect(tSemi)
	case "record":
		r := &RecordDecl{}
		p.braceList("record must have at least one field", func() {
			r.Fields = append(r.Fields, p.namedType())
		})
		td.Kind = r
	case "variant":
		v := &VariantDecl{}
		p.braceList("variant must have at least one case", func() {
			c := VariantCase{Docs: p.tok.docs}
			c.Name = p.ident()
			if p.eat(tLParen) {
				c.Type = p.typ(0)
				p.expect(tRParen)
			}
			v.Cases = append(v.Cases, c)
		})
		td.Kind = v
	case "enum":
		e := &EnumDecl{}
		p.braceList("enum must have at least one case", func() {
			e.Cases = append(e.Cases, p.docIdent())
		})
		td.Kind = e
	case "flags":
		fl := &FlagsDecl{}
		p.braceList("flags must have at least one flag", func() {
			fl.Flags = append(fl.Flags, p.docIdent())
		})
		td.Kind = fl
	default: // "resource"
		td.Kind = p.resourceBody(td.Name.Name)
	}
	return td
}

func (p *parser) docIdent() DocIdent {
	docs := p.tok.docs
	return DocIdent{Docs: docs, Name: p.ident()}
}

// braceList parses "{ x (, x)* ,? }" with at least one element.
func (p *parser) braceList(emptyMsg string, elem func()) {
	p.expect(tLBrace)
	if p.is(tRBrace) {
		p.errorf(p.tok.pos, "%s", emptyMsg)
	}
	for !p.is(tRBrace) {
		elem()
		if !p.eat(tComma) {
			break
		}
	}
	p.expect(tRBrace)
}

func (p *parser) resourceBody(name string) *ResourceDecl {
	r := &ResourceDecl{}
	if p.eat(tSemi) {
		return r
	}
	if !p.is(tLBrace) {
		p.unexpected("';' or '{'")
	}
	p.next()
	r.Braced = true
	for !p.eat(tRBrace) {
		a := p.attributes()
		rf := &ResourceFunc{Docs: a.docs, Gate: a.gate, ExternalID: a.externalID, Pos: p.tok.pos}
		switch {
		case p.isKeyword("constructor"):
			rf.Kind = ResourceConstructor
			rf.Func.Pos = p.tok.pos
			p.next()
			rf.Func.Params = p.params()
			if p.eat(tArrow) {
				rf.Func.Result = p.typ(0)
			}
		case p.is(tIdent):
			rf.Name = p.ident()
			p.expect(tColon)
			if p.eatKeyword("static") {
				rf.Kind = ResourceStatic
			}
			rf.Func = p.funcType()
		default:
			p.unexpected(fmt.Sprintf("method, 'constructor' or '}' in resource '%s'", name))
		}
		p.expect(tSemi)
		r.Funcs = append(r.Funcs, rf)
	}
	return r
}

// typ parses a type expression; depth counts enclosing type constructors.
func (p *parser) typ(depth int) Type {
	t := p.tok
	if depth >= maxTypeDepth {
		p.errorf(t.pos, "type nesting too deep (limit %d)", maxTypeDepth)
	}
	if t.kind == tIdent {
		p.next()
		return &Named{Name: Ident{Name: t.text, Pos: t.pos}}
	}
	if t.kind != tKeyword {
		p.unexpected("type")
	}
	switch t.text {
	case "bool", "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64",
		"f32", "f64", "char", "string", "error-context":
		p.next()
		return &Prim{Name: t.text, Pos: t.pos}
	case "list":
		p.next()
		p.expect(tLt)
		l := &List{Pos: t.pos, Elem: p.typ(depth + 1)}
		if p.eat(tComma) {
			l.Len = p.listLen()
		}
		p.expect(tGt)
		return l
	case "option":
		p.next()
		p.expect(tLt)
		o := &Option{Pos: t.pos, Type: p.typ(depth + 1)}
		p.expect(tGt)
		return o
	case "result":
		return p.result(depth)
	case "tuple":
		p.next()
		p.expect(tLt)
		tu := &Tuple{Pos: t.pos}
		for {
			tu.Types = append(tu.Types, p.typ(depth+1))
			if !p.eat(tComma) || p.is(tGt) {
				break
			}
		}
		p.expect(tGt)
		return tu
	case "map":
		p.next()
		p.expect(tLt)
		m := &Map{Pos: t.pos, Key: p.mapKey()}
		p.expect(tComma)
		m.Value = p.typ(depth + 1)
		p.expect(tGt)
		return m
	case "borrow", "own":
		p.next()
		p.expect(tLt)
		h := &Handle{Borrow: t.text == "borrow", Pos: t.pos, Resource: p.ident()}
		p.expect(tGt)
		return h
	case "future", "stream":
		p.next()
		var elem Type
		if p.eat(tLt) {
			elem = p.typ(depth + 1)
			p.expect(tGt)
		}
		if t.text == "future" {
			return &Future{Pos: t.pos, Elem: elem}
		}
		return &Stream{Pos: t.pos, Elem: elem}
	}
	p.unexpected("type")
	return nil
}

// result parses the four forms: result, result<T>, result<T, E> and
// result<_, E>.
func (p *parser) result(depth int) *Result {
	r := &Result{Pos: p.tok.pos}
	p.next()
	if !p.eat(tLt) {
		return r
	}
	if p.eat(tUnderscore) {
		p.expect(tComma)
		r.Err = p.typ(depth + 1)
	} else {
		r.OK = p.typ(depth + 1)
		if p.eat(tComma) {
			r.Err = p.typ(depth + 1)
		}
	}
	p.expect(tGt)
	return r
}

// mapKey parses a map key, which the grammar restricts to integers, char,
// bool and string.
func (p *parser) mapKey() Type {
	t := p.tok
	if t.kind == tKeyword {
		switch t.text {
		case "bool", "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "char", "string":
			p.next()
			return &Prim{Name: t.text, Pos: t.pos}
		}
	}
	p.unexpected("map key type (integer, char, bool or string)")
	return nil
}

// listLen parses the length of a fixed-size list: a u32 of at least 1.
func (p *parser) listLen() uint32 {
	t := p.tok
	if t.kind != tNumber {
		p.unexpected("list length")
	}
	if !allDigits(t.text) {
		p.errorf(t.pos, "invalid fixed-size list length %q", t.text)
	}
	n, err := strconv.ParseUint(t.text, 10, 32)
	switch {
	case err != nil:
		p.errorf(t.pos, "fixed-size list length %s does not fit in u32", t.text)
	case n == 0:
		p.errorf(t.pos, "fixed-size list length must be at least 1")
	case t.text[0] == '0':
		p.errorf(t.pos, "invalid fixed-size list length %q: leading zero", t.text)
	}
	p.next()
	return uint32(n)
}
