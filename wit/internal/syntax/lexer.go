package syntax

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokKind is the kind of a lexical token.
type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tKeyword
	tNumber // a digit-led run: an integer or a semver version
	tString
	tEquals
	tComma
	tColon
	tSemi
	tLParen
	tRParen
	tLBrace
	tRBrace
	tLt
	tGt
	tStar
	tArrow
	tSlash
	tDot
	tAt
	tUnderscore
)

var punctText = [...]string{
	tEquals: "=", tComma: ",", tColon: ":", tSemi: ";", tLParen: "(",
	tRParen: ")", tLBrace: "{", tRBrace: "}", tLt: "<", tGt: ">",
	tStar: "*", tArrow: "->", tSlash: "/", tDot: ".", tAt: "@",
	tUnderscore: "_",
}

// keywords are the reserved words; a '%' prefix turns any of them into a
// plain identifier.
var keywords = map[string]bool{
	"as": true, "async": true, "bool": true, "borrow": true, "char": true,
	"constructor": true, "enum": true, "error-context": true, "export": true,
	"f32": true, "f64": true, "flags": true, "from": true, "func": true,
	"future": true, "import": true, "include": true, "interface": true,
	"list": true, "map": true, "option": true, "own": true, "package": true,
	"record": true, "resource": true, "result": true, "s16": true, "s32": true,
	"s64": true, "s8": true, "static": true, "stream": true, "string": true,
	"tuple": true, "type": true, "u16": true, "u32": true, "u64": true,
	"u8": true, "use": true, "variant": true, "with": true, "world": true,
}

// IsKeyword reports whether s is a WIT keyword, which must be written
// with a '%' prefix to be used as a name.
func IsKeyword(s string) bool { return keywords[s] }

type token struct {
	kind tokKind
	// text is the identifier (without '%'), keyword, number text or the
	// decoded string literal.
	text string
	pos  Pos
	// spaced reports whether whitespace or a comment precedes the token;
	// it disambiguates "import a:b;" from "import a: b;".
	spaced bool
	// docs holds the doc comments written before the token.
	docs string
}

// describe renders a token for "expected X, found Y" messages.
func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of file"
	case tIdent:
		return fmt.Sprintf("identifier '%s'", t.text)
	case tKeyword:
		return fmt.Sprintf("keyword '%s'", t.text)
	case tNumber:
		return fmt.Sprintf("'%s'", t.text)
	case tString:
		return "string literal"
	}
	return "'" + punctText[t.kind] + "'"
}

type lexer struct {
	file      string
	src       []byte
	off       int
	line, col int
}

func (l *lexer) pos() Pos { return Pos{File: l.file, Line: l.line, Col: l.col} }

func (l *lexer) errorf(pos Pos, format string, args ...any) {
	panic(&Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// advance moves n bytes forward, keeping line and column current.
func (l *lexer) advance(n int) {
	for _, b := range l.src[l.off : l.off+n] {
		if b == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
	}
	l.off += n
}

func (l *lexer) peekByte(i int) byte {
	if l.off+i < len(l.src) {
		return l.src[l.off+i]
	}
	return 0
}

// checkSource rejects, before any parsing, what WIT forbids anywhere in a
// file (comments included): invalid UTF-8, control codes other than
// newline, carriage return and tab, bidirectional overrides and deprecated
// code points.
func (l *lexer) checkSource() {
	line, col := 1, 1
	for i := 0; i < len(l.src); {
		// Fast path: printable ASCII and the allowed whitespace.
		if c := l.src[i]; c >= 0x20 && c < 0x7f || c == '\t' || c == '\r' {
			i++
			col++
			continue
		}
		r, size := utf8.DecodeRune(l.src[i:])
		pos := Pos{File: l.file, Line: line, Col: col}
		switch {
		case r == utf8.RuneError && size == 1:
			l.errorf(pos, "invalid UTF-8 encoding")
		case r < 0x20 && r != '\n' && r != '\r' && r != '\t', r >= 0x7f && r <= 0x9f:
			l.errorf(pos, "control character %U is not allowed", r)
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			l.errorf(pos, "bidirectional override character %U is not allowed", r)
		case isDeprecatedRune(r):
			l.errorf(pos, "deprecated code point %U is not allowed", r)
		}
		if r == '\n' {
			line++
			col = 1
		} else {
			col += size
		}
		i += size
	}
}

// isDeprecatedRune reports Unicode's Deprecated code points, plus the two
// Khmer vowels Unicode strongly discourages.
func isDeprecatedRune(r rune) bool {
	switch {
	case r == 0x149, r == 0x673, r == 0xf77, r == 0xf79,
		r >= 0x17a3 && r <= 0x17a5, r == 0x17b4, r == 0x17b5,
		r >= 0x206a && r <= 0x206f, r == 0x2329, r == 0x232a, r == 0xe0001:
		return true
	}
	return false
}

func isLetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }
func isDigit(b byte) bool  { return b >= '0' && b <= '9' }
func isAlnum(b byte) bool  { return isLetter(b) || isDigit(b) }

// skipSpace skips whitespace and comments, returning the doc comments it
// saw and whether it skipped anything.
func (l *lexer) skipSpace() (docs []string, spaced bool) {
	for l.off < len(l.src) {
		switch c := l.src[l.off]; {
		case c == ' ' || c == '\n' || c == '\r' || c == '\t':
			l.advance(1)
		case c == '/' && l.peekByte(1) == '/':
			end := l.off + 2
			for end < len(l.src) && l.src[end] != '\n' {
				end++
			}
			text := string(l.src[l.off:end])
			if strings.HasPrefix(text, "///") && !strings.HasPrefix(text, "////") {
				docs = append(docs, lineDoc(text[3:]))
			}
			l.advance(end - l.off)
		case c == '/' && l.peekByte(1) == '*':
			docs = append(docs, l.blockComment()...)
		default:
			return docs, spaced
		}
		spaced = true
	}
	return docs, spaced
}

func lineDoc(s string) string {
	s = strings.TrimSuffix(s, "\r")
	return strings.TrimPrefix(s, " ")
}

// blockComment skips a possibly nested block comment and returns its doc
// lines when it is a "/** ... */" doc comment.
func (l *lexer) blockComment() []string {
	start := l.pos()
	begin := l.off
	depth := 0
	for {
		switch {
		case l.off >= len(l.src):
			l.errorf(start, "unterminated block comment")
		case l.src[l.off] == '/' && l.peekByte(1) == '*':
			depth++
			l.advance(2)
		case l.src[l.off] == '*' && l.peekByte(1) == '/':
			depth--
			l.advance(2)
			if depth == 0 {
				return blockDoc(string(l.src[begin:l.off]))
			}
		default:
			l.advance(1)
		}
	}
}

// blockDoc extracts the doc lines of a "/** ... */" comment: each line is
// stripped of leading blanks, one leading '*' and one space.
func blockDoc(c string) []string {
	// "/**/" and "/***...*/" are ordinary comments.
	if !strings.HasPrefix(c, "/**") || len(c) < 5 || c[3] == '*' {
		return nil
	}
	body := c[3 : len(c)-2]
	lines := strings.Split(body, "\n")
	for i, ln := range lines {
		ln = strings.TrimRight(ln, " \t\r")
		if i > 0 {
			ln = strings.TrimLeft(ln, " \t")
			ln = strings.TrimPrefix(ln, "*")
		}
		lines[i] = strings.TrimPrefix(ln, " ")
	}
	for len(lines) > 0 && lines[0] == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// next returns the next token.
func (l *lexer) next() token {
	docs, spaced := l.skipSpace()
	tok := token{pos: l.pos(), spaced: spaced, docs: strings.Join(docs, "\n")}
	if l.off >= len(l.src) {
		tok.kind = tEOF
		return tok
	}
	c := l.src[l.off]
	switch {
	case isLetter(c):
		tok.text = l.identText()
		tok.kind = tIdent
		if keywords[tok.text] {
			tok.kind = tKeyword
		}
	case c == '%':
		l.advance(1)
		if !isLetter(l.peekByte(0)) {
			l.errorf(tok.pos, "expected identifier after '%%'")
		}
		tok.text = l.identText()
		tok.kind = tIdent
	case isDigit(c):
		tok.kind = tNumber
		tok.text = l.numberText()
	case c == '"':
		tok.kind = tString
		tok.text = l.stringLit()
	case c == '-' && l.peekByte(1) == '>':
		tok.kind = tArrow
		l.advance(2)
	default:
		k, ok := punctKind(c)
		if !ok {
			r, _ := utf8.DecodeRune(l.src[l.off:])
			l.errorf(tok.pos, "unexpected character %s", strconv.QuoteRune(r))
		}
		tok.kind = k
		l.advance(1)
	}
	return tok
}

func punctKind(c byte) (tokKind, bool) {
	switch c {
	case '=':
		return tEquals, true
	case ',':
		return tComma, true
	case ':':
		return tColon, true
	case ';':
		return tSemi, true
	case '(':
		return tLParen, true
	case ')':
		return tRParen, true
	case '{':
		return tLBrace, true
	case '}':
		return tRBrace, true
	case '<':
		return tLt, true
	case '>':
		return tGt, true
	case '*':
		return tStar, true
	case '/':
		return tSlash, true
	case '.':
		return tDot, true
	case '@':
		return tAt, true
	case '_':
		return tUnderscore, true
	}
	return 0, false
}

// identText scans a kebab-case label starting at a letter and validates
// it. A '-' right before '>' is left for the "->" operator.
func (l *lexer) identText() string {
	start, pos := l.off, l.pos()
	end := l.off
	for end < len(l.src) {
		c := l.src[end]
		if isAlnum(c) || c == '-' && (end+1 >= len(l.src) || l.src[end+1] != '>') {
			end++
			continue
		}
		break
	}
	l.advance(end - start)
	text := string(l.src[start:end])
	if msg := checkLabel(text); msg != "" {
		l.errorf(pos, "invalid identifier %q: %s", text, msg)
	}
	return text
}

// checkLabel applies the component-model label rules: words separated by
// single '-', each starting with a letter and either all lowercase or all
// uppercase (digits allowed in both).
func checkLabel(s string) string {
	for _, w := range strings.Split(s, "-") {
		if w == "" {
			if strings.HasSuffix(s, "-") {
				return "must not end with '-'"
			}
			return "words must be separated by a single '-'"
		}
		if !isLetter(w[0]) {
			return fmt.Sprintf("word %q must start with a letter", w)
		}
		if strings.ToLower(w) != w && strings.ToUpper(w) != w {
			return fmt.Sprintf("word %q mixes upper and lower case", w)
		}
	}
	return ""
}

// numberText scans a digit-led run that may be a semver version: digits,
// letters, '-', '+' and '.', where a '.' is taken only when a version
// character follows (so "1.0.0.{" stops before ".{").
func (l *lexer) numberText() string {
	start := l.off
	end := l.off
	for end < len(l.src) {
		c := l.src[end]
		if isAlnum(c) || c == '+' || c == '-' && (end+1 >= len(l.src) || l.src[end+1] != '>') {
			end++
			continue
		}
		if c == '.' && end+1 < len(l.src) && (isAlnum(l.src[end+1]) || l.src[end+1] == '-') {
			end++
			continue
		}
		break
	}
	l.advance(end - start)
	return string(l.src[start:end])
}

// stringLit scans a double-quoted literal with the escapes of the core
// WebAssembly text format's names and returns its decoded value.
func (l *lexer) stringLit() string {
	start := l.pos()
	l.advance(1)
	var b strings.Builder
	for {
		if l.off >= len(l.src) || l.src[l.off] == '\n' {
			l.errorf(start, "unterminated string literal")
		}
		c := l.src[l.off]
		switch {
		case c == '"':
			l.advance(1)
			if !utf8.ValidString(b.String()) {
				l.errorf(start, "string literal is not valid UTF-8")
			}
			return b.String()
		case c == '\\':
			l.escape(&b)
		case c < 0x20 || c == 0x7f:
			l.errorf(l.pos(), "control character %U in string literal", rune(c))
		default:
			b.WriteByte(c)
			l.advance(1)
		}
	}
}

func (l *lexer) escape(b *strings.Builder) {
	pos := l.pos()
	l.advance(1)
	switch c := l.peekByte(0); c {
	case 't':
		b.WriteByte('\t')
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case '"', '\'', '\\':
		b.WriteByte(c)
	case 'u':
		if l.peekByte(1) != '{' {
			l.errorf(pos, `expected '{' after \u`)
		}
		l.advance(2)
		var r rune
		n := 0
		for ; isHex(l.peekByte(0)); n++ {
			r = r<<4 | rune(hexVal(l.peekByte(0)))
			if r > utf8.MaxRune {
				l.errorf(pos, "unicode escape out of range")
			}
			l.advance(1)
		}
		if n == 0 || l.peekByte(0) != '}' {
			l.errorf(pos, `invalid unicode escape: expected \u{hex digits}`)
		}
		if !utf8.ValidRune(r) {
			l.errorf(pos, "unicode escape %U is not a valid scalar value", r)
		}
		b.WriteRune(r)
	default:
		if !isHex(c) || !isHex(l.peekByte(1)) {
			l.errorf(pos, "invalid escape sequence in string literal")
		}
		b.WriteByte(hexVal(c)<<4 | hexVal(l.peekByte(1)))
		l.advance(1)
	}
	l.advance(1)
}

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func hexVal(c byte) byte {
	switch {
	case isDigit(c):
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// checkSemver returns why s is not a valid semantic version, or "".
func checkSemver(s string) string {
	core, build, hasBuild := strings.Cut(s, "+")
	core, pre, hasPre := strings.Cut(core, "-")
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return "expected major.minor.patch"
	}
	for _, p := range parts {
		if !numericID(p) {
			return fmt.Sprintf("invalid version number %q", p)
		}
	}
	if hasPre {
		for _, id := range strings.Split(pre, ".") {
			if !alnumID(id) || allDigits(id) && !numericID(id) {
				return fmt.Sprintf("invalid pre-release identifier %q", id)
			}
		}
	}
	if hasBuild {
		for _, id := range strings.Split(build, ".") {
			if !alnumID(id) {
				return fmt.Sprintf("invalid build metadata identifier %q", id)
			}
		}
	}
	return ""
}

// numericID reports a non-empty digit string without a leading zero.
func numericID(s string) bool {
	return s != "" && allDigits(s) && (s == "0" || s[0] != '0')
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func alnumID(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) && s[i] != '-' {
			return false
		}
	}
	return s != ""
}
