package codec

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/theater-go/theater/wit"
	"github.com/tinylib/msgp/msgp"
)

// encoder writes a Go value as msgpack under a WIT type. The canonical
// Go values (see the package documentation) take fast paths; anything
// else is looked at through reflection.
type encoder struct {
	out []byte
	lim Limits
}

func (e *encoder) top(t wit.Type, v any) ([]byte, error) {
	if err := e.value(t, v, 0); err != nil {
		return nil, finish(err)
	}
	return e.out, nil
}

// describeGo names a Go value in error messages.
func describeGo(v any) string {
	if v == nil {
		return "nil"
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return fmt.Sprintf("%T %s", v, quote([]byte(rv.String())))
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return fmt.Sprintf("%T %v", v, v)
	}
	return fmt.Sprintf("%T", v)
}

// deref makes pointers transparent: a nil pointer is nil (an option's
// none), any other pointer is what it points to.
func deref(v any) any {
	for v != nil {
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Pointer {
			break
		}
		if rv.IsNil() {
			return nil
		}
		v = rv.Elem().Interface()
	}
	return v
}

func (e *encoder) value(t wit.Type, v any, depth int) error {
	v = deref(v)
	switch t := t.(type) {
	case wit.Primitive:
		return e.primitive(t, v)
	case *wit.TypeDef:
		return e.typeDef(t, v, depth)
	case nil:
		if v != nil {
			return mismatch("nil", describeGo(v))
		}
		e.out = msgp.AppendNil(e.out)
		return nil
	}
	return unsupported("unknown type " + t.String())
}

// goInteger converts any Go integer, named integer types included.
func goInteger(v any) (integer, bool) {
	switch v := v.(type) {
	case int:
		return integer{i: int64(v)}, true
	case int64:
		return integer{i: v}, true
	case int32:
		return integer{i: int64(v)}, true
	case uint8:
		return integer{i: int64(v)}, true
	case uint32:
		return integer{i: int64(v)}, true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return integer{i: rv.Int()}, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		return integer{i: int64(u), u: u, big: u > 1<<63-1}, true
	}
	return integer{}, false
}

func (e *encoder) primitive(p wit.Primitive, v any) error {
	bad := func() error { return mismatch(p.String(), describeGo(v)) }
	switch {
	case p == wit.Bool:
		b, ok := v.(bool)
		if !ok {
			rv := reflect.ValueOf(v)
			if rv.Kind() != reflect.Bool {
				return bad()
			}
			b = rv.Bool()
		}
		e.out = msgp.AppendBool(e.out, b)
	case isInt(p):
		n, ok := goInteger(v)
		if !ok || !n.fits(p) {
			return bad()
		}
		e.out = appendMsgpackInt(e.out, p, n)
	case p == wit.F32 || p == wit.F64:
		return e.float(p, v)
	case p == wit.Char:
		r, ok := v.(rune)
		if s, isStr := v.(string); isStr {
			var n int
			r, n = utf8.DecodeRuneInString(s)
			ok = n == len(s) && n > 0 && (r != utf8.RuneError || n == 3)
		}
		if !ok || !utf8.ValidRune(r) {
			return bad()
		}
		e.out = msgp.AppendString(e.out, string(r))
	case p == wit.String:
		s, ok := v.(string)
		if !ok {
			rv := reflect.ValueOf(v)
			if rv.Kind() != reflect.String {
				return bad()
			}
			s = rv.String()
		}
		if !utf8.ValidString(s) {
			return invalid("string is not valid UTF-8: " + quote([]byte(s)))
		}
		if err := checkOut(e.lim, len(e.out)+len(s)); err != nil {
			return err
		}
		e.out = msgp.AppendString(e.out, s)
	default:
		return notCarried(p)
	}
	return nil
}

// float accepts float32, float64 and integers, as long as the value is
// exact in the type: converting is the caller's explicit decision.
func (e *encoder) float(p wit.Primitive, v any) error {
	bits := 64
	if p == wit.F32 {
		bits = 32
	}
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	default:
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Float32, reflect.Float64:
			f = rv.Float()
		default:
			n, ok := goInteger(v)
			if !ok {
				return mismatch(p.String(), describeGo(v))
			}
			if f, ok = n.float(bits); !ok {
				return mismatch(p.String(), describeGo(v)+" (not exact in "+p.String()+")")
			}
		}
	}
	if bits == 32 {
		if !fitsF32(f) {
			return mismatch("f32", describeGo(v)+" (not exact in f32)")
		}
		e.out = msgp.AppendFloat32(e.out, float32(f))
	} else {
		e.out = msgp.AppendFloat64(e.out, f)
	}
	return nil
}

func (e *encoder) typeDef(t *wit.TypeDef, v any, depth int) error {
	bad := func() error { return mismatch(describe(t), describeGo(v)) }
	switch k := t.Kind.(type) {
	case *wit.Alias:
		u := wit.Underlying(t)
		if ud, ok := u.(*wit.TypeDef); ok {
			if _, ok := ud.Kind.(*wit.Alias); ok {
				return unsupported("alias cycle at " + t.String())
			}
		}
		return e.value(u, v, depth)
	case *wit.Record:
		if err := enter(e.lim, depth); err != nil {
			return err
		}
		return e.record(t, k, v, depth)
	case *wit.Variant:
		if err := enter(e.lim, depth); err != nil {
			return err
		}
		c, ok := v.(Variant)
		if !ok {
			return bad()
		}
		i := findCase(k.Cases, []byte(c.Case))
		if i < 0 {
			return invalid("unknown case " + quote([]byte(c.Case)) + " of " + describe(t))
		}
		e.out = msgp.AppendMapHeader(e.out, 1)
		e.out = msgp.AppendString(e.out, c.Case)
		return atName(e.value(k.Cases[i].Type, c.Value, depth+1), c.Case)
	case *wit.Enum:
		s, ok := goString(v)
		if !ok {
			return bad()
		}
		if findEnum(k.Cases, []byte(s)) < 0 {
			return invalid("unknown case " + quote([]byte(s)) + " of " + describe(t))
		}
		e.out = msgp.AppendString(e.out, s)
	case *wit.Flags:
		return e.flags(t, k, v)
	case *wit.Option:
		if isOption(k.Type) {
			return nestedOption(t)
		}
		if v == nil {
			e.out = msgp.AppendNil(e.out)
			return nil
		}
		return e.value(k.Type, v, depth)
	case *wit.Result:
		if err := enter(e.lim, depth); err != nil {
			return err
		}
		r, ok := v.(Result)
		if !ok {
			return bad()
		}
		name, side := "ok", k.OK
		if r.IsErr {
			name, side = "err", k.Err
		}
		e.out = msgp.AppendMapHeader(e.out, 1)
		e.out = msgp.AppendString(e.out, name)
		return atName(e.value(side, r.Value, depth+1), name)
	case *wit.Tuple:
		if err := enter(e.lim, depth); err != nil {
			return err
		}
		n, at, ok := sequence(v)
		if !ok || n != len(k.Types) {
			return bad()
		}
		e.out = msgp.AppendArrayHeader(e.out, uint32(n))
		for i := 0; i < n; i++ {
			if err := e.value(k.Types[i], at(i), depth+1); err != nil {
				return atIndex(err, i)
			}
		}
	case *wit.List:
		return e.list(t, k.Elem, -1, v, depth)
	case *wit.FixedList:
		return e.list(t, k.Elem, int(k.Len), v, depth)
	case *wit.Map:
		if err := enter(e.lim, depth); err != nil {
			return err
		}
		return e.mapping(t, k, v, depth)
	case *wit.Handle, *wit.Resource:
		n, ok := goInteger(v)
		if !ok || !n.fits(wit.U32) {
			return bad()
		}
		e.out = msgp.AppendUint64(e.out, uint64(n.i))
	case *wit.Future, *wit.Stream:
		return notCarried(t)
	default:
		return unsupported("type " + t.String() + " has no kind")
	}
	return checkOut(e.lim, len(e.out))
}

func goString(v any) (string, bool) {
	if s, ok := v.(string); ok {
		return s, true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.String {
		return "", false
	}
	return rv.String(), true
}

// sequence gives the length and elements of a []any, or of any other
// slice or array through reflection.
func sequence(v any) (int, func(int) any, bool) {
	if s, ok := v.([]any); ok {
		return len(s), func(i int) any { return s[i] }, true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return 0, nil, false
	}
	return rv.Len(), func(i int) any { return rv.Index(i).Interface() }, true
}

func (e *encoder) record(t *wit.TypeDef, r *wit.Record, v any, depth int) error {
	get, names, ok := recordSource(v)
	if !ok {
		return mismatch(describe(t), describeGo(v))
	}
	e.out = msgp.AppendMapHeader(e.out, uint32(len(r.Fields)))
	known := 0
	for _, f := range r.Fields {
		fv, ok := get(f.Name)
		if !ok {
			return invalid("missing field " + quote([]byte(f.Name)))
		}
		known++
		e.out = msgp.AppendString(e.out, f.Name)
		if err := e.value(f.Type, fv, depth+1); err != nil {
			return atName(err, f.Name)
		}
	}
	if len(names) != known {
		unknown := slices.Sorted(func(yield func(string) bool) {
			for _, n := range names {
				if findField(r.Fields, []byte(n), 0) < 0 && !yield(n) {
					return
				}
			}
		})
		return invalid("unknown field " + quote([]byte(unknown[0])))
	}
	return nil
}

// recordSource gives field access to a map[string]any or a struct, and
// the names of everything it holds (to reject unknown fields).
func recordSource(v any) (get func(string) (any, bool), names []string, ok bool) {
	if m, ok := v.(map[string]any); ok {
		get = func(name string) (any, bool) { fv, ok := m[name]; return fv, ok }
		for k := range m {
			names = append(names, k)
		}
		return get, names, true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Struct {
		return nil, nil, false
	}
	fields := structFields(rv.Type())
	get = func(name string) (any, bool) {
		i, ok := fields.index[name]
		if !ok {
			return nil, false
		}
		return rv.Field(i).Interface(), true
	}
	return get, fields.names, true
}

type structInfo struct {
	index map[string]int // WIT field name -> Go field index
	names []string
}

var structCache sync.Map // reflect.Type -> *structInfo

// structFields maps the exported fields of a struct type to WIT names:
// the wit:"name" tag, or the Go name in kebab-case; wit:"-" skips a field.
func structFields(rt reflect.Type) *structInfo {
	if s, ok := structCache.Load(rt); ok {
		return s.(*structInfo)
	}
	s := &structInfo{index: map[string]int{}}
	for i := 0; i < rt.NumField(); i++ {
		f := rt.Field(i)
		if !f.IsExported() {
			continue
		}
		name := f.Tag.Get("wit")
		if name == "-" {
			continue
		}
		if name == "" {
			name = kebab(f.Name)
		}
		s.index[name] = i
		s.names = append(s.names, name)
	}
	structCache.Store(rt, s)
	return s
}

// kebab converts a Go name to WIT's kebab-case: OwnerID -> owner-id,
// HTTPServer -> http-server.
func kebab(name string) string {
	rs := []rune(name)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) && i > 0 {
			prevLower := !unicode.IsUpper(rs[i-1])
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if prevLower || nextLower {
				b.WriteByte('-')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

func (e *encoder) flags(t *wit.TypeDef, f *wit.Flags, v any) error {
	n, at, ok := sequence(v)
	if !ok {
		return mismatch(describe(t), describeGo(v))
	}
	seen := newBitset(len(f.Flags))
	count := 0
	for i := 0; i < n; i++ {
		s, ok := goString(at(i))
		if !ok {
			return atIndex(mismatch("flag name", describeGo(at(i))), i)
		}
		j := findFlag(f.Flags, []byte(s))
		if j < 0 {
			return atIndex(invalid("unknown flag "+quote([]byte(s))+" of "+describe(t)), i)
		}
		if seen.set(j) {
			return atIndex(invalid("duplicate flag "+quote([]byte(s))), i)
		}
		count++
	}
	e.out = msgp.AppendArrayHeader(e.out, uint32(count))
	for j := range f.Flags {
		if seen.has(j) {
			e.out = msgp.AppendString(e.out, f.Flags[j].Name)
		}
	}
	return nil
}

// list writes a list<T> (fixed < 0) or list<T, fixed>; list<u8> is a bin.
func (e *encoder) list(t *wit.TypeDef, elem wit.Type, fixed int, v any, depth int) error {
	if err := enter(e.lim, depth); err != nil {
		return err
	}
	if isU8(elem) {
		if b, ok := goBytes(v); ok {
			if fixed >= 0 && len(b) != fixed {
				return mismatch(describe(t), fmt.Sprintf("%T of %d bytes", v, len(b)))
			}
			if err := checkOut(e.lim, len(e.out)+len(b)); err != nil {
				return err
			}
			e.out = msgp.AppendBytes(e.out, b)
			return nil
		}
	}
	n, at, ok := sequence(v)
	if !ok || (fixed >= 0 && n != fixed) {
		return mismatch(describe(t), describeGo(v))
	}
	if isU8(elem) {
		e.out = msgp.AppendBytesHeader(e.out, uint32(n))
	} else {
		e.out = msgp.AppendArrayHeader(e.out, uint32(n))
	}
	for i := 0; i < n; i++ {
		if isU8(elem) {
			b, ok := goInteger(deref(at(i)))
			if !ok || !b.fits(wit.U8) {
				return atIndex(mismatch("u8", describeGo(at(i))), i)
			}
			e.out = append(e.out, byte(b.i))
		} else if err := e.value(elem, at(i), depth+1); err != nil {
			return atIndex(err, i)
		}
		if err := checkOut(e.lim, len(e.out)); err != nil {
			return err
		}
	}
	return nil
}

// goBytes returns the bytes of a []byte, a named byte slice or a byte
// array.
func goBytes(v any) ([]byte, bool) {
	if b, ok := v.([]byte); ok {
		return b, true
	}
	rv := reflect.ValueOf(v)
	switch {
	case rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8:
		return rv.Bytes(), true
	case rv.Kind() == reflect.Array && rv.Type().Elem().Kind() == reflect.Uint8:
		b := make([]byte, rv.Len())
		reflect.Copy(reflect.ValueOf(b), rv)
		return b, true
	}
	return nil, false
}

func (e *encoder) mapping(t *wit.TypeDef, m *wit.Map, v any, depth int) error {
	if err := checkKey(m.Key); err != nil {
		return err
	}
	entries, ok := v.(Map)
	if !ok {
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Map {
			return mismatch(describe(t), describeGo(v))
		}
		entries = sortedEntries(rv)
	}
	e.out = msgp.AppendMapHeader(e.out, uint32(len(entries)))
	seen := make(map[string]struct{}, len(entries))
	for _, en := range entries {
		start := len(e.out)
		if err := e.value(m.Key, en.Key, depth+1); err != nil {
			return inKey(err)
		}
		k := string(e.out[start:]) // the writer is canonical, so equal keys encode alike
		if _, dup := seen[k]; dup {
			return atKey(invalid("duplicate key"), fmt.Sprint(deref(en.Key)))
		}
		seen[k] = struct{}{}
		if err := e.value(m.Value, en.Value, depth+1); err != nil {
			return atKey(err, fmt.Sprint(deref(en.Key)))
		}
	}
	return nil
}

// sortedEntries turns a Go map into entries sorted by key, so that Marshal
// is deterministic.
func sortedEntries(rv reflect.Value) Map {
	keys := rv.MapKeys()
	slices.SortFunc(keys, func(a, b reflect.Value) int {
		switch a.Kind() {
		case reflect.String:
			return cmp.Compare(a.String(), b.String())
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			return cmp.Compare(a.Int(), b.Int())
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			return cmp.Compare(a.Uint(), b.Uint())
		case reflect.Bool:
			return cmp.Compare(fmt.Sprint(a.Bool()), fmt.Sprint(b.Bool()))
		}
		return cmp.Compare(fmt.Sprint(a.Interface()), fmt.Sprint(b.Interface()))
	})
	m := make(Map, len(keys))
	for i, k := range keys {
		m[i] = MapEntry{Key: k.Interface(), Value: rv.MapIndex(k).Interface()}
	}
	return m
}
