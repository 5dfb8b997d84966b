package manifest

import (
	"errors"
	"fmt"
	"strings"
)

// maxTypeRefLen bounds a type reference. A reference names a type, it
// does not define one, so this is far more than any real one needs, and
// it bounds the parser's recursion.
const maxTypeRefLen = 256

// primitives are the WIT types that need no WIT file.
var primitives = map[string]bool{
	"bool": true, "char": true, "string": true, "f32": true, "f64": true,
	"u8": true, "u16": true, "u32": true, "u64": true,
	"s8": true, "s16": true, "s32": true, "s64": true,
}

// generics are the WIT type constructors a payload type may use.
var generics = map[string]bool{"list": true, "option": true, "result": true, "tuple": true}

// parseTypeRef checks the syntax of a type reference: a primitive, a
// generic over references (list<u8>, result<_, string>, list<u8, 4>), or
// a named type, "iface.name" or "ns:pkg/iface.name", optionally with a
// package version ("ns:pkg/iface@1.2.0.name"), the forms wit.Model.Type
// looks up. Whether the names exist is for the actor package, which
// resolves references against the WIT. named reports whether the
// reference mentions a named type, and so needs a WIT file.
func parseTypeRef(s string) (named bool, err error) {
	if len(s) > maxTypeRefLen {
		return false, fmt.Errorf("longer than %d bytes", maxTypeRefLen)
	}
	if strings.TrimSpace(s) != s {
		return false, errors.New("leading or trailing space")
	}
	p := &refParser{s: s}
	named, err = p.typ()
	if err == nil && p.i < len(s) {
		err = p.unexpected()
	}
	return named, err
}

type refParser struct {
	s string
	i int
}

func (p *refParser) typ() (named bool, err error) {
	name, qualified, err := p.name()
	if err != nil {
		return false, err
	}
	if !qualified && !primitives[name] && !generics[name] {
		return false, fmt.Errorf("%q is not a primitive; name a WIT type as iface.name", name)
	}
	named = qualified
	p.space()
	if !p.eat('<') {
		return named, nil
	}
	if qualified || !generics[name] {
		return false, fmt.Errorf("%q takes no parameters", name)
	}
	for {
		p.space()
		argNamed, err := p.arg(name)
		if err != nil {
			return false, err
		}
		named = named || argNamed
		p.space()
		if p.eat('>') {
			return named, nil
		}
		if !p.eat(',') {
			return false, p.unexpected()
		}
	}
}

// arg parses one parameter of the generic g: a type, "_" for result's
// missing ok type, or a length for a fixed-size list.
func (p *refParser) arg(g string) (named bool, err error) {
	switch {
	case g == "result" && p.eat('_'):
		return false, nil
	case g == "list" && p.i < len(p.s) && isDigit(p.s[p.i]):
		for p.i < len(p.s) && isDigit(p.s[p.i]) {
			p.i++
		}
		return false, nil
	}
	return p.typ()
}

// name parses "id", "id.id" or "id:id/id[@version].id" and returns it as
// written; qualified reports a '.'.
func (p *refParser) name() (name string, qualified bool, err error) {
	start := p.i
	if err := p.ident(); err != nil {
		return "", false, err
	}
	if p.eat(':') {
		if err := p.ident(); err != nil {
			return "", false, err
		}
		if !p.eat('/') {
			return "", false, fmt.Errorf("expected '/' after package name at byte %d", p.i)
		}
		if err := p.ident(); err != nil {
			return "", false, err
		}
		if p.eat('@') {
			// A version may contain dots itself, so the type name is
			// what follows the last one.
			start := p.i
			for p.i < len(p.s) && isVersionByte(p.s[p.i]) {
				p.i++
			}
			dot := strings.LastIndexByte(p.s[start:p.i], '.')
			if dot <= 0 {
				return "", false, fmt.Errorf("expected a version, '.' and a type name at byte %d", start)
			}
			p.i = start + dot
		}
		if p.i >= len(p.s) || p.s[p.i] != '.' {
			return "", false, fmt.Errorf("expected '.' and a type name at byte %d", p.i)
		}
	}
	if p.eat('.') {
		if err := p.ident(); err != nil {
			return "", false, err
		}
		qualified = true
	}
	return p.s[start:p.i], qualified, nil
}

// ident parses a WIT identifier: an optional '%', then kebab-case
// fragments, each all lower case or all upper case, the first starting
// with a letter.
func (p *refParser) ident() error {
	p.eat('%')
	for first := true; ; first = false {
		frag := p.i
		for p.i < len(p.s) && (isLetter(p.s[p.i]) || isDigit(p.s[p.i])) {
			p.i++
		}
		f := p.s[frag:p.i]
		if f == "" || first && !isLetter(f[0]) {
			return fmt.Errorf("expected an identifier at byte %d", frag)
		}
		if f != strings.ToLower(f) && f != strings.ToUpper(f) {
			return fmt.Errorf("identifier fragment %q mixes upper and lower case", f)
		}
		if !p.eat('-') {
			return nil
		}
	}
}

func (p *refParser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *refParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *refParser) unexpected() error {
	if p.i >= len(p.s) {
		return errors.New("unexpected end")
	}
	return fmt.Errorf("unexpected %q at byte %d", p.s[p.i], p.i)
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

// isVersionByte reports the bytes of a semantic version (1.2.0-rc.1+b5).
func isVersionByte(c byte) bool {
	return isLetter(c) || isDigit(c) || c == '.' || c == '-' || c == '+'
}
