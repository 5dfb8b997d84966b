package codec_test

import (
	"errors"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"

	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

// goInts are the Go integer and float types Decode may be given for a
// WIT integer.
var goInts = []reflect.Type{
	reflect.TypeFor[int8](), reflect.TypeFor[int16](), reflect.TypeFor[int32](), reflect.TypeFor[int64](), reflect.TypeFor[int](),
	reflect.TypeFor[uint8](), reflect.TypeFor[uint16](), reflect.TypeFor[uint32](), reflect.TypeFor[uint64](), reflect.TypeFor[uint](),
	reflect.TypeFor[float32](), reflect.TypeFor[float64](),
}

// goRange is the range of a Go integer type, or the integers a float
// type holds exactly (checked per value below).
func goRange(rt reflect.Type) (lo, hi *big.Int) {
	bits := uint(rt.Bits())
	switch rt.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		hi = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), bits-1), big.NewInt(1))
		return new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), bits-1)), hi
	case reflect.Float32, reflect.Float64:
		return nil, nil
	}
	return big.NewInt(0), new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), bits), big.NewInt(1))
}

// exactIn reports whether integer n is exact in a float of rt's size.
func exactIn(n *big.Int, rt reflect.Type) bool {
	f, _ := new(big.Float).SetInt(n).Float64()
	if rt.Kind() == reflect.Float32 {
		f = float64(float32(f))
	}
	back, _ := big.NewFloat(f).Int(nil)
	return back.Cmp(n) == 0
}

// TestDecodeIntegerFits decodes the edge values of every WIT integer type
// (its bounds, the bounds of every Go integer type inside them, and the
// values just past those) into every Go integer and float type: a value
// the Go type holds exactly decodes to itself, every other is an error
// wrapping ErrGoType, never a wrapped or rounded number.
func TestDecodeIntegerFits(t *testing.T) {
	wits := []wit.Primitive{wit.U8, wit.U16, wit.U32, wit.U64, wit.S8, wit.S16, wit.S32, wit.S64}
	witRange := func(p wit.Primitive) (*big.Int, *big.Int) {
		switch p {
		case wit.U8, wit.U16, wit.U32, wit.U64:
			bits := map[wit.Primitive]uint{wit.U8: 8, wit.U16: 16, wit.U32: 32, wit.U64: 64}[p]
			return big.NewInt(0), new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), bits), big.NewInt(1))
		}
		bits := map[wit.Primitive]uint{wit.S8: 8, wit.S16: 16, wit.S32: 32, wit.S64: 64}[p]
		return new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), bits-1)),
			new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), bits-1), big.NewInt(1))
	}
	// Edge values: every Go bound, ±1, and the float exactness edges.
	var edges []*big.Int
	for _, rt := range goInts {
		if lo, hi := goRange(rt); lo != nil {
			for _, e := range []*big.Int{lo, hi} {
				edges = append(edges, e, new(big.Int).Sub(e, big.NewInt(1)), new(big.Int).Add(e, big.NewInt(1)))
			}
		}
	}
	for _, e := range []int64{0, 1, -1, 1 << 24, 1<<24 + 1, 1 << 53, 1<<53 + 1, -(1<<53 + 1)} {
		edges = append(edges, big.NewInt(e))
	}
	checked := 0
	for _, p := range wits {
		wlo, whi := witRange(p)
		for _, rt := range goInts {
			for _, n := range edges {
				if n.Cmp(wlo) < 0 || n.Cmp(whi) > 0 {
					continue // not a value of p
				}
				var v any = n.Int64()
				if !n.IsInt64() {
					v = n.Uint64()
				}
				data, err := codec.Marshal(p, v)
				if err != nil {
					t.Fatalf("Marshal(%v, %v): %v", p, n, err)
				}
				out := reflect.New(rt)
				err = codec.Decode(p, data, out.Interface())
				var want bool
				if lo, hi := goRange(rt); lo != nil {
					want = n.Cmp(lo) >= 0 && n.Cmp(hi) <= 0
				} else {
					// msgpack/v5 reads uint64 above MaxInt64 into floats as negative.
					want = exactIn(n, rt) && n.IsInt64()
				}
				checked++
				if !want {
					if !errors.Is(err, codec.ErrGoType) || !strings.Contains(err.Error(), n.String()) {
						t.Errorf("%v %v into %v: err = %v, value %v; want ErrGoType naming the value", p, n, rt, err, out.Elem())
					}
					continue
				}
				if err != nil {
					t.Errorf("%v %v into %v: %v", p, n, rt, err)
					continue
				}
				got := out.Elem()
				var back *big.Int
				switch {
				case got.CanInt():
					back = big.NewInt(got.Int())
				case got.CanUint():
					back = new(big.Int).SetUint64(got.Uint())
				default:
					back, _ = big.NewFloat(got.Float()).Int(nil)
				}
				if back.Cmp(n) != 0 {
					t.Errorf("%v %v into %v decoded as %v", p, n, rt, got)
				}
			}
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d pairs checked", checked)
	}
}

// TestDecodeGoTypeMismatch: the review's lossy cases and the Go types
// that can never hold a WIT type fail with ErrGoType, and CheckDecode
// refuses the latter without any bytes.
func TestDecodeGoTypeMismatch(t *testing.T) {
	enc := func(typ wit.Type, v any) []byte {
		b, err := codec.Marshal(typ, v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var (
		u8  uint8
		i8  int8
		u32 uint32
		i64 int64
		f32 float32
		f64 float64
		i   int
		s   string
		r   rune
	)
	cases := []struct {
		name   string
		typ    wit.Type
		data   []byte
		out    any
		static bool // CheckDecode refuses it
		want   string
	}{
		{"u64 300 into uint8", wit.U64, enc(wit.U64, 300), &u8, false, "u64 300 does not fit Go type uint8"},
		{"s32 -1 into uint32", wit.S32, enc(wit.S32, -1), &u32, false, "s32 -1 does not fit Go type uint32"},
		{"u64 max into int64", wit.U64, enc(wit.U64, uint64(math.MaxUint64)), &i64, false, "u64 18446744073709551615 does not fit Go type int64"},
		{"u8 200 into int8", wit.U8, enc(wit.U8, 200), &i8, false, "u8 200 does not fit Go type int8"},
		{"u64 2^60+1 into float64", wit.U64, enc(wit.U64, uint64(1<<60+1)), &f64, false, "does not fit Go type float64"},
		{"f64 into float32", wit.F64, enc(wit.F64, 0.5), &f32, true, "Go type float32 cannot hold f64"},
		{"f32 into int", wit.F32, enc(wit.F32, float32(2)), &i, true, "Go type int cannot hold f32"},
		{"f64 into int", wit.F64, enc(wit.F64, 2.0), &i, true, "Go type int cannot hold f64"},
		{"u32 into uintptr", wit.U32, enc(wit.U32, 1), new(uintptr), true, "Go type uintptr cannot hold u32"}, // msgpack/v5 panics on it
		{"u32 into string", wit.U32, enc(wit.U32, 1), &s, true, "Go type string cannot hold u32"},
		{"char into rune", wit.Char, enc(wit.Char, "x"), &r, true, "decode a char into a string"},
		{"none into uint32", option(wit.U32), enc(option(wit.U32), nil), &u32, false, "none does not fit Go type uint32"},
		{"record field", point, enc(point, map[string]any{"x": 1, "y": -1}), &struct {
			X uint32 `msgpack:"x"`
			Y uint32 `msgpack:"y"`
		}{}, false, "codec: y: s32 -1 does not fit Go type uint32"},
		{"list element", list(wit.U16), enc(list(wit.U16), []uint16{1, 256}), &[]uint8{}, false, "codec: [1]: u16 256 does not fit Go type uint8"},
		{"map key", mapOf(wit.U32, wit.Bool), enc(mapOf(wit.U32, wit.Bool), map[uint32]bool{300: true}), &map[uint8]bool{}, false, "codec: key: u32 300 does not fit Go type uint8"},
		{"map value", mapOf(wit.String, wit.S8), enc(mapOf(wit.String, wit.S8), map[string]int8{"a": -1}), &map[string]uint8{}, false, `codec: ["a"]: s8 -1 does not fit Go type uint8`},
		{"variant payload", shape, enc(shape, codec.Variant{Case: "circle", Value: float32(1)}), &struct {
			Circle *int `msgpack:"circle"`
		}{}, true, "circle: Go type int cannot hold f32"},
		{"non-pointer", wit.U32, enc(wit.U32, 1), u32, true, "need a non-nil pointer"},
		{"nil pointer", wit.U32, enc(wit.U32, 1), (*uint32)(nil), true, "need a non-nil pointer"},
		{"nil", wit.U32, enc(wit.U32, 1), nil, true, "need a non-nil pointer"},
	}
	for _, c := range cases {
		err := codec.Decode(c.typ, c.data, c.out)
		if !errors.Is(err, codec.ErrGoType) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Decode: %v; want ErrGoType with %q", c.name, err, c.want)
		}
		if serr := codec.CheckDecode(c.typ, c.out); (serr != nil) != c.static || (serr != nil && !errors.Is(serr, codec.ErrGoType)) {
			t.Errorf("%s: CheckDecode: %v; want an error: %v", c.name, serr, c.static)
		}
	}
	// A Go number as wide as the type, or an option into a pointer,
	// decodes as before.
	var p *uint32
	if err := codec.Decode(option(wit.U32), enc(option(wit.U32), nil), &p); err != nil || p != nil {
		t.Errorf("none into *uint32: %v, %v", p, err)
	}
	if err := codec.Decode(wit.U8, enc(wit.U8, 200), &i8); err == nil {
		t.Errorf("u8 200 into int8 decoded as %d", i8)
	}
	if err := codec.Decode(wit.U64, enc(wit.U64, 300), &i64); err != nil || i64 != 300 {
		t.Errorf("u64 300 into int64: %d, %v", i64, err)
	}
}

// TestMarshalOmitempty: msgpack/v5 drops a zero omitempty field, which
// a record cannot miss; the error says what to change.
func TestMarshalOmitempty(t *testing.T) {
	type p struct {
		X uint32 `msgpack:"x,omitempty"`
		Y int32  `msgpack:"y"`
	}
	_, err := codec.Marshal(point, p{Y: 1})
	if !errors.Is(err, codec.ErrInvalid) || !strings.Contains(err.Error(), `missing field "x"`) || !strings.Contains(err.Error(), "omitempty") {
		t.Fatalf("Marshal of a zero omitempty field: %v", err)
	}
	if b, err := codec.Marshal(point, p{X: 1, Y: 1}); err != nil || len(b) == 0 {
		t.Fatalf("Marshal with the field set: %x, %v", b, err)
	}
}

// TestDecodeGoShapes: the Go types msgpack/v5 fills besides plain
// structs (embedded structs, string-keyed maps for records and variants,
// structs for tuples, interfaces) pass the Go type check, and narrow
// numbers inside them are still checked.
func TestDecodeGoShapes(t *testing.T) {
	type Base struct {
		X uint8 `msgpack:"x"`
	}
	type embedded struct {
		Base
		Y int32 `msgpack:"y"`
	}
	data, err := codec.Marshal(point, map[string]any{"x": 7, "y": -1})
	if err != nil {
		t.Fatal(err)
	}
	var e embedded
	if err := codec.Decode(point, data, &e); err != nil || e.X != 7 || e.Y != -1 {
		t.Errorf("embedded struct: %+v, %v", e, err)
	}
	big, _ := codec.Marshal(point, map[string]any{"x": 300, "y": 0})
	if err := codec.Decode(point, big, &e); !errors.Is(err, codec.ErrGoType) || !strings.Contains(err.Error(), "x: u32 300") {
		t.Errorf("embedded narrow field: %v", err)
	}
	var m map[string]int64
	if err := codec.Decode(point, data, &m); err != nil || m["x"] != 7 || m["y"] != -1 {
		t.Errorf("record into map[string]int64: %v, %v", m, err)
	}
	var anyV any
	if err := codec.Decode(point, data, &anyV); err != nil || anyV == nil {
		t.Errorf("record into any: %v, %v", anyV, err)
	}
	var circle struct {
		Circle *float32  `msgpack:"circle"`
		None   *struct{} `msgpack:"none"`
	}
	vb, _ := codec.Marshal(shape, codec.Variant{Case: "circle", Value: float32(2)})
	if err := codec.Decode(shape, vb, &circle); err != nil || circle.Circle == nil || *circle.Circle != 2 {
		t.Errorf("variant into a struct: %+v, %v", circle, err)
	}
	type pair struct {
		N uint8
		S string
	}
	tb, _ := codec.Marshal(tuple(wit.U16, wit.String), []any{uint16(9), "s"})
	var p pair
	if err := codec.Decode(tuple(wit.U16, wit.String), tb, &p); err != nil || p != (pair{9, "s"}) {
		t.Errorf("tuple into a struct: %+v, %v", p, err)
	}
	tb, _ = codec.Marshal(tuple(wit.U16, wit.String), []any{uint16(256), "s"})
	if err := codec.Decode(tuple(wit.U16, wit.String), tb, &p); !errors.Is(err, codec.ErrGoType) || !strings.Contains(err.Error(), "[0]: u16 256") {
		t.Errorf("tuple element too big for uint8: %v", err)
	}
	if err := codec.CheckDecode(tuple(wit.U16, wit.String), &struct{ N uint8 }{}); !errors.Is(err, codec.ErrGoType) {
		t.Errorf("tuple into a struct with too few fields: %v", err)
	}
}
