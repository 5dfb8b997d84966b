package codec

import (
	"encoding/base64"
	"math"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/theater-go/theater/wit"
	"github.com/tinylib/msgp/msgp"
)

// jsonReader parses one JSON value under a WIT type, writing msgpack as it
// goes. It is a recursive descent parser of its own rather than
// encoding/json because the type drives every decision (what a string or
// a number may be), and a generic token stream would allocate per token.
type jsonReader struct {
	in      []byte
	pos     int
	out     []byte
	lim     Limits
	scratch []byte // unescaped strings
}

func (p *jsonReader) top(t wit.Type) ([]byte, error) {
	if err := checkIn(p.lim, len(p.in)); err != nil {
		return nil, err
	}
	p.out = make([]byte, 0, min(len(p.in)+16, p.lim.MaxBytes))
	if err := p.value(t, 0); err != nil {
		return nil, finish(err)
	}
	p.ws()
	if p.pos != len(p.in) {
		return nil, p.syntax()
	}
	return p.out, nil
}

func (p *jsonReader) ws() {
	for p.pos < len(p.in) {
		switch p.in[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end of the input.
func (p *jsonReader) peek() byte {
	p.ws()
	if p.pos < len(p.in) {
		return p.in[p.pos]
	}
	return 0
}

func (p *jsonReader) syntax() error {
	if p.pos >= len(p.in) {
		return malformed("unexpected end of JSON input")
	}
	return malformed("invalid character " + strconv.QuoteRune(rune(p.in[p.pos])) + " at offset " + strconv.Itoa(p.pos))
}

func (p *jsonReader) mismatch(want string) error {
	got, err := p.describe()
	if err != nil {
		return err
	}
	return mismatch(want, got)
}

// describe names the JSON value at the current position for error
// messages, or reports a syntax error.
func (p *jsonReader) describe() (string, error) {
	switch c := p.peek(); {
	case c == '{':
		return "object", nil
	case c == '[':
		return "array", nil
	case c == '"':
		s, err := p.str()
		if err != nil {
			return "", err
		}
		return "string " + quote(s), nil
	case c == '-' || (c >= '0' && c <= '9'):
		lit, err := p.number()
		if err != nil {
			return "", err
		}
		return "number " + truncate(lit), nil
	case c == 't':
		return "bool true", p.literal("true")
	case c == 'f':
		return "bool false", p.literal("false")
	case c == 'n':
		return "null", p.literal("null")
	}
	return "", p.syntax()
}

func truncate(lit []byte) string {
	if len(lit) > maxQuoted {
		return string(lit[:maxQuoted]) + "..."
	}
	return string(lit)
}

func (p *jsonReader) literal(word string) error {
	if len(p.in)-p.pos < len(word) || string(p.in[p.pos:p.pos+len(word)]) != word {
		for i := 0; i < len(word) && p.pos < len(p.in) && p.in[p.pos] == word[i]; i++ {
			p.pos++ // point the error at the first wrong byte
		}
		return p.syntax()
	}
	p.pos += len(word)
	return nil
}

// number scans a JSON number, returning its text.
func (p *jsonReader) number() ([]byte, error) {
	in, start := p.in, p.pos
	i := start
	digits := func() bool {
		j := i
		for i < len(in) && in[i] >= '0' && in[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(in) && in[i] == '-' {
		i++
	}
	switch {
	case i < len(in) && in[i] == '0':
		i++
	case !digits():
		p.pos = i
		return nil, p.syntax()
	}
	if i < len(in) && in[i] == '.' {
		i++
		if !digits() {
			p.pos = i
			return nil, p.syntax()
		}
	}
	if i < len(in) && (in[i] == 'e' || in[i] == 'E') {
		i++
		if i < len(in) && (in[i] == '+' || in[i] == '-') {
			i++
		}
		if !digits() {
			p.pos = i
			return nil, p.syntax()
		}
	}
	p.pos = i
	return in[start:i], nil
}

// str reads a JSON string at the current position (a '"'), returning its
// unescaped bytes: a slice of the input when there are no escapes, else of
// p.scratch, which the next str call overwrites.
func (p *jsonReader) str() ([]byte, error) {
	start := p.pos + 1
	for i := start; i < len(p.in); i++ {
		switch c := p.in[i]; {
		case c == '"':
			s := p.in[start:i]
			if !utf8.Valid(s) {
				return nil, malformed("invalid UTF-8 in JSON string at offset " + strconv.Itoa(start))
			}
			p.pos = i + 1
			return s, nil
		case c == '\\':
			return p.escaped(start, i)
		case c < 0x20:
			p.pos = i
			return nil, p.syntax()
		}
	}
	p.pos = len(p.in)
	return nil, p.syntax()
}

// escaped continues str from the first backslash at i.
func (p *jsonReader) escaped(start, i int) ([]byte, error) {
	buf := append(p.scratch[:0], p.in[start:i]...)
	defer func() { p.scratch = buf[:0] }()
	for i < len(p.in) {
		c := p.in[i]
		switch {
		case c == '"':
			if !utf8.Valid(buf) {
				return nil, malformed("invalid UTF-8 in JSON string at offset " + strconv.Itoa(start))
			}
			p.pos = i + 1
			return buf, nil
		case c < 0x20:
			p.pos = i
			return nil, p.syntax()
		case c != '\\':
			buf = append(buf, c)
			i++
			continue
		}
		i++
		if i >= len(p.in) {
			break
		}
		switch c := p.in[i]; c {
		case '"', '\\', '/':
			buf = append(buf, c)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(p.in[i+1:])
			if !ok {
				p.pos = i
				return nil, malformed("invalid \\u escape at offset " + strconv.Itoa(i-1))
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if len(p.in) > i+2 && p.in[i+1] == '\\' && p.in[i+2] == 'u' {
					r2, ok = hex4(p.in[i+3:])
				}
				if r = utf16.DecodeRune(r, r2); !ok || r == utf8.RuneError {
					return nil, invalid("string contains a lone surrogate at offset " + strconv.Itoa(i-5))
				}
				i += 6
			}
			buf = utf8.AppendRune(buf, r)
		default:
			p.pos = i
			return nil, malformed("invalid escape at offset " + strconv.Itoa(i-1))
		}
		i++
	}
	p.pos = len(p.in)
	return nil, p.syntax()
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// object reads an object whose '{' is next, calling fn for each member
// with the position at the member's value.
func (p *jsonReader) object(fn func(i int, key []byte) error) error {
	p.pos++
	if p.peek() == '}' {
		p.pos++
		return nil
	}
	for i := 0; ; i++ {
		if p.peek() != '"' {
			return p.syntax()
		}
		key, err := p.str()
		if err != nil {
			return err
		}
		if p.peek() != ':' {
			return p.syntax()
		}
		p.pos++
		if err := fn(i, key); err != nil {
			return err
		}
		switch p.peek() {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return nil
		default:
			return p.syntax()
		}
	}
}

// array reads an array whose '[' is next, calling fn for each element.
func (p *jsonReader) array(fn func(i int) error) (int, error) {
	p.pos++
	if p.peek() == ']' {
		p.pos++
		return 0, nil
	}
	for i := 0; ; i++ {
		if err := fn(i); err != nil {
			return 0, err
		}
		switch p.peek() {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return i + 1, nil
		default:
			return 0, p.syntax()
		}
	}
}

// open checks that the next value starts with c ('{' or '[').
func (p *jsonReader) open(c byte, t wit.Type) error {
	if p.peek() != c {
		return p.mismatch(describe(t))
	}
	return nil
}

// insertHeader inserts the msgpack header that hdr appends at position at,
// once a container's length is known.
func insertHeader(out []byte, at int, hdr func([]byte, uint32) []byte, n int) []byte {
	var buf [5]byte
	h := hdr(buf[:0], uint32(n))
	out = append(out, h...)
	copy(out[at+len(h):], out[at:len(out)-len(h)])
	copy(out[at:], h)
	return out
}

func (p *jsonReader) value(t wit.Type, depth int) error {
	switch t := t.(type) {
	case wit.Primitive:
		return p.primitive(t)
	case *wit.TypeDef:
		return p.typeDef(t, depth)
	case nil:
		if p.peek() != 'n' {
			return p.mismatch("null")
		}
		if err := p.literal("null"); err != nil {
			return err
		}
		p.out = msgp.AppendNil(p.out)
		return nil
	}
	return unsupported("unknown type " + t.String())
}

func (p *jsonReader) primitive(pt wit.Primitive) error {
	switch {
	case pt == wit.Bool:
		c := p.peek()
		if c != 't' && c != 'f' {
			return p.mismatch("bool")
		}
		word := "false"
		if c == 't' {
			word = "true"
		}
		if err := p.literal(word); err != nil {
			return err
		}
		p.out = msgp.AppendBool(p.out, c == 't')
		return nil
	case isInt(pt):
		n, err := p.readInt(pt, pt)
		if err != nil {
			return err
		}
		p.out = appendInt(p.out, n)
		return nil
	case pt == wit.F32 || pt == wit.F64:
		return p.float(pt)
	case pt == wit.Char || pt == wit.String:
		if p.peek() != '"' {
			return p.mismatch(pt.String())
		}
		s, err := p.str()
		if err != nil {
			return err
		}
		if pt == wit.Char && !validChar(s) {
			return mismatch("char", "string "+quote(s))
		}
		p.out = msgp.AppendStringFromBytes(p.out, s)
		return checkOut(p.lim, len(p.out))
	}
	return notCarried(pt)
}

// readInt reads an integer of type pt (t describes it). Only integer
// literals are accepted: 1.0 and 1e3 are not integers in the JSON text,
// and accepting them would invite silent rounding of large values.
func (p *jsonReader) readInt(pt wit.Primitive, t wit.Type) (integer, error) {
	c := p.peek()
	if c != '-' && (c < '0' || c > '9') {
		return integer{}, p.mismatch(describe(t))
	}
	lit, err := p.number()
	if err != nil {
		return integer{}, err
	}
	n, ok := parseInteger(lit)
	if !ok || !n.fits(pt) {
		return integer{}, mismatch(describe(t), "number "+truncate(lit))
	}
	return n, nil
}

// parseInteger parses an optionally negative decimal integer.
func parseInteger(lit []byte) (integer, bool) {
	digits := lit
	neg := len(lit) > 0 && lit[0] == '-'
	if neg {
		digits = lit[1:]
	}
	if len(digits) == 0 {
		return integer{}, false
	}
	var u uint64
	for _, c := range digits {
		if c < '0' || c > '9' || u > (math.MaxUint64-uint64(c-'0'))/10 {
			return integer{}, false
		}
		u = u*10 + uint64(c-'0')
	}
	switch {
	case neg && u > 1<<63:
		return integer{}, false
	case neg:
		return integer{i: -int64(u)}, true
	case u > math.MaxInt64:
		return integer{u: u, big: true}, true
	}
	return integer{i: int64(u)}, true
}

// float reads an f32 or f64: a number, rounded to the nearest value of
// the type as JSON numbers are decimal, or "NaN", "Infinity", "-Infinity".
func (p *jsonReader) float(pt wit.Primitive) error {
	bits := 64
	if pt == wit.F32 {
		bits = 32
	}
	var f float64
	switch c := p.peek(); {
	case c == '"':
		s, err := p.str()
		if err != nil {
			return err
		}
		switch string(s) {
		case "NaN":
			f = math.NaN()
		case "Infinity":
			f = math.Inf(1)
		case "-Infinity":
			f = math.Inf(-1)
		default:
			return mismatch(pt.String(), "string "+quote(s))
		}
	case c == '-' || (c >= '0' && c <= '9'):
		lit, err := p.number()
		if err != nil {
			return err
		}
		if f, err = strconv.ParseFloat(string(lit), bits); err != nil {
			return mismatch(pt.String(), "number "+truncate(lit)+" (out of range)")
		}
	default:
		return p.mismatch(pt.String())
	}
	p.out = appendFloat(p.out, f, bits)
	return nil
}

func (p *jsonReader) typeDef(t *wit.TypeDef, depth int) error {
	switch k := t.Kind.(type) {
	case *wit.Alias:
		u := wit.Underlying(t)
		if ud, ok := u.(*wit.TypeDef); ok {
			if _, ok := ud.Kind.(*wit.Alias); ok {
				return unsupported("alias cycle at " + t.String())
			}
		}
		return p.value(u, depth)
	case *wit.Record:
		return p.record(t, k, depth)
	case *wit.Variant:
		return p.variant(t, k, depth)
	case *wit.Enum:
		i, err := p.readEnum(t, k)
		if err != nil {
			return err
		}
		p.out = msgp.AppendString(p.out, k.Cases[i].Name)
		return nil
	case *wit.Flags:
		return p.flags(t, k)
	case *wit.Option:
		if isOption(k.Type) {
			return nestedOption(t)
		}
		if p.peek() == 'n' {
			return p.value(nil, depth)
		}
		return p.value(k.Type, depth)
	case *wit.Result:
		return p.result(t, k, depth)
	case *wit.Tuple:
		return p.tuple(t, k, depth)
	case *wit.List:
		return p.list(t, k.Elem, -1, depth)
	case *wit.FixedList:
		return p.list(t, k.Elem, int64(k.Len), depth)
	case *wit.Map:
		return p.mapping(t, k, depth)
	case *wit.Handle, *wit.Resource:
		n, err := p.readInt(wit.U32, t)
		if err != nil {
			return err
		}
		p.out = msgp.AppendUint64(p.out, uint64(n.i))
		return nil
	case *wit.Future, *wit.Stream:
		return notCarried(t)
	}
	return unsupported("type " + t.String() + " has no kind")
}

func (p *jsonReader) readEnum(t wit.Type, e *wit.Enum) (int, error) {
	if p.peek() != '"' {
		return 0, p.mismatch(describe(t))
	}
	s, err := p.str()
	if err != nil {
		return 0, err
	}
	i := findEnum(e.Cases, s)
	if i < 0 {
		return 0, invalid("unknown case " + quote(s) + " of " + describe(t))
	}
	return i, nil
}

func (p *jsonReader) record(t *wit.TypeDef, r *wit.Record, depth int) error {
	if err := enter(p.lim, depth); err != nil {
		return err
	}
	if err := p.open('{', t); err != nil {
		return err
	}
	p.out = msgp.AppendMapHeader(p.out, uint32(len(r.Fields)))
	start := len(p.out)
	// Fields are written in declaration order: each one's msgpack is a
	// chunk, reordered at the end when the JSON had another order.
	var buf [16][2]int
	spans := buf[:0]
	if len(r.Fields) > len(buf) {
		spans = make([][2]int, 0, len(r.Fields))
	}
	spans = spans[:len(r.Fields)]
	seen := newBitset(len(r.Fields))
	inOrder := true
	err := p.object(func(i int, name []byte) error {
		j := findField(r.Fields, name, i)
		if j < 0 {
			return invalid("unknown field " + quote(name))
		}
		if seen.set(j) {
			return invalid("duplicate field " + quote(name))
		}
		inOrder = inOrder && i == j
		f := &r.Fields[j]
		spans[j][0] = len(p.out)
		p.out = msgp.AppendString(p.out, f.Name)
		if err := p.value(f.Type, depth+1); err != nil {
			return atName(err, f.Name)
		}
		spans[j][1] = len(p.out)
		return nil
	})
	if err != nil {
		return err
	}
	if err := missingField(r.Fields, &seen); err != nil {
		return err
	}
	if !inOrder {
		p.out = reorder(p.out, start, spans)
	}
	return checkOut(p.lim, len(p.out))
}

// oneKey reads the single member of a variant or result object; fn
// parses the value given the member's key.
func (p *jsonReader) oneKey(t wit.Type, fn func(key []byte) error) error {
	want := describe(t) + " (an object with one key)"
	if p.peek() != '{' {
		return p.mismatch(want)
	}
	n := 0
	err := p.object(func(i int, key []byte) error {
		if n++; i > 0 {
			return mismatch(want, "object with more than one key")
		}
		return fn(key)
	})
	if err == nil && n == 0 {
		return mismatch(want, "empty object")
	}
	return err
}

func (p *jsonReader) variant(t *wit.TypeDef, v *wit.Variant, depth int) error {
	if err := enter(p.lim, depth); err != nil {
		return err
	}
	return p.oneKey(t, func(name []byte) error {
		i := findCase(v.Cases, name)
		if i < 0 {
			return invalid("unknown case " + quote(name) + " of " + describe(t))
		}
		c := &v.Cases[i]
		p.out = msgp.AppendMapHeader(p.out, 1)
		p.out = msgp.AppendString(p.out, c.Name)
		return atName(p.value(c.Type, depth+1), c.Name)
	})
}

func (p *jsonReader) result(t *wit.TypeDef, r *wit.Result, depth int) error {
	if err := enter(p.lim, depth); err != nil {
		return err
	}
	return p.oneKey(t, func(name []byte) error {
		var side wit.Type
		switch string(name) {
		case "ok":
			side = r.OK
		case "err":
			side = r.Err
		default:
			return invalid("unknown case " + quote(name) + " of " + describe(t) + ` (want "ok" or "err")`)
		}
		p.out = msgp.AppendMapHeader(p.out, 1)
		p.out = msgp.AppendStringFromBytes(p.out, name)
		n := string(name) // name may point into scratch, which the value reuses
		return atName(p.value(side, depth+1), n)
	})
}

func (p *jsonReader) flags(t *wit.TypeDef, f *wit.Flags) error {
	if err := p.open('[', t); err != nil {
		return err
	}
	seen := newBitset(len(f.Flags))
	_, err := p.array(func(i int) error {
		if p.peek() != '"' {
			return atIndex(p.mismatch("flag name"), i)
		}
		s, err := p.str()
		if err != nil {
			return err
		}
		j := findFlag(f.Flags, s)
		if j < 0 {
			return atIndex(invalid("unknown flag "+quote(s)+" of "+describe(t)), i)
		}
		if seen.set(j) {
			return atIndex(invalid("duplicate flag "+quote(s)), i)
		}
		return nil
	})
	if err != nil {
		return err
	}
	start := len(p.out)
	n := 0
	for j := range f.Flags {
		if seen.has(j) {
			p.out = msgp.AppendString(p.out, f.Flags[j].Name)
			n++
		}
	}
	p.out = insertHeader(p.out, start, msgp.AppendArrayHeader, n)
	return nil
}

func (p *jsonReader) tuple(t *wit.TypeDef, tu *wit.Tuple, depth int) error {
	if err := enter(p.lim, depth); err != nil {
		return err
	}
	if err := p.open('[', t); err != nil {
		return err
	}
	p.out = msgp.AppendArrayHeader(p.out, uint32(len(tu.Types)))
	n, err := p.array(func(i int) error {
		if i >= len(tu.Types) {
			return mismatch(describe(t), "array of more than "+strconv.Itoa(len(tu.Types))+" elements")
		}
		return atIndex(p.value(tu.Types[i], depth+1), i)
	})
	if err == nil && n != len(tu.Types) {
		return mismatch(describe(t), "array of "+strconv.Itoa(n)+" elements")
	}
	return err
}

// list reads a list<T> (fixed < 0) or list<T, fixed>.
func (p *jsonReader) list(t *wit.TypeDef, elem wit.Type, fixed int64, depth int) error {
	if err := enter(p.lim, depth); err != nil {
		return err
	}
	u8 := isU8(elem)
	if u8 && p.peek() == '"' {
		return p.base64(t, fixed)
	}
	if err := p.open('[', t); err != nil {
		return err
	}
	start := len(p.out)
	n, err := p.array(func(i int) error {
		if fixed >= 0 && int64(i) >= fixed {
			return mismatch(describe(t), "array of more than "+strconv.FormatInt(fixed, 10)+" elements")
		}
		if u8 {
			b, err := p.readInt(wit.U8, wit.U8)
			p.out = append(p.out, byte(b.i))
			return atIndex(err, i)
		}
		if err := p.value(elem, depth+1); err != nil {
			return atIndex(err, i)
		}
		return checkOut(p.lim, len(p.out))
	})
	if err != nil {
		return err
	}
	if fixed >= 0 && int64(n) != fixed {
		return mismatch(describe(t), "array of "+strconv.Itoa(n)+" elements")
	}
	if u8 {
		p.out = insertHeader(p.out, start, msgp.AppendBytesHeader, n)
	} else {
		p.out = insertHeader(p.out, start, msgp.AppendArrayHeader, n)
	}
	return checkOut(p.lim, len(p.out))
}

// base64 reads a list<u8> written as a standard base64 string.
func (p *jsonReader) base64(t *wit.TypeDef, fixed int64) error {
	s, err := p.str()
	if err != nil {
		return err
	}
	n := base64.StdEncoding.DecodedLen(len(s))
	if err := checkOut(p.lim, len(p.out)+n+5); err != nil {
		return err
	}
	start := len(p.out)
	p.out, err = base64.StdEncoding.AppendDecode(p.out, s)
	if err != nil {
		return mismatch(describe(t)+" (base64)", "string "+quote(s))
	}
	n = len(p.out) - start
	if fixed >= 0 && int64(n) != fixed {
		return mismatch(describe(t), "base64 of "+strconv.Itoa(n)+" bytes")
	}
	p.out = insertHeader(p.out, start, msgp.AppendBytesHeader, n)
	return nil
}

func (p *jsonReader) mapping(t *wit.TypeDef, m *wit.Map, depth int) error {
	if err := enter(p.lim, depth); err != nil {
		return err
	}
	if err := checkKey(m.Key); err != nil {
		return err
	}
	if err := p.open('{', t); err != nil {
		return err
	}
	start := len(p.out)
	var seen map[string]struct{}
	// Entries are written in canonical key order: each one's msgpack is
	// a chunk, sorted at the end when the JSON had another order.
	var spans [][2]int
	sorted := true
	prev := -1
	n := 0
	err := p.object(func(i int, key []byte) error {
		k := string(key) // key may be in p.scratch, which the value reuses
		if _, dup := seen[k]; dup {
			return atKey(invalid("duplicate key"), k)
		}
		if seen == nil {
			seen = make(map[string]struct{})
		}
		seen[k] = struct{}{}
		s := len(p.out)
		if err := p.mapKey(m.Key, key); err != nil {
			return inKey(err)
		}
		if prev >= 0 && sorted && readKeyVal(m.Key, p.out[prev:]).compare(readKeyVal(m.Key, p.out[s:])) >= 0 {
			sorted = false
		}
		prev = s
		n++
		if err := p.value(m.Value, depth+1); err != nil {
			return atKey(err, k)
		}
		spans = append(spans, [2]int{s, len(p.out)})
		return checkOut(p.lim, len(p.out))
	})
	if err != nil {
		return err
	}
	if !sorted {
		slices.SortFunc(spans, func(a, b [2]int) int {
			return readKeyVal(m.Key, p.out[a[0]:]).compare(readKeyVal(m.Key, p.out[b[0]:]))
		})
		p.out = reorder(p.out, start, spans)
	}
	p.out = insertHeader(p.out, start, msgp.AppendMapHeader, n)
	return checkOut(p.lim, len(p.out))
}

// mapKey writes the msgpack of a map key from its JSON object key
// spelling, which must be canonical (no "+1" or "01" for 1) so that equal
// keys are spelled alike.
func (p *jsonReader) mapKey(kt wit.Type, key []byte) error {
	u := wit.Underlying(kt)
	bad := func() error { return mismatch(describe(kt), "key "+quote(key)) }
	if td, ok := u.(*wit.TypeDef); ok { // an enum: checkKey allows nothing else
		i := findEnum(td.Kind.(*wit.Enum).Cases, key)
		if i < 0 {
			return bad()
		}
		p.out = msgp.AppendString(p.out, td.Kind.(*wit.Enum).Cases[i].Name)
		return nil
	}
	switch pt := u.(wit.Primitive); {
	case pt == wit.Bool:
		if string(key) != "true" && string(key) != "false" {
			return bad()
		}
		p.out = msgp.AppendBool(p.out, key[0] == 't')
	case isInt(pt):
		n, ok := parseInteger(key)
		if !ok || !n.fits(pt) || string(appendInteger(nil, n)) != string(key) {
			return bad()
		}
		p.out = appendInt(p.out, n)
	case pt == wit.Char && !validChar(key):
		return bad()
	default:
		p.out = msgp.AppendStringFromBytes(p.out, key)
	}
	return nil
}
