package codec

import (
	"encoding"
	"reflect"
	"strconv"
	"sync"

	"github.com/theater-go/theater/wit"
	"github.com/tinylib/msgp/msgp"
	"github.com/vmihailenco/msgpack/v5"
)

// msgpack/v5 converts numbers into whatever Go number it is given
// (uint64 300 into a uint8 is 44, an int -1 into a uint32 is 4294967295),
// and a nil into a non-pointer as its zero value. Decode therefore
// first matches the WIT type against the Go type of out, once per pair
// (cached): a Go type that cannot hold the WIT type's shape at all is an
// error before anything is read, and the positions where a Go number is
// narrower than its WIT type (or an option meets a Go type without a
// nil) become a plan. Only when there is a plan does Decode walk the
// canonical bytes a second time, checking just those positions; a Go
// type as wide as the WIT type costs one cache lookup.

// fitKind is what a plan node checks.
type fitKind uint8

const (
	fitInt    fitKind = iota // an integer within [lo, hi] (hi above MaxInt64 only for u64)
	fitFloat                 // an integer exact in a float of bits
	fitOption                // none only if the Go type has a nil; then elem
	fitSeq                   // a list or fixed list: elem for each element
	fitTuple                 // elems by position
	fitRecord                // elems by field, in declaration (canonical) order
	fitCases                 // a variant or result: elems by case
	fitMap                   // key and elem for each entry
)

// fit is a plan node; a nil *fit checks nothing.
type fit struct {
	kind   fitKind
	goType reflect.Type // for messages
	lo     int64
	hi     uint64
	bits   int
	// noneBad says a none cannot be held: the Go type has no nil.
	noneBad   bool
	elem, key *fit
	elems     []*fit
}

type fitKey struct {
	t  wit.Type
	rt reflect.Type
}

type fitEntry struct {
	f   *fit
	err *Error
}

var fits sync.Map // fitKey -> fitEntry

var (
	customDecoder     = reflect.TypeFor[msgpack.CustomDecoder]()
	unmarshaler       = reflect.TypeFor[msgpack.Unmarshaler]()
	binaryUnmarshaler = reflect.TypeFor[encoding.BinaryUnmarshaler]()
	textUnmarshaler   = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// CheckDecode reports whether [Decode] can decode values of type t into
// out: out must be a non-nil pointer to a Go type that holds t's shape
// (see the package documentation). It reads no value, so a Go number
// narrower than its WIT type passes here and fails in Decode only for a
// value that does not fit it. Errors wrap [ErrGoType].
func CheckDecode(t wit.Type, out any) error {
	_, err := planFor(t, out)
	return err
}

// planFor returns the plan for decoding t into out.
func planFor(t wit.Type, out any) (*fit, error) {
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return nil, newError(ErrGoType, "cannot decode into "+goName(reflect.TypeOf(out))+": need a non-nil pointer")
	}
	k := fitKey{t, rv.Type()}
	if e, ok := fits.Load(k); ok {
		return e.(fitEntry).result()
	}
	f, err := compileFit(t, rv.Type().Elem(), 0)
	e := fitEntry{f: f}
	if err != nil {
		e.err = finish(err).(*Error)
	}
	fits.Store(k, e)
	return e.result()
}

// result returns a copy of the cached error: callers may add to its path.
func (e fitEntry) result() (*fit, error) {
	if e.err != nil {
		c := *e.err
		return nil, &c
	}
	return e.f, nil
}

func goName(rt reflect.Type) string {
	if rt == nil {
		return "nil"
	}
	return rt.String()
}

// opaque reports whether msgpack/v5 hands values of rt to code of their
// own (or to an interface), which Decode cannot see into.
func opaque(rt reflect.Type) bool {
	if rt.Kind() == reflect.Interface {
		return true
	}
	p := reflect.PointerTo(rt)
	return p.Implements(customDecoder) || p.Implements(unmarshaler) ||
		p.Implements(binaryUnmarshaler) || p.Implements(textUnmarshaler)
}

func cannotHold(t wit.Type, rt reflect.Type, hint string) error {
	msg := "Go type " + rt.String() + " cannot hold " + describe(t)
	if hint != "" {
		msg += " (" + hint + ")"
	}
	return newError(ErrGoType, msg)
}

// compileFit matches WIT type t against Go type rt as msgpack/v5 decodes
// into it.
func compileFit(t wit.Type, rt reflect.Type, depth int) (*fit, error) {
	if depth > DefaultLimits.MaxDepth {
		return nil, nil // deeper than any value Decode accepts
	}
	t = wit.Underlying(t)
	nilable := false
	for !opaque(rt) && rt.Kind() == reflect.Pointer {
		rt, nilable = rt.Elem(), true
	}
	if t == nil || opaque(rt) {
		return nil, nil
	}
	switch k := rt.Kind(); k {
	case reflect.Slice, reflect.Map:
		nilable = true
	}
	if p, ok := t.(wit.Primitive); ok {
		return primitiveFit(p, t, rt)
	}
	d, ok := t.(*wit.TypeDef)
	if !ok {
		return nil, nil // Decode's Canonical reports unknown types
	}
	kind := rt.Kind()
	switch k := d.Kind.(type) {
	case *wit.Option:
		inner, err := compileFit(k.Type, rt, depth+1)
		if err != nil || (inner == nil && nilable) {
			return inner, err
		}
		return &fit{kind: fitOption, goType: rt, noneBad: !nilable, elem: inner}, nil
	case *wit.Handle, *wit.Resource:
		return intFit(wit.U32, t, rt)
	case *wit.Enum:
		if kind == reflect.String || isBytes(rt) {
			return nil, nil
		}
		return nil, cannotHold(t, rt, "decode an enum into a string")
	case *wit.Flags:
		if (kind == reflect.Slice || kind == reflect.Array) && rt.Elem().Kind() == reflect.String {
			return nil, nil
		}
		return nil, cannotHold(t, rt, "decode flags into []string")
	case *wit.Record:
		names := make([]string, len(k.Fields))
		types := make([]wit.Type, len(k.Fields))
		for i, f := range k.Fields {
			names[i], types[i] = f.Name, f.Type
		}
		return namedFit(fitRecord, t, rt, names, types, true, depth)
	case *wit.Variant:
		names := make([]string, len(k.Cases))
		types := make([]wit.Type, len(k.Cases))
		for i, c := range k.Cases {
			names[i], types[i] = c.Name, c.Type
		}
		return namedFit(fitCases, t, rt, names, types, false, depth)
	case *wit.Result:
		return namedFit(fitCases, t, rt, []string{"ok", "err"}, []wit.Type{k.OK, k.Err}, false, depth)
	case *wit.Tuple:
		return tupleFit(t, k, rt, depth)
	case *wit.List:
		return listFit(t, k.Elem, -1, rt, depth)
	case *wit.FixedList:
		return listFit(t, k.Elem, int(k.Len), rt, depth)
	case *wit.Map:
		if kind != reflect.Map {
			return nil, cannotHold(t, rt, "decode a map into a Go map")
		}
		kf, err := compileFit(k.Key, rt.Key(), depth+1)
		if err != nil {
			return nil, inKey(err)
		}
		vf, err := compileFit(k.Value, rt.Elem(), depth+1)
		if err != nil || (kf == nil && vf == nil) {
			return nil, err
		}
		return &fit{kind: fitMap, goType: rt, key: kf, elem: vf}, nil
	}
	return nil, nil // future, stream: Canonical refuses them
}

func isBytes(rt reflect.Type) bool {
	return (rt.Kind() == reflect.Slice || rt.Kind() == reflect.Array) && rt.Elem().Kind() == reflect.Uint8
}

func primitiveFit(p wit.Primitive, t wit.Type, rt reflect.Type) (*fit, error) {
	kind := rt.Kind()
	switch {
	case p == wit.Bool:
		if kind == reflect.Bool {
			return nil, nil
		}
	case isInt(p):
		return intFit(p, t, rt)
	case p == wit.F32:
		if kind == reflect.Float32 || kind == reflect.Float64 {
			return nil, nil
		}
	case p == wit.F64:
		if kind == reflect.Float64 {
			return nil, nil
		}
		if kind == reflect.Float32 {
			return nil, cannotHold(t, rt, "an f64 may not be exact in float32: use float64")
		}
	case p == wit.Char || p == wit.String:
		if kind == reflect.String || (kind == reflect.Slice && rt.Elem().Kind() == reflect.Uint8) {
			return nil, nil
		}
		if p == wit.Char {
			return nil, cannotHold(t, rt, "decode a char into a string")
		}
	}
	return nil, cannotHold(t, rt, "")
}

// goIntRange is the range of a Go integer kind.
func goIntRange(rt reflect.Type) (lo int64, hi uint64, signed bool) {
	bits := rt.Bits()
	switch rt.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return -1 << (bits - 1), 1<<(bits-1) - 1, true
	}
	return 0, 1<<bits - 1, false
}

func intFit(p wit.Primitive, t wit.Type, rt reflect.Type) (*fit, error) {
	lo, hi := intRange(p)
	switch rt.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		glo, ghi, _ := goIntRange(rt)
		if glo <= lo && hi <= ghi {
			return nil, nil
		}
		return &fit{kind: fitInt, goType: rt, lo: max(lo, glo), hi: min(hi, ghi)}, nil
	case reflect.Float32, reflect.Float64:
		bits := rt.Bits()
		exact := uint64(1) << 53
		if bits == 32 {
			exact = 1 << 24
		}
		if uint64(-lo) <= exact && hi <= exact {
			return nil, nil
		}
		return &fit{kind: fitFloat, goType: rt, bits: bits}, nil
	}
	// uintptr too: msgpack/v5 has no decoder for it and panics.
	return nil, cannotHold(t, rt, "")
}

// namedFit matches a record (all names present) or a variant or result
// (one of them present) against a struct, found by msgpack/v5's field
// names, or a Go map keyed by strings.
func namedFit(kind fitKind, t wit.Type, rt reflect.Type, names []string, types []wit.Type, all bool, depth int) (*fit, error) {
	var field func(i int) (reflect.Type, bool)
	switch {
	case rt.Kind() == reflect.Struct:
		fields := goFields(rt)
		field = func(i int) (reflect.Type, bool) {
			ft, ok := fields[names[i]]
			return ft, ok
		}
	case rt.Kind() == reflect.Map && rt.Key().Kind() == reflect.String:
		field = func(int) (reflect.Type, bool) { return rt.Elem(), true }
	case kind == fitRecord:
		return nil, cannotHold(t, rt, "decode a record into a struct")
	default:
		return nil, cannotHold(t, rt, "decode a variant or result into codec.Variant, codec.Result or a struct with a field per case")
	}
	var elems []*fit
	for i := range names {
		ft, ok := field(i)
		if !ok {
			if all {
				return nil, cannotHold(t, rt, "no field for "+strconv.Quote(names[i]))
			}
			continue // that case fails in msgpack/v5 as an unknown field
		}
		f, err := compileFit(types[i], ft, depth+1)
		if err != nil {
			return nil, atName(err, names[i])
		}
		if f != nil && elems == nil {
			elems = make([]*fit, len(names))
		}
		if f != nil {
			elems[i] = f
		}
	}
	if elems == nil {
		return nil, nil
	}
	return &fit{kind: kind, goType: rt, elems: elems}, nil
}

// goFields maps msgpack/v5's names of a struct's fields to their types:
// the tag's name or the field's, inlining embedded structs as it does.
func goFields(rt reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	var walk func(rt reflect.Type)
	walk = func(rt reflect.Type) {
		for i := range rt.NumField() {
			f := rt.Field(i)
			name, opts := parseTag(f.Tag.Get("msgpack"))
			if name == "-" || (f.PkgPath != "" && !f.Anonymous) {
				continue
			}
			if f.Anonymous && name == "" && !opts["noinline"] {
				et := f.Type
				for et.Kind() == reflect.Pointer {
					et = et.Elem()
				}
				if et.Kind() == reflect.Struct && !opaque(et) {
					walk(et)
					continue
				}
			}
			if name == "" {
				name = f.Name
			}
			if _, ok := out[name]; !ok {
				out[name] = f.Type
			}
		}
	}
	walk(rt)
	return out
}

// parseTag splits a msgpack tag into its name and options.
func parseTag(tag string) (string, map[string]bool) {
	name, rest, _ := cut(tag, ',')
	var opts map[string]bool
	for rest != "" {
		var o string
		o, rest, _ = cut(rest, ',')
		if opts == nil {
			opts = map[string]bool{}
		}
		opts[o] = true
	}
	return name, opts
}

func cut(s string, sep byte) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func tupleFit(t wit.Type, k *wit.Tuple, rt reflect.Type, depth int) (*fit, error) {
	var elem func(i int) reflect.Type
	switch rt.Kind() {
	case reflect.Slice:
		elem = func(int) reflect.Type { return rt.Elem() }
	case reflect.Array:
		if rt.Len() < len(k.Types) {
			return nil, cannotHold(t, rt, "too short")
		}
		elem = func(int) reflect.Type { return rt.Elem() }
	case reflect.Struct: // msgpack/v5 fills a struct from an array by position
		var fields []reflect.Type
		for i := range rt.NumField() {
			f := rt.Field(i)
			if name, _ := parseTag(f.Tag.Get("msgpack")); name != "-" && f.PkgPath == "" {
				fields = append(fields, f.Type)
			}
		}
		if len(fields) != len(k.Types) {
			return nil, cannotHold(t, rt, strconv.Itoa(len(fields))+" fields for "+strconv.Itoa(len(k.Types))+" elements")
		}
		elem = func(i int) reflect.Type { return fields[i] }
	default:
		return nil, cannotHold(t, rt, "decode a tuple into a slice, an array or a struct")
	}
	var elems []*fit
	for i, et := range k.Types {
		f, err := compileFit(et, elem(i), depth+1)
		if err != nil {
			return nil, atIndex(err, i)
		}
		if f != nil {
			if elems == nil {
				elems = make([]*fit, len(k.Types))
			}
			elems[i] = f
		}
	}
	if elems == nil {
		return nil, nil
	}
	return &fit{kind: fitTuple, goType: rt, elems: elems}, nil
}

func listFit(t wit.Type, et wit.Type, n int, rt reflect.Type, depth int) (*fit, error) {
	if p, ok := wit.Underlying(et).(wit.Primitive); ok && p == wit.U8 {
		// list<u8> is bin: msgpack/v5 reads it into bytes or a string only.
		if isBytes(rt) || rt.Kind() == reflect.String {
			return nil, nil
		}
		return nil, cannotHold(t, rt, "decode list<u8> into []byte")
	}
	switch rt.Kind() {
	case reflect.Array:
		if n >= 0 && rt.Len() < n {
			return nil, cannotHold(t, rt, "too short")
		}
	case reflect.Slice:
	default:
		return nil, cannotHold(t, rt, "decode a list into a slice or an array")
	}
	f, err := compileFit(et, rt.Elem(), depth+1)
	if err != nil || f == nil {
		return nil, atIndex(err, 0)
	}
	return &fit{kind: fitSeq, goType: rt, elem: f}, nil
}

// check walks the canonical value b of type t, checking what f says, and
// returns the rest of b.
func (f *fit) check(t wit.Type, b []byte) ([]byte, error) {
	if f == nil {
		return msgp.Skip(b)
	}
	t = wit.Underlying(t)
	switch f.kind {
	case fitInt, fitFloat:
		n, rest, _ := readInteger(b)
		ok := true
		if f.kind == fitInt {
			ok = n.big && n.u <= f.hi || !n.big && n.i >= f.lo && (n.i < 0 || uint64(n.i) <= f.hi)
		} else {
			// msgpack/v5 reads a uint64 above MaxInt64 into a float as
			// negative, so those fail even when exact.
			_, ok = n.float(f.bits)
			ok = ok && !n.big
		}
		if !ok {
			return nil, newError(ErrGoType, describe(t)+" "+formatInteger(n)+" does not fit Go type "+f.goType.String())
		}
		return rest, nil
	case fitOption:
		if len(b) > 0 && b[0] == 0xc0 {
			if f.noneBad {
				return nil, newError(ErrGoType, "none does not fit Go type "+f.goType.String()+" (decode an option into a pointer)")
			}
			return b[1:], nil
		}
		return f.elem.check(t.(*wit.TypeDef).Kind.(*wit.Option).Type, b)
	case fitSeq:
		n, rest, err := msgp.ReadArrayHeaderBytes(b)
		if err != nil {
			return nil, err
		}
		var et wit.Type
		switch k := t.(*wit.TypeDef).Kind.(type) {
		case *wit.List:
			et = k.Elem
		case *wit.FixedList:
			et = k.Elem
		}
		for i := range int(n) {
			if rest, err = f.elem.check(et, rest); err != nil {
				return nil, atIndex(err, i)
			}
		}
		return rest, nil
	case fitTuple:
		ts := t.(*wit.TypeDef).Kind.(*wit.Tuple).Types
		_, rest, err := msgp.ReadArrayHeaderBytes(b)
		for i := 0; err == nil && i < len(ts); i++ {
			if rest, err = f.elems[i].check(ts[i], rest); err != nil {
				return nil, atIndex(err, i)
			}
		}
		return rest, err
	case fitRecord:
		fs := t.(*wit.TypeDef).Kind.(*wit.Record).Fields
		_, rest, err := msgp.ReadMapHeaderBytes(b)
		for i := 0; err == nil && i < len(fs); i++ {
			if rest, err = msgp.Skip(rest); err == nil {
				if rest, err = f.elems[i].check(fs[i].Type, rest); err != nil {
					return nil, atName(err, fs[i].Name)
				}
			}
		}
		return rest, err
	case fitCases:
		_, rest, err := msgp.ReadMapHeaderBytes(b)
		if err != nil {
			return nil, err
		}
		name, rest, err := msgp.ReadStringZC(rest)
		if err != nil {
			return nil, err
		}
		var ct wit.Type
		i := -1
		switch k := t.(*wit.TypeDef).Kind.(type) {
		case *wit.Variant:
			for j, c := range k.Cases {
				if c.Name == string(name) {
					i, ct = j, c.Type
				}
			}
		case *wit.Result:
			i, ct = 0, k.OK
			if string(name) == "err" {
				i, ct = 1, k.Err
			}
		}
		if i < 0 || f.elems[i] == nil {
			return msgp.Skip(rest)
		}
		if rest, err = f.elems[i].check(ct, rest); err != nil {
			return nil, atName(err, string(name))
		}
		return rest, nil
	case fitMap:
		m := t.(*wit.TypeDef).Kind.(*wit.Map)
		n, rest, err := msgp.ReadMapHeaderBytes(b)
		for range int(n) {
			if err != nil {
				break
			}
			key := rest
			if rest, err = f.key.check(m.Key, rest); err != nil {
				return nil, inKey(err)
			}
			if rest, err = f.elem.check(m.Value, rest); err != nil {
				return nil, atKey(err, string(readKeyVal(m.Key, key).spell(nil)))
			}
		}
		return rest, err
	}
	return nil, newError(ErrGoType, "no check for plan kind "+strconv.Itoa(int(f.kind)))
}
