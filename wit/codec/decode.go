package codec

import (
	"encoding/base64"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/theater-go/theater/wit"
	"github.com/tinylib/msgp/msgp"
)

// mode says what the decoder does with the msgpack it checks: nothing
// (Validate), write JSON (ToJSON), build Go values (Unmarshal) or write the
// canonical form (Canonical). One walker serves all four so they cannot
// disagree about what is valid.
type mode uint8

const (
	modeValidate mode = iota
	modeJSON
	modeValue
	modeCanonical
)

// decoder walks one msgpack value under a WIT type. b is the unread input;
// the walk functions return the Go value only in modeValue.
type decoder struct {
	b      []byte
	in     []byte // the whole input, for offsets
	out    []byte // JSON output in modeJSON
	lim    Limits
	budget int // bytes of Go values Unmarshal may still build
	mode   mode
	spans  [][2]int // where ToJSON wrote each field of the records being read
	fromGo bool     // modeCanonical on msgpack/v5 output: see Codec.canonical
	// canon is the canonical output in modeCanonical. It stays nil as
	// long as the canonical form is the input itself: then everything
	// written so far is in[:pos()], so an already canonical value costs
	// no copy.
	canon []byte
}

func (d *decoder) top(t wit.Type) (any, error) {
	d.in = d.b
	if err := checkIn(d.lim, len(d.b)); err != nil {
		return nil, err
	}
	v, err := d.value(t, 0)
	if err != nil {
		return nil, finish(err)
	}
	if len(d.b) != 0 {
		return nil, malformed(strconv.Itoa(len(d.b)) + " trailing bytes after the value")
	}
	return v, nil
}

// mismatch reports that the next value is not of the wanted type, or that
// the input is malformed if the next value cannot even be described.
func (d *decoder) mismatch(want string) error {
	got, err := describeMsgpack(d.b)
	if err != nil {
		return err
	}
	return mismatch(want, got)
}

func (d *decoder) enter(depth int) error { return enter(d.lim, depth) }

func (d *decoder) spend(n int) error {
	d.budget -= n
	if d.budget < 0 {
		return newError(ErrLimit, "decoded value exceeds memory limit of "+strconv.Itoa(4*d.lim.MaxBytes)+" bytes")
	}
	return nil
}

func (d *decoder) checkOut() error { return checkOut(d.lim, len(d.out)) }

// pos is the offset in the input of the next unread byte.
func (d *decoder) pos() int { return len(d.in) - len(d.b) }

// olen is how much canonical output there is so far.
func (d *decoder) olen() int {
	if d.canon == nil {
		return d.pos()
	}
	return len(d.canon)
}

// same records that the item read since input offset start is canonical
// as it is.
func (d *decoder) same(start int) {
	if d.canon != nil {
		d.canon = append(d.canon, d.in[start:d.pos()]...)
	}
}

// diverge is called before writing the canonical form of an item that
// began at input offset start and is not canonical: the output stops
// being the input.
func (d *decoder) diverge(start int) {
	if d.canon == nil {
		d.canon = append(make([]byte, 0, len(d.in)+64), d.in[:start]...)
	}
}

// put records the canonical form enc of the item read since start.
func (d *decoder) put(start int, enc []byte) {
	if d.canon == nil && string(d.in[start:d.pos()]) == string(enc) {
		return
	}
	d.diverge(start)
	d.canon = append(d.canon, enc...)
}

// putHeader records an array or map header of n read since start.
func (d *decoder) putHeader(start int, n uint32, isMap bool) {
	if d.pos()-start == headerLen(famSeq, int(n)) {
		d.same(start)
		return
	}
	d.diverge(start)
	if isMap {
		d.canon = msgp.AppendMapHeader(d.canon, n)
	} else {
		d.canon = msgp.AppendArrayHeader(d.canon, n)
	}
}

// putStr records the str s (in the input) read since start.
func (d *decoder) putStr(start int, s []byte) {
	if d.pos()-start-len(s) == headerLen(famStr, len(s)) {
		d.same(start)
		return
	}
	d.diverge(start)
	d.canon = msgp.AppendStringFromBytes(d.canon, s)
}

func (d *decoder) putInt(start int, n integer) {
	if intMarker(n) == d.in[start] || (d.pos()-start == 1 && intMarker(n) == 0) {
		d.same(start)
		return
	}
	var buf [9]byte
	d.put(start, appendInt(buf[:0], n))
}

// intMarker is the first byte of n's canonical encoding, or 0 for a
// fixint (whose byte is the value). The marker fixes the length.
func intMarker(n integer) byte {
	switch {
	case n.big:
		return 0xcf
	case n.i >= 0:
		switch {
		case n.i < 0x80:
			return 0
		case n.i <= math.MaxUint8:
			return 0xcc
		case n.i <= math.MaxUint16:
			return 0xcd
		case n.i <= math.MaxUint32:
			return 0xce
		}
		return 0xcf
	case n.i >= -32:
		return 0
	case n.i >= math.MinInt8:
		return 0xd0
	case n.i >= math.MinInt16:
		return 0xd1
	case n.i >= math.MinInt32:
		return 0xd2
	}
	return 0xd3
}

// rewind goes back to input b and canonical output length olen (taken
// together earlier) to walk a record or map again in slow mode.
func (d *decoder) rewind(b []byte, olen int) {
	if d.canon == nil {
		d.canon = append(make([]byte, 0, len(d.in)+64), d.in[:olen]...)
	} else {
		d.canon = d.canon[:olen]
	}
	d.b = b
}

func (d *decoder) value(t wit.Type, depth int) (v any, err error) {
	switch t := t.(type) {
	case wit.Primitive:
		v, err = d.primitive(t)
	case *wit.TypeDef:
		v, err = d.typeDef(t, depth)
	case nil:
		err = d.null()
	default:
		return nil, unsupported("unknown type " + t.String())
	}
	// Checked after every value, so a list of small scalars, which grow
	// several times over as JSON, stops at the limit rather than after
	// the whole list.
	if err == nil && (len(d.out) > d.lim.MaxBytes || len(d.canon) > d.lim.MaxBytes) {
		err = checkOut(d.lim, max(len(d.out), len(d.canon)))
	}
	return v, err
}

// null reads the nil that stands for an absent type: a case without
// payload, a missing result side, or none.
func (d *decoder) null() error {
	if len(d.b) == 0 || d.b[0] != 0xc0 {
		return d.mismatch("nil")
	}
	d.b = d.b[1:]
	d.same(d.pos() - 1)
	if d.mode == modeJSON {
		d.out = append(d.out, "null"...)
	}
	return nil
}

func (d *decoder) primitive(p wit.Primitive) (any, error) {
	start := d.pos()
	switch {
	case p == wit.Bool:
		v, rest, err := msgp.ReadBoolBytes(d.b)
		if err != nil {
			return nil, d.mismatch("bool")
		}
		d.b = rest
		switch d.mode {
		case modeJSON:
			d.out = strconv.AppendBool(d.out, v)
		case modeValue:
			return v, nil
		case modeCanonical:
			d.same(start)
		}
		return nil, nil
	case isInt(p):
		n, err := d.readInt(p, p)
		if err != nil || d.mode == modeValidate {
			return nil, err
		}
		if d.mode == modeCanonical {
			d.putInt(start, n)
			return nil, nil
		}
		if d.mode == modeJSON {
			d.out = appendInteger(d.out, n)
			return nil, nil
		}
		return goInt(p, n), nil
	case p == wit.F32 || p == wit.F64:
		return d.float(p)
	case p == wit.Char || p == wit.String:
		if p == wit.Char && d.fromGo && isIntCode(d.b) {
			_, err := d.rune(start)
			return nil, err
		}
		s, err := d.readStr(p)
		if err != nil {
			return nil, err
		}
		switch d.mode {
		case modeCanonical:
			d.putStr(start, s)
		case modeJSON:
			d.out = appendJSONString(d.out, s)
			return nil, d.checkOut()
		case modeValue:
			if p == wit.Char {
				r, _ := utf8.DecodeRune(s)
				return r, nil
			}
			if err := d.spend(len(s) + 16); err != nil {
				return nil, err
			}
			return string(s), nil
		}
		return nil, nil
	}
	return nil, notCarried(p)
}

func isIntCode(b []byte) bool {
	t := msgp.NextType(b)
	return len(b) > 0 && (t == msgp.IntType || t == msgp.UintType)
}

// rune reads a char that msgpack/v5 wrote as a Go rune (an integer) and
// writes it as the str it is on the wire.
func (d *decoder) rune(start int) (rune, error) {
	n, rest, ok := readInteger(d.b)
	if !ok || n.big || n.i < 0 || n.i > utf8.MaxRune || !utf8.ValidRune(rune(n.i)) {
		return 0, d.mismatch("char")
	}
	d.b = rest
	d.diverge(start)
	d.canon = msgp.AppendString(d.canon, string(rune(n.i)))
	return rune(n.i), nil
}

// readInt reads an integer of type p (t describes it in errors: handles
// are u32 too). Any msgpack integer encoding is accepted if the value fits.
func (d *decoder) readInt(p wit.Primitive, t wit.Type) (integer, error) {
	n, rest, ok := readInteger(d.b)
	if !ok {
		return n, d.mismatch(describe(t))
	}
	if !n.fits(p) {
		return n, mismatch(describe(t), "int "+formatInteger(n))
	}
	d.b = rest
	return n, nil
}

func readInteger(b []byte) (integer, []byte, bool) {
	i, rest, err := msgp.ReadInt64Bytes(b)
	if err == nil {
		return integer{i: i}, rest, true
	}
	if _, ok := err.(msgp.UintOverflow); ok {
		u, rest, err := msgp.ReadUint64Bytes(b)
		return integer{u: u, big: true}, rest, err == nil
	}
	return integer{}, b, false
}

func formatInteger(n integer) string { return string(appendInteger(nil, n)) }

func appendInteger(out []byte, n integer) []byte {
	if n.big {
		return strconv.AppendUint(out, n.u, 10)
	}
	return strconv.AppendInt(out, n.i, 10)
}

// goInt converts n, already range-checked, to the Go type of p.
func goInt(p wit.Primitive, n integer) any {
	switch p {
	case wit.U8:
		return uint8(n.i)
	case wit.U16:
		return uint16(n.i)
	case wit.U32:
		return uint32(n.i)
	case wit.U64:
		if n.big {
			return n.u
		}
		return uint64(n.i)
	case wit.S8:
		return int8(n.i)
	case wit.S16:
		return int16(n.i)
	case wit.S32:
		return int32(n.i)
	}
	return n.i
}

// float reads an f32 or f64. Both accept float32, float64 and integer
// encodings, but only when the value is exactly representable: Validate
// cannot rewrite the bytes, so a lossy value would silently change in the
// receiver.
func (d *decoder) float(p wit.Primitive) (any, error) {
	start := d.pos()
	bits := 64
	if p == wit.F32 {
		bits = 32
	}
	var f float64
	switch msgp.NextType(d.b) {
	case msgp.Float32Type:
		f32, rest, err := msgp.ReadFloat32Bytes(d.b)
		if err != nil {
			return nil, d.mismatch(p.String())
		}
		f, d.b = float64(f32), rest
	case msgp.Float64Type:
		f64, rest, err := msgp.ReadFloat64Bytes(d.b)
		if err != nil {
			return nil, d.mismatch(p.String())
		}
		if bits == 32 && !fitsF32(f64) {
			return nil, mismatch("f32", "float "+strconv.FormatFloat(f64, 'g', -1, 64)+" (not exact in f32)")
		}
		f, d.b = f64, rest
	case msgp.IntType, msgp.UintType:
		n, rest, ok := readInteger(d.b)
		if !ok {
			return nil, d.mismatch(p.String())
		}
		var exact bool
		if f, exact = n.float(bits); !exact {
			return nil, mismatch(p.String(), "int "+formatInteger(n)+" (not exact in "+p.String()+")")
		}
		d.b = rest
	default:
		return nil, d.mismatch(p.String())
	}
	switch d.mode {
	case modeCanonical:
		marker := byte(0xcb)
		if bits == 32 {
			marker = 0xca
		}
		if d.in[start] == marker && f == f {
			d.same(start)
			break
		}
		var buf [9]byte
		d.put(start, appendFloat(buf[:0], f, bits))
	case modeJSON:
		d.out = appendJSONFloat(d.out, f, bits)
	case modeValue:
		if bits == 32 {
			return float32(f), nil
		}
		return f, nil
	}
	return nil, nil
}

// readStr reads a string or a char, returning its bytes in the input.
func (d *decoder) readStr(p wit.Primitive) ([]byte, error) {
	s, rest, err := msgp.ReadStringZC(d.b)
	if err != nil {
		return nil, d.mismatch(p.String())
	}
	if p == wit.Char {
		if !validChar(s) {
			return nil, mismatch("char", "string "+quote(s))
		}
	} else if !utf8.Valid(s) {
		return nil, invalid("string is not valid UTF-8: " + quote(s))
	}
	d.b = rest
	return s, nil
}

func (d *decoder) typeDef(t *wit.TypeDef, depth int) (any, error) {
	switch k := t.Kind.(type) {
	case *wit.Alias:
		u := wit.Underlying(t)
		if ud, ok := u.(*wit.TypeDef); ok {
			if _, ok := ud.Kind.(*wit.Alias); ok {
				return nil, unsupported("alias cycle at " + t.String())
			}
		}
		return d.value(u, depth)
	case *wit.Record:
		return d.record(t, k, depth)
	case *wit.Variant:
		return d.variant(t, k, depth)
	case *wit.Enum:
		start := d.pos()
		i, s, err := d.readEnum(t, k)
		if err != nil || d.mode == modeValidate {
			return nil, err
		}
		if d.mode == modeCanonical {
			d.putStr(start, s)
			return nil, nil
		}
		if d.mode == modeJSON {
			d.out = appendJSONString(d.out, []byte(k.Cases[i].Name))
			return nil, nil
		}
		return k.Cases[i].Name, nil
	case *wit.Flags:
		return d.flags(t, k)
	case *wit.Option:
		if isOption(k.Type) {
			return nil, nestedOption(t)
		}
		if len(d.b) > 0 && d.b[0] == 0xc0 {
			return nil, d.null()
		}
		return d.value(k.Type, depth)
	case *wit.Result:
		return d.result(t, k, depth)
	case *wit.Tuple:
		return d.tuple(t, k, depth)
	case *wit.List:
		return d.list(t, k.Elem, -1, depth)
	case *wit.FixedList:
		return d.list(t, k.Elem, int64(k.Len), depth)
	case *wit.Map:
		return d.mapping(t, k, depth)
	case *wit.Handle, *wit.Resource:
		start := d.pos()
		n, err := d.readInt(wit.U32, t)
		if err != nil || d.mode == modeValidate {
			return nil, err
		}
		if d.mode == modeCanonical {
			d.putInt(start, n)
			return nil, nil
		}
		if d.mode == modeJSON {
			d.out = appendInteger(d.out, n)
			return nil, nil
		}
		return uint32(n.i), nil
	case *wit.Future, *wit.Stream:
		return nil, notCarried(t)
	}
	return nil, unsupported("type " + t.String() + " has no kind")
}

func (d *decoder) readEnum(t wit.Type, e *wit.Enum) (int, []byte, error) {
	s, rest, err := msgp.ReadStringZC(d.b)
	if err != nil {
		return 0, nil, d.mismatch(describe(t))
	}
	i := findEnum(e.Cases, s)
	if i < 0 {
		return 0, nil, invalid("unknown case " + quote(s) + " of " + describe(t))
	}
	d.b = rest
	return i, s, nil
}

// key reads a record field name or the case name of a variant or a
// result, which must be a string.
func (d *decoder) key() ([]byte, error) {
	start := d.pos()
	s, rest, err := msgp.ReadStringZC(d.b)
	if err != nil {
		return nil, d.mismatch("string key")
	}
	d.b = rest
	if d.mode == modeCanonical {
		d.putStr(start, s)
	}
	return s, nil
}

func (d *decoder) record(t *wit.TypeDef, r *wit.Record, depth int) (any, error) {
	if err := d.enter(depth); err != nil {
		return nil, err
	}
	start := d.pos()
	n, rest, err := msgp.ReadMapHeaderBytes(d.b)
	if err != nil {
		return nil, d.mismatch(describe(t))
	}
	d.b = rest
	if d.mode == modeCanonical {
		d.putHeader(start, n, true)
	}
	var m map[string]any
	if d.mode == modeValue {
		if err := d.spend(48 + 64*len(r.Fields)); err != nil {
			return nil, err
		}
		m = make(map[string]any, len(r.Fields))
	}
	// ToJSON writes fields in declaration order even when the msgpack
	// has them in another: each field goes out as its own ,"name":value
	// chunk, reordered at the end if needed.
	jsonStart := len(d.out)
	var spans [][2]int
	if d.mode == modeJSON {
		// d.spans is a stack shared by the nested records.
		base := len(d.spans)
		d.spans = append(d.spans, make([][2]int, len(r.Fields))...)
		defer func() { d.spans = d.spans[:base] }()
		spans = d.spans[base:]
	}
	// Canonical starts the fields over at the first one out of order,
	// this time keeping where each one's output goes (in spans), so that
	// the fast path keeps nothing.
	body, bodyOut := d.b, d.olen()
	seen := newBitset(len(r.Fields))
	inOrder := true
	for i := 0; i < int(n); i++ {
		kout := d.olen()
		name, err := d.key()
		if err != nil {
			return nil, err
		}
		j := findField(r.Fields, name, i)
		if j < 0 {
			return nil, invalid("unknown field " + quote(name))
		}
		if seen.set(j) {
			return nil, invalid("duplicate field " + quote(name))
		}
		if j != i && inOrder && d.mode == modeCanonical {
			d.rewind(body, bodyOut)
			spans = make([][2]int, len(r.Fields))
			seen = newBitset(len(r.Fields))
			inOrder = false
			i = -1
			continue
		}
		inOrder = inOrder && j == i
		f := &r.Fields[j]
		switch d.mode {
		case modeJSON:
			spans[j][0] = len(d.out)
			d.out = append(d.out, ',')
			d.out = appendJSONString(d.out, name)
			d.out = append(d.out, ':')
		case modeCanonical:
			if spans != nil {
				spans[j][0] = kout
			}
		}
		v, err := d.value(f.Type, depth+1)
		if err != nil {
			return nil, atName(err, f.Name)
		}
		switch {
		case d.mode == modeJSON:
			spans[j][1] = len(d.out)
		case spans != nil:
			spans[j][1] = len(d.canon)
		case m != nil:
			m[f.Name] = v
		}
	}
	if err := missingField(r.Fields, &seen); err != nil {
		return nil, err
	}
	switch d.mode {
	case modeJSON:
		if !inOrder {
			d.out = reorder(d.out, jsonStart, spans)
		}
		d.out = closeChunks(d.out, jsonStart, '{', '}')
		return nil, d.checkOut()
	case modeCanonical:
		if spans != nil {
			d.canon = reorder(d.canon, bodyOut, spans)
		}
	}
	if m == nil {
		return nil, nil
	}
	return m, nil
}

func missingField(fs []wit.Field, seen *bitset) error {
	for j := range fs {
		if !seen.has(j) {
			return invalid("missing field " + strconv.Quote(fs[j].Name))
		}
	}
	return nil
}

// reorder puts the chunks out[spans[i][0]:spans[i][1]], which are all of
// out after start, in the order of spans.
func reorder(out []byte, start int, spans [][2]int) []byte {
	tmp := append([]byte(nil), out[start:]...)
	out = out[:start]
	for _, s := range spans {
		out = append(out, tmp[s[0]-start:s[1]-start]...)
	}
	return out
}

// closeChunks turns ",a,b" after start into "{a,b}" (or "{}").
func closeChunks(out []byte, start int, open, close byte) []byte {
	if len(out) == start {
		return append(out, open, close)
	}
	out[start] = open
	return append(out, close)
}

// oneKey reads the header and key of the one-key map of a variant or a
// result.
func (d *decoder) oneKey(t wit.Type) ([]byte, error) {
	start := d.pos()
	n, rest, err := msgp.ReadMapHeaderBytes(d.b)
	if err != nil || n != 1 {
		return nil, d.mismatch(describe(t) + " (a map with one key)")
	}
	d.b = rest
	if d.mode == modeCanonical {
		d.putHeader(start, 1, true)
	}
	return d.key()
}

func (d *decoder) variant(t *wit.TypeDef, v *wit.Variant, depth int) (any, error) {
	if err := d.enter(depth); err != nil {
		return nil, err
	}
	name, err := d.oneKey(t)
	if err != nil {
		return nil, err
	}
	i := findCase(v.Cases, name)
	if i < 0 {
		return nil, invalid("unknown case " + quote(name) + " of " + describe(t))
	}
	c := &v.Cases[i]
	payload, err := d.caseValue(name, c.Type, depth)
	if err != nil {
		return nil, err
	}
	if d.mode == modeValue {
		if err := d.spend(48); err != nil {
			return nil, err
		}
		return Variant{Case: c.Name, Value: payload}, nil
	}
	return nil, nil
}

// caseValue reads the payload of a variant or result case, wrapping it
// in {"name": ...} for JSON.
func (d *decoder) caseValue(name []byte, t wit.Type, depth int) (any, error) {
	if d.mode == modeJSON {
		d.out = append(d.out, '{')
		d.out = appendJSONString(d.out, name)
		d.out = append(d.out, ':')
	}
	v, err := d.value(t, depth+1)
	if err != nil {
		return nil, atName(err, string(name))
	}
	if d.mode == modeJSON {
		d.out = append(d.out, '}')
	}
	return v, nil
}

func (d *decoder) result(t *wit.TypeDef, r *wit.Result, depth int) (any, error) {
	if err := d.enter(depth); err != nil {
		return nil, err
	}
	name, err := d.oneKey(t)
	if err != nil {
		return nil, err
	}
	var side wit.Type
	switch string(name) {
	case "ok":
		side = r.OK
	case "err":
		side = r.Err
	default:
		return nil, invalid("unknown case " + quote(name) + " of " + describe(t) + ` (want "ok" or "err")`)
	}
	v, err := d.caseValue(name, side, depth)
	if err != nil {
		return nil, err
	}
	if d.mode == modeValue {
		if err := d.spend(32); err != nil {
			return nil, err
		}
		return Result{Value: v, IsErr: name[0] == 'e'}, nil
	}
	return nil, nil
}

// goNil reads the nil msgpack/v5 writes for a nil Go slice or map where
// the type wants an empty list, flags or map, writing empty instead.
func (d *decoder) goNil(empty ...byte) bool {
	if !d.fromGo || len(d.b) == 0 || d.b[0] != 0xc0 {
		return false
	}
	d.diverge(d.pos())
	d.b = d.b[1:]
	d.canon = append(d.canon, empty...)
	return true
}

func (d *decoder) flags(t *wit.TypeDef, f *wit.Flags) (any, error) {
	start := d.pos()
	if d.goNil(0x90) {
		return nil, nil
	}
	n, rest, err := msgp.ReadArrayHeaderBytes(d.b)
	if err != nil {
		return nil, d.mismatch(describe(t))
	}
	d.b = rest
	canon := d.pos()-start == headerLen(famSeq, int(n))
	prev := -1
	seen := newBitset(len(f.Flags))
	for i := 0; i < int(n); i++ {
		sstart := d.pos()
		s, rest, err := msgp.ReadStringZC(d.b)
		if err != nil {
			return nil, atIndex(d.mismatch("flag name"), i)
		}
		j := findFlag(f.Flags, s)
		if j < 0 {
			return nil, atIndex(invalid("unknown flag "+quote(s)+" of "+describe(t)), i)
		}
		if seen.set(j) {
			return nil, atIndex(invalid("duplicate flag "+quote(s)), i)
		}
		d.b = rest
		canon = canon && j > prev && d.pos()-sstart-len(s) == headerLen(famStr, len(s))
		prev = j
	}
	switch d.mode {
	case modeCanonical:
		if canon {
			d.same(start)
			break
		}
		d.diverge(start)
		d.canon = msgp.AppendArrayHeader(d.canon, n)
		for j := range f.Flags {
			if seen.has(j) {
				d.canon = msgp.AppendString(d.canon, f.Flags[j].Name)
			}
		}
	case modeJSON: // in declaration order, whatever the input order
		start := len(d.out)
		for j := range f.Flags {
			if seen.has(j) {
				d.out = append(d.out, ',')
				d.out = appendJSONString(d.out, []byte(f.Flags[j].Name))
			}
		}
		d.out = closeChunks(d.out, start, '[', ']')
	case modeValue:
		if err := d.spend(24 + 16*int(n)); err != nil {
			return nil, err
		}
		names := make([]string, 0, n)
		for j := range f.Flags {
			if seen.has(j) {
				names = append(names, f.Flags[j].Name)
			}
		}
		return names, nil
	}
	return nil, nil
}

// arrayHeader reads an array header, checking the claimed length against
// the remaining input (every element takes at least one byte) before
// anything is allocated for it.
func (d *decoder) arrayHeader(t wit.Type, want int64) (int, error) {
	n, rest, err := msgp.ReadArrayHeaderBytes(d.b)
	if err != nil || (want >= 0 && int64(n) != want) {
		return 0, d.mismatch(describe(t))
	}
	if int64(n) > int64(len(rest)) {
		return 0, malformed("array of " + strconv.FormatUint(uint64(n), 10) + " elements in " + strconv.Itoa(len(rest)) + " bytes")
	}
	d.b = rest
	return int(n), nil
}

func (d *decoder) tuple(t *wit.TypeDef, tu *wit.Tuple, depth int) (any, error) {
	if err := d.enter(depth); err != nil {
		return nil, err
	}
	start := d.pos()
	n, err := d.arrayHeader(t, int64(len(tu.Types)))
	if err != nil {
		return nil, err
	}
	if d.mode == modeCanonical {
		d.putHeader(start, uint32(n), false)
	}
	return d.elems(n, func(i int) wit.Type { return tu.Types[i] }, depth)
}

// elems reads the n elements of a tuple or list; typ gives each one's type.
func (d *decoder) elems(n int, typ func(int) wit.Type, depth int) (any, error) {
	var vs []any
	if d.mode == modeValue {
		if err := d.spend(24 + 24*n); err != nil {
			return nil, err
		}
		vs = make([]any, n)
	}
	if d.mode == modeJSON {
		d.out = append(d.out, '[')
	}
	for i := 0; i < n; i++ {
		if d.mode == modeJSON && i > 0 {
			d.out = append(d.out, ',')
		}
		v, err := d.value(typ(i), depth+1)
		if err != nil {
			return nil, atIndex(err, i)
		}
		if vs != nil {
			vs[i] = v
		}
	}
	if d.mode == modeJSON {
		d.out = append(d.out, ']')
		return nil, d.checkOut()
	}
	if vs == nil {
		return nil, nil
	}
	return vs, nil
}

// list reads a list<T> (fixed < 0) or a list<T, fixed>.
func (d *decoder) list(t *wit.TypeDef, elem wit.Type, fixed int64, depth int) (any, error) {
	if err := d.enter(depth); err != nil {
		return nil, err
	}
	if d.fromGo && fixed <= 0 {
		if (isU8(elem) && d.goNil(0xc4, 0)) || d.goNil(0x90) {
			return nil, nil
		}
	}
	if isU8(elem) {
		return d.bytes(t, fixed)
	}
	start := d.pos()
	n, err := d.arrayHeader(t, fixed)
	if err != nil {
		return nil, err
	}
	if d.mode == modeCanonical {
		d.putHeader(start, uint32(n), false)
	}
	return d.elems(n, func(int) wit.Type { return elem }, depth)
}

// bytes reads a list<u8>: a bin, or an array of u8 because serde-based
// encoders (rmp-serde) write Vec<u8> that way unless told otherwise.
func (d *decoder) bytes(t *wit.TypeDef, fixed int64) (any, error) {
	start := d.pos()
	var bs []byte
	if msgp.NextType(d.b) == msgp.BinType {
		b, rest, err := msgp.ReadBytesZC(d.b)
		if err != nil || (fixed >= 0 && int64(len(b)) != fixed) {
			return nil, d.mismatch(describe(t))
		}
		d.b, bs = rest, b
		if d.mode == modeCanonical {
			if d.pos()-start-len(b) == headerLen(famBin, len(b)) {
				d.same(start)
			} else {
				d.diverge(start)
				d.canon = msgp.AppendBytes(d.canon, b)
			}
		}
	} else {
		n, err := d.arrayHeader(t, fixed)
		if err != nil {
			return nil, err
		}
		if d.mode != modeValidate {
			bs = make([]byte, 0, n)
		}
		for i := 0; i < n; i++ {
			b, err := d.readInt(wit.U8, wit.U8)
			if err != nil {
				return nil, atIndex(err, i)
			}
			bs = append(bs, byte(b.i))
		}
		if d.mode == modeCanonical {
			d.diverge(start)
			d.canon = msgp.AppendBytes(d.canon, bs)
		}
	}
	switch d.mode {
	case modeJSON:
		if err := checkOut(d.lim, len(d.out)+base64.StdEncoding.EncodedLen(len(bs))); err != nil {
			return nil, err
		}
		d.out = append(d.out, '"')
		d.out = base64.StdEncoding.AppendEncode(d.out, bs)
		d.out = append(d.out, '"')
	case modeValue:
		if err := d.spend(24 + len(bs)); err != nil {
			return nil, err
		}
		return append([]byte{}, bs...), nil
	}
	return nil, nil
}

func (d *decoder) mapping(t *wit.TypeDef, m *wit.Map, depth int) (any, error) {
	if err := d.enter(depth); err != nil {
		return nil, err
	}
	if err := checkKey(m.Key); err != nil {
		return nil, err
	}
	if d.goNil(0x80) {
		return nil, nil
	}
	start := d.pos()
	n, rest, err := msgp.ReadMapHeaderBytes(d.b)
	if err != nil {
		return nil, d.mismatch(describe(t))
	}
	if 2*int64(n) > int64(len(rest)) {
		return nil, malformed("map of " + strconv.FormatUint(uint64(n), 10) + " entries in " + strconv.Itoa(len(rest)) + " bytes")
	}
	d.b = rest
	if d.mode == modeCanonical {
		d.putHeader(start, n, true)
	}
	var entries Map
	if d.mode == modeValue {
		if err := d.spend(24 + 64*int(n)); err != nil {
			return nil, err
		}
		entries = make(Map, 0, n)
	}
	// Keys in canonical order are unique, so the first pass needs no set
	// of the keys seen and keeps nothing. At the first key out of order
	// the walk starts over, checking for duplicates and keeping where
	// each entry's output goes, to sort the entries at the end.
	body, bodyOut, jsonStart, budget := d.b, d.olen(), len(d.out), d.budget
	sorted, err := d.entries(m, int(n), depth, &entries, nil)
	if err != nil {
		return nil, err
	}
	if !sorted {
		d.b, d.budget, entries = body, budget, entries[:0]
		switch d.mode {
		case modeCanonical:
			d.rewind(body, bodyOut)
		case modeJSON:
			d.out = d.out[:jsonStart]
		}
		ents := make([]mapEnt, 0, min(n, 64))
		if _, err := d.entries(m, int(n), depth, &entries, &ents); err != nil {
			return nil, err
		}
		if d.mode == modeCanonical || d.mode == modeJSON {
			slices.SortFunc(ents, func(a, b mapEnt) int { return a.k.compare(b.k) })
			spans := make([][2]int, len(ents))
			for i := range ents {
				spans[i] = ents[i].span
			}
			if d.mode == modeJSON {
				d.out = reorder(d.out, jsonStart, spans)
			} else {
				d.canon = reorder(d.canon, bodyOut, spans)
			}
		}
	}
	switch d.mode {
	case modeJSON:
		d.out = closeChunks(d.out, jsonStart, '{', '}')
		return nil, d.checkOut()
	case modeValue:
		return entries, nil
	}
	return nil, nil
}

// mapEnt is where one map entry's output went, and its key.
type mapEnt struct {
	k    keyVal
	span [2]int
}

// outPos is the length of the output of ToJSON or Canonical.
func (d *decoder) outPos() int {
	if d.mode == modeJSON {
		return len(d.out)
	}
	return d.olen()
}

// entries walks the n entries of a map. Without ents (the first pass) it
// stops, reporting false, at the first key not greater than the one
// before; with ents it rejects duplicate keys and records every entry.
func (d *decoder) entries(m *wit.Map, n, depth int, entries *Map, ents *[]mapEnt) (bool, error) {
	var prev keyVal
	var seen map[string]struct{}
	if ents != nil {
		seen = make(map[string]struct{}, min(n, 16)) // n may be hostile
	}
	var buf [24]byte
	for i := 0; i < n; i++ {
		s := d.outPos()
		k, gk, err := d.mapKey(m.Key)
		if err != nil {
			return false, inKey(err)
		}
		spell := k.spell(buf[:0])
		if ents == nil {
			if i > 0 && prev.compare(k) >= 0 {
				return false, nil
			}
			prev = k
		} else {
			if _, dup := seen[string(spell)]; dup {
				return false, atKey(invalid("duplicate key"), string(spell))
			}
			seen[string(spell)] = struct{}{}
		}
		if d.mode == modeJSON {
			d.out = append(d.out, ',')
			d.out = appendJSONString(d.out, spell)
			d.out = append(d.out, ':')
		}
		v, err := d.value(m.Value, depth+1)
		if err != nil {
			return false, atKey(err, string(spell))
		}
		if *entries != nil {
			*entries = append(*entries, MapEntry{Key: gk, Value: v})
		}
		if ents != nil {
			*ents = append(*ents, mapEnt{k: k, span: [2]int{s, d.outPos()}})
		}
	}
	return true, nil
}

// mapKey reads a map key, returning it for ordering and spelling and, in
// modeValue, its Go value.
func (d *decoder) mapKey(kt wit.Type) (keyVal, any, error) {
	start := d.pos()
	u := wit.Underlying(kt)
	if td, ok := u.(*wit.TypeDef); ok { // an enum: checkKey allows nothing else
		e := td.Kind.(*wit.Enum)
		i, s, err := d.readEnum(u, e)
		if err != nil {
			return keyVal{}, nil, err
		}
		if d.mode == modeCanonical {
			d.putStr(start, s)
		}
		var gk any
		if d.mode == modeValue {
			gk = e.Cases[i].Name
		}
		return keyVal{kind: keyStr, s: s}, gk, nil
	}
	p := u.(wit.Primitive)
	switch {
	case p == wit.Bool:
		v, rest, err := msgp.ReadBoolBytes(d.b)
		if err != nil {
			return keyVal{}, nil, d.mismatch("bool")
		}
		d.b = rest
		d.same(start)
		k := keyVal{kind: keyBool}
		if v {
			k.n.i = 1
		}
		return k, v, nil
	case isInt(p):
		n, err := d.readInt(p, p)
		if err != nil {
			return keyVal{}, nil, err
		}
		var gk any
		switch d.mode {
		case modeCanonical:
			d.putInt(start, n)
		case modeValue:
			gk = goInt(p, n)
		}
		return keyVal{kind: keyInt, n: n}, gk, nil
	case p == wit.Char && d.fromGo && isIntCode(d.b):
		r, err := d.rune(start)
		if err != nil {
			return keyVal{}, nil, err
		}
		return keyVal{kind: keyStr, s: utf8.AppendRune(nil, r)}, nil, nil
	}
	s, err := d.readStr(p)
	if err != nil {
		return keyVal{}, nil, err
	}
	var gk any
	switch d.mode {
	case modeCanonical:
		d.putStr(start, s)
	case modeValue:
		if p == wit.Char {
			r, _ := utf8.DecodeRune(s)
			gk = r
		} else {
			gk = string(s)
		}
	}
	return keyVal{kind: keyStr, s: s}, gk, nil
}

// describeMsgpack names the msgpack value at the start of b for error
// messages, or reports b malformed if it does not start with one.
func describeMsgpack(b []byte) (string, error) {
	eof := malformed("unexpected end of input")
	if len(b) == 0 {
		return "", eof
	}
	switch msgp.NextType(b) {
	case msgp.NilType:
		return "nil", nil
	case msgp.BoolType:
		return "bool " + strconv.FormatBool(b[0] == 0xc3), nil
	case msgp.IntType, msgp.UintType:
		n, _, ok := readInteger(b)
		if !ok {
			return "", eof
		}
		return "int " + formatInteger(n), nil
	case msgp.Float32Type, msgp.Float64Type:
		f, _, err := msgp.ReadFloat64Bytes(b)
		if err != nil {
			return "", eof
		}
		return "float " + strconv.FormatFloat(f, 'g', -1, 64), nil
	case msgp.StrType:
		s, _, err := msgp.ReadStringZC(b)
		if err != nil {
			return "", eof
		}
		return "string " + quote(s), nil
	case msgp.BinType:
		s, _, err := msgp.ReadBytesZC(b)
		if err != nil {
			return "", eof
		}
		return "bin (" + strconv.Itoa(len(s)) + " bytes)", nil
	case msgp.ArrayType:
		n, _, err := msgp.ReadArrayHeaderBytes(b)
		if err != nil {
			return "", eof
		}
		return "array (" + strconv.FormatUint(uint64(n), 10) + " elements)", nil
	case msgp.MapType:
		n, _, err := msgp.ReadMapHeaderBytes(b)
		if err != nil {
			return "", eof
		}
		return "map (" + strconv.FormatUint(uint64(n), 10) + " entries)", nil
	case msgp.InvalidType:
		return "", malformed("invalid msgpack byte 0x" + strconv.FormatUint(uint64(b[0]), 16))
	}
	return "ext", nil
}
