package codec_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/theater-go/theater/actor/guest"
	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

// The encoders that must agree on the canonical form, besides FromJSON
// and Marshal of generic values: the Go guest SDK (sdkEncode), Marshal of
// typed Go values built for the type (goTyped, through msgpack/v5), and
// Canonical of every other spelling a reader accepts (sloppyEncode).

// sdkEncode writes the generic value v of type t with the Go guest SDK's
// encoders, the way an actor would: fields, flags and map entries in the
// order v has them (Unmarshal of canonical bytes gives canonical order).
func sdkEncode(b []byte, t wit.Type, v any) []byte {
	t = wit.Underlying(t)
	switch t {
	case nil:
		return guest.AppendNil(b)
	case wit.Bool:
		return guest.AppendBool(b, v.(bool))
	case wit.U8, wit.U16, wit.U32, wit.U64:
		return guest.AppendUint(b, reflect.ValueOf(v).Uint())
	case wit.S8, wit.S16, wit.S32, wit.S64:
		return guest.AppendInt(b, reflect.ValueOf(v).Int())
	case wit.F32:
		return guest.AppendFloat32(b, v.(float32))
	case wit.F64:
		return guest.AppendFloat64(b, v.(float64))
	case wit.Char:
		return guest.AppendString(b, string(v.(rune)))
	case wit.String:
		return guest.AppendString(b, v.(string))
	}
	switch k := t.(*wit.TypeDef).Kind.(type) {
	case *wit.Record:
		m := v.(map[string]any)
		b = guest.AppendMapHeader(b, len(k.Fields))
		for _, f := range k.Fields {
			b = guest.AppendString(b, f.Name)
			b = sdkEncode(b, f.Type, m[f.Name])
		}
		return b
	case *wit.Variant:
		c := v.(codec.Variant)
		b = guest.AppendMapHeader(b, 1)
		b = guest.AppendString(b, c.Case)
		for _, kc := range k.Cases {
			if kc.Name == c.Case {
				return sdkEncode(b, kc.Type, c.Value)
			}
		}
		panic("no case " + c.Case)
	case *wit.Enum:
		return guest.AppendString(b, v.(string))
	case *wit.Flags:
		fs := v.([]string)
		b = guest.AppendArrayHeader(b, len(fs))
		for _, f := range fs {
			b = guest.AppendString(b, f)
		}
		return b
	case *wit.Option:
		if v == nil {
			return guest.AppendNil(b)
		}
		return sdkEncode(b, k.Type, v)
	case *wit.Result:
		r := v.(codec.Result)
		b = guest.AppendMapHeader(b, 1)
		if r.IsErr {
			return sdkEncode(guest.AppendString(b, "err"), k.Err, r.Value)
		}
		return sdkEncode(guest.AppendString(b, "ok"), k.OK, r.Value)
	case *wit.Tuple:
		vs := v.([]any)
		b = guest.AppendArrayHeader(b, len(vs))
		for i, e := range vs {
			b = sdkEncode(b, k.Types[i], e)
		}
		return b
	case *wit.List:
		return sdkList(b, k.Elem, v)
	case *wit.FixedList:
		return sdkList(b, k.Elem, v)
	case *wit.Map:
		m := v.(codec.Map)
		b = guest.AppendMapHeader(b, len(m))
		for _, e := range m {
			b = sdkEncode(b, k.Key, e.Key)
			b = sdkEncode(b, k.Value, e.Value)
		}
		return b
	case *wit.Handle, *wit.Resource:
		return guest.AppendUint(b, uint64(v.(uint32)))
	}
	panic("sdkEncode: " + t.String())
}

func sdkList(b []byte, elem wit.Type, v any) []byte {
	if bs, ok := v.([]byte); ok {
		return guest.AppendBytes(b, bs)
	}
	vs := v.([]any)
	b = guest.AppendArrayHeader(b, len(vs))
	for _, e := range vs {
		b = sdkEncode(b, elem, e)
	}
	return b
}

// sloppyEncode writes v, of type t, in msgpack that readers accept but
// that is not canonical wherever r says so: wider integers and headers,
// floats of the other width, list<u8> as an array, fields, flags and map
// entries shuffled.
func sloppyEncode(r *rand.Rand, b []byte, t wit.Type, v any) []byte {
	t = wit.Underlying(t)
	wide := r.IntN(2) == 0
	switch t {
	case nil:
		return append(b, 0xc0)
	case wit.Bool:
		return guest.AppendBool(b, v.(bool))
	case wit.U8, wit.U16, wit.U32, wit.U64:
		u := reflect.ValueOf(v).Uint()
		if wide {
			if u <= math.MaxInt64 && r.IntN(2) == 0 {
				return binary.BigEndian.AppendUint64(append(b, 0xd3), u)
			}
			return binary.BigEndian.AppendUint64(append(b, 0xcf), u)
		}
		return guest.AppendUint(b, u)
	case wit.S8, wit.S16, wit.S32, wit.S64:
		if wide {
			return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(reflect.ValueOf(v).Int()))
		}
		return guest.AppendInt(b, reflect.ValueOf(v).Int())
	case wit.F32:
		if wide {
			return guest.AppendFloat64(b, float64(v.(float32)))
		}
		return guest.AppendFloat32(b, v.(float32))
	case wit.F64:
		f := v.(float64)
		if wide && float64(float32(f)) == f {
			return guest.AppendFloat32(b, float32(f))
		}
		return guest.AppendFloat64(b, f)
	case wit.Char:
		return sloppyStr(b, wide, string(v.(rune)))
	case wit.String:
		return sloppyStr(b, wide, v.(string))
	}
	hdr := func(b []byte, n int, fix, w byte) []byte {
		if wide {
			return binary.BigEndian.AppendUint32(append(b, w), uint32(n))
		}
		return appendHdr(b, n, fix)
	}
	switch k := t.(*wit.TypeDef).Kind.(type) {
	case *wit.Record:
		m := v.(map[string]any)
		b = hdr(b, len(k.Fields), 0x80, 0xdf)
		for _, i := range r.Perm(len(k.Fields)) {
			f := k.Fields[i]
			b = sloppyStr(b, r.IntN(2) == 0, f.Name)
			b = sloppyEncode(r, b, f.Type, m[f.Name])
		}
		return b
	case *wit.Variant:
		c := v.(codec.Variant)
		b = sloppyStr(hdr(b, 1, 0x80, 0xdf), wide, c.Case)
		for _, kc := range k.Cases {
			if kc.Name == c.Case {
				return sloppyEncode(r, b, kc.Type, c.Value)
			}
		}
		panic("no case " + c.Case)
	case *wit.Enum:
		return sloppyStr(b, wide, v.(string))
	case *wit.Flags:
		fs := v.([]string)
		b = hdr(b, len(fs), 0x90, 0xdd)
		for _, i := range r.Perm(len(fs)) {
			b = sloppyStr(b, r.IntN(2) == 0, fs[i])
		}
		return b
	case *wit.Option:
		if v == nil {
			return append(b, 0xc0)
		}
		return sloppyEncode(r, b, k.Type, v)
	case *wit.Result:
		res := v.(codec.Result)
		b = hdr(b, 1, 0x80, 0xdf)
		if res.IsErr {
			return sloppyEncode(r, sloppyStr(b, wide, "err"), k.Err, res.Value)
		}
		return sloppyEncode(r, sloppyStr(b, wide, "ok"), k.OK, res.Value)
	case *wit.Tuple:
		vs := v.([]any)
		b = hdr(b, len(vs), 0x90, 0xdd)
		for i, e := range vs {
			b = sloppyEncode(r, b, k.Types[i], e)
		}
		return b
	case *wit.List:
		return sloppyList(r, b, wide, k.Elem, v)
	case *wit.FixedList:
		return sloppyList(r, b, wide, k.Elem, v)
	case *wit.Map:
		m := v.(codec.Map)
		b = hdr(b, len(m), 0x80, 0xdf)
		for _, i := range r.Perm(len(m)) {
			b = sloppyEncode(r, b, k.Key, m[i].Key)
			b = sloppyEncode(r, b, k.Value, m[i].Value)
		}
		return b
	case *wit.Handle, *wit.Resource:
		if wide {
			return binary.BigEndian.AppendUint64(append(b, 0xcf), uint64(v.(uint32)))
		}
		return guest.AppendUint(b, uint64(v.(uint32)))
	}
	panic("sloppyEncode: " + t.String())
}

// appendHdr writes the smallest array (fix 0x90) or map (0x80) header.
func appendHdr(b []byte, n int, fix byte) []byte {
	if fix == 0x80 {
		return guest.AppendMapHeader(b, n)
	}
	return guest.AppendArrayHeader(b, n)
}

func sloppyStr(b []byte, wide bool, s string) []byte {
	if wide {
		return append(binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(len(s))), s...)
	}
	return guest.AppendString(b, s)
}

func sloppyList(r *rand.Rand, b []byte, wide bool, elem wit.Type, v any) []byte {
	if bs, ok := v.([]byte); ok {
		switch {
		case wide && r.IntN(2) == 0:
			b = binary.BigEndian.AppendUint32(append(b, 0xdd), uint32(len(bs)))
			for _, x := range bs {
				b = sloppyEncode(r, b, wit.U8, x)
			}
			return b
		case wide:
			return append(binary.BigEndian.AppendUint32(append(b, 0xc6), uint32(len(bs))), bs...)
		}
		return guest.AppendBytes(b, bs)
	}
	vs := v.([]any)
	if wide {
		b = binary.BigEndian.AppendUint32(append(b, 0xdd), uint32(len(vs)))
	} else {
		b = guest.AppendArrayHeader(b, len(vs))
	}
	for _, e := range vs {
		b = sloppyEncode(r, b, elem, e)
	}
	return b
}

// goTyped converts the generic value v of type t into a value of a Go
// type made for t, as a user of the typed client would write it: a
// struct with msgpack tags for a record, a pointer for an option, a Go
// map for a map, a string for a char, typed slices for lists.
func goTyped(t wit.Type, v any) reflect.Value {
	rt := goType(t)
	out := reflect.New(rt).Elem()
	setTyped(out, t, v)
	return out
}

func goType(t wit.Type) reflect.Type {
	t = wit.Underlying(t)
	switch t {
	case nil:
		return reflect.TypeFor[any]()
	case wit.Bool:
		return reflect.TypeFor[bool]()
	case wit.U8:
		return reflect.TypeFor[uint8]()
	case wit.U16:
		return reflect.TypeFor[uint16]()
	case wit.U32:
		return reflect.TypeFor[uint32]()
	case wit.U64:
		return reflect.TypeFor[uint64]()
	case wit.S8:
		return reflect.TypeFor[int8]()
	case wit.S16:
		return reflect.TypeFor[int16]()
	case wit.S32:
		return reflect.TypeFor[int32]()
	case wit.S64:
		return reflect.TypeFor[int64]()
	case wit.F32:
		return reflect.TypeFor[float32]()
	case wit.F64:
		return reflect.TypeFor[float64]()
	case wit.Char, wit.String:
		return reflect.TypeFor[string]()
	}
	switch k := t.(*wit.TypeDef).Kind.(type) {
	case *wit.Record:
		var fs []reflect.StructField
		for i, f := range k.Fields {
			fs = append(fs, reflect.StructField{
				Name: "F" + string(rune('A'+i)),
				Type: goType(f.Type),
				Tag:  reflect.StructTag(`msgpack:"` + f.Name + `"`),
			})
		}
		return reflect.StructOf(fs)
	case *wit.Variant:
		return reflect.TypeFor[codec.Variant]()
	case *wit.Result:
		return reflect.TypeFor[codec.Result]()
	case *wit.Enum:
		return reflect.TypeFor[string]()
	case *wit.Flags:
		return reflect.TypeFor[[]string]()
	case *wit.Option:
		return reflect.PointerTo(goType(k.Type))
	case *wit.Tuple:
		return reflect.TypeFor[[]any]()
	case *wit.List:
		return reflect.SliceOf(goType(k.Elem))
	case *wit.FixedList:
		return reflect.SliceOf(goType(k.Elem))
	case *wit.Map:
		return reflect.MapOf(goType(k.Key), goType(k.Value))
	case *wit.Handle, *wit.Resource:
		return reflect.TypeFor[uint32]()
	}
	panic("goType: " + t.String())
}

func setTyped(out reflect.Value, t wit.Type, v any) {
	t = wit.Underlying(t)
	if v == nil {
		return // the zero value: nil for options and the absent type
	}
	switch t {
	case wit.Char:
		out.SetString(string(v.(rune)))
		return
	}
	d, ok := t.(*wit.TypeDef)
	if !ok {
		out.Set(reflect.ValueOf(v))
		return
	}
	switch k := d.Kind.(type) {
	case *wit.Record:
		m := v.(map[string]any)
		for i, f := range k.Fields {
			setTyped(out.Field(i), f.Type, m[f.Name])
		}
	case *wit.Variant:
		c := v.(codec.Variant)
		for _, kc := range k.Cases {
			if kc.Name == c.Case && kc.Type != nil && c.Value != nil {
				c.Value = goTyped(kc.Type, c.Value).Interface()
			}
		}
		out.Set(reflect.ValueOf(c))
	case *wit.Result:
		r := v.(codec.Result)
		side := k.OK
		if r.IsErr {
			side = k.Err
		}
		if side != nil && r.Value != nil {
			r.Value = goTyped(side, r.Value).Interface()
		}
		out.Set(reflect.ValueOf(r))
	case *wit.Option:
		p := reflect.New(out.Type().Elem())
		setTyped(p.Elem(), k.Type, v)
		out.Set(p)
	case *wit.Tuple:
		vs := v.([]any)
		typed := make([]any, len(vs))
		for i, e := range vs {
			if e != nil {
				typed[i] = goTyped(k.Types[i], e).Interface()
			}
		}
		out.Set(reflect.ValueOf(typed))
	case *wit.List:
		setSlice(out, k.Elem, v)
	case *wit.FixedList:
		setSlice(out, k.Elem, v)
	case *wit.Map:
		m := reflect.MakeMap(out.Type())
		for _, e := range v.(codec.Map) {
			m.SetMapIndex(goTyped(k.Key, e.Key), goTyped(k.Value, e.Value))
		}
		out.Set(m)
	default:
		out.Set(reflect.ValueOf(v))
	}
}

func setSlice(out reflect.Value, elem wit.Type, v any) {
	if bs, ok := v.([]byte); ok {
		out.SetBytes(bs)
		return
	}
	vs := v.([]any)
	s := reflect.MakeSlice(out.Type(), len(vs), len(vs))
	for i, e := range vs {
		setTyped(s.Index(i), elem, e)
	}
	out.Set(s)
}

// checkEncoders checks that every encoder writes canon, the canonical
// bytes of a value of type typ, and that Canonical is idempotent on it.
func checkEncoders(t *testing.T, r *rand.Rand, typ wit.Type, canon []byte) {
	t.Helper()
	if again, err := codec.Canonical(typ, canon); err != nil || !bytes.Equal(again, canon) {
		t.Fatalf("Canonical(%v, canonical %x) = %x, %v", typ, canon, again, err)
	}
	v, err := codec.Unmarshal(typ, canon)
	if err != nil {
		t.Fatalf("Unmarshal(%v, %x): %v", typ, canon, err)
	}
	if got := sdkEncode(nil, typ, v); !bytes.Equal(got, canon) {
		t.Fatalf("Go guest SDK: %v %#v = %x; codec: %x", typ, v, got, canon)
	}
	if got, err := codec.Marshal(typ, v); err != nil || !bytes.Equal(got, canon) {
		t.Fatalf("Marshal(%v, %#v) = %x, %v; want %x", typ, v, got, err, canon)
	}
	typed := goTyped(typ, v)
	if got, err := codec.Marshal(typ, typed.Interface()); err != nil || !bytes.Equal(got, canon) {
		t.Fatalf("Marshal(%v, %#v) = %x, %v; want %x", typ, typed.Interface(), got, err, canon)
	}
	back := reflect.New(typed.Type())
	if err := codec.Decode(typ, canon, back.Interface()); err != nil {
		t.Fatalf("Decode(%v, %x, %v): %v", typ, canon, back.Type(), err)
	}
	if got, err := codec.Marshal(typ, back.Interface()); err != nil || !bytes.Equal(got, canon) {
		t.Fatalf("Marshal(Decode(%v, %x)) = %x, %v", typ, canon, got, err)
	}
	if js, err := codec.ToJSON(typ, canon); err != nil {
		t.Fatalf("ToJSON(%v, %x): %v", typ, canon, err)
	} else if got, err := codec.FromJSON(typ, js); err != nil || !bytes.Equal(got, canon) {
		t.Fatalf("FromJSON(%v, %s) = %x, %v; want %x", typ, js, got, err, canon)
	}
	for range 3 {
		sloppy := sloppyEncode(r, nil, typ, v)
		if got, err := codec.Canonical(typ, sloppy); err != nil || !bytes.Equal(got, canon) {
			t.Fatalf("Canonical(%v, %x) = %x, %v; want %x", typ, sloppy, got, err, canon)
		}
	}
}

// TestEncodersAgree is the property of issue 7: for random WIT types and
// values, FromJSON, Marshal (of generic and of typed Go values, through
// msgpack/v5), the Go guest SDK and Canonical of any accepted spelling
// all produce the same bytes, and Canonical is idempotent.
func TestEncodersAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	g := &gen{r: r}
	for range 3000 {
		typ := g.typ(4)
		canon, err := codec.Marshal(typ, g.value(typ))
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		checkEncoders(t, r, typ, canon)
	}
}

// FuzzGuestSDK is the differential fuzz target of the Go guest SDK
// against the codec: any input that is valid under one of fuzzTypes is
// canonicalized, and the SDK (and every other encoder) must write exactly
// those bytes for its value.
func FuzzGuestSDK(f *testing.F) {
	f.Fuzz(func(t *testing.T, sel byte, data []byte) {
		typ := fuzzTypes[int(sel)%len(fuzzTypes)]
		canon, err := fuzzCodec.Canonical(typ, data)
		if err != nil {
			verr := fuzzCodec.Validate(typ, data)
			if verr == nil && errors.Is(err, codec.ErrLimit) {
				return // the canonical form may be longer (an f64 written as an int)
			}
			if verr == nil || verr.Error() != err.Error() {
				t.Fatalf("Canonical: %v, but Validate: %v", err, verr)
			}
			return
		}
		if len(canon) > 1<<12 {
			return // keep each input cheap; size adds nothing here
		}
		checkEncoders(t, rand.New(rand.NewPCG(uint64(len(data)), uint64(sel))), typ, canon)
	})
}
