package codec_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

var (
	point  = record("point", field("x", wit.U32), field("y", wit.S32))
	empty  = record("empty")
	shape  = variant("shape", vcase("circle", wit.F32), vcase("none", nil))
	color  = enum("color", "red", "green", "blue")
	perms  = flags("perms", "read", "write", "exec")
	person = record("person", field("name", wit.String))
	pet    = record("pet", field("owner", person))
	id     = alias("id", wit.U64)
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// canonical cases hold the three spellings of one value, which every
// direction must agree on: JSON, msgpack (hex) and the Go value.
var canonical = []struct {
	typ  wit.Type
	json string
	hex  string
	goV  any
}{
	{wit.Bool, `true`, "c3", true},
	{wit.Bool, `false`, "c2", false},
	{wit.U8, `200`, "cc c8", uint8(200)},
	{wit.U16, `65535`, "cd ffff", uint16(65535)},
	{wit.U32, `7`, "07", uint32(7)},
	{wit.U32, `4294967295`, "ce ffffffff", uint32(math.MaxUint32)},
	{wit.U64, `18446744073709551615`, "cf ffffffffffffffff", uint64(math.MaxUint64)},
	{wit.S8, `-128`, "d0 80", int8(-128)},
	{wit.S8, `-1`, "ff", int8(-1)},
	{wit.S16, `-300`, "d1 fed4", int16(-300)},
	{wit.S32, `100000`, "ce 000186a0", int32(100000)},
	{wit.S64, `200`, "cc c8", int64(200)},
	{wit.S16, `-33`, "d0 df", int16(-33)},
	{wit.S8, `-32`, "e0", int8(-32)},
	{wit.S64, `-9223372036854775808`, "d3 8000000000000000", int64(math.MinInt64)},
	{wit.F32, `1.5`, "ca 3fc00000", float32(1.5)},
	{wit.F32, `0.1`, "ca 3dcccccd", float32(0.1)},
	{wit.F64, `0.1`, "cb 3fb999999999999a", 0.1},
	{wit.F64, `-0`, "cb 8000000000000000", math.Copysign(0, -1)},
	{wit.F64, `1e+21`, "cb 444b1ae4d6e2ef50", 1e21},
	{wit.F64, `"Infinity"`, "cb 7ff0000000000000", math.Inf(1)},
	{wit.F32, `"-Infinity"`, "ca ff800000", float32(math.Inf(-1))},
	{wit.Char, `"é"`, "a2 c3a9", 'é'},
	{wit.String, `"hi\n\"\u0001"`, "a5 68690a2201", "hi\n\"\x01"},
	{wit.String, `""`, "a0", ""},
	{point, `{"x":1,"y":-2}`, "82 a178 01 a179 fe", map[string]any{"x": uint32(1), "y": int32(-2)}},
	{empty, `{}`, "80", map[string]any{}},
	{pet, `{"owner":{"name":"al"}}`, "81 a56f776e6572 81 a46e616d65 a2616c",
		map[string]any{"owner": map[string]any{"name": "al"}}},
	{shape, `{"circle":2}`, "81 a6636972636c65 ca 40000000", codec.Variant{Case: "circle", Value: float32(2)}},
	{shape, `{"none":null}`, "81 a46e6f6e65 c0", codec.Variant{Case: "none"}},
	{color, `"green"`, "a5 677265656e", "green"},
	{perms, `["read","exec"]`, "92 a472656164 a465786563", []string{"read", "exec"}},
	{perms, `[]`, "90", []string{}},
	{option(wit.U32), `null`, "c0", nil},
	{option(wit.U32), `5`, "05", uint32(5)},
	{option(point), `{"x":0,"y":0}`, "82 a178 00 a179 00", map[string]any{"x": uint32(0), "y": int32(0)}},
	{result(wit.U32, wit.String), `{"ok":1}`, "81 a26f6b 01", codec.Ok(uint32(1))},
	{result(wit.U32, wit.String), `{"err":"x"}`, "81 a3657272 a178", codec.Err("x")},
	{result(nil, nil), `{"ok":null}`, "81 a26f6b c0", codec.Ok(nil)},
	{result(nil, color), `{"err":"red"}`, "81 a3657272 a3726564", codec.Err("red")},
	{tuple(wit.U8, wit.String), `[1,"a"]`, "92 01 a161", []any{uint8(1), "a"}},
	{tuple(), `[]`, "90", []any{}},
	{list(wit.U8), `"AQID"`, "c4 03 010203", []byte{1, 2, 3}},
	{list(wit.U8), `""`, "c4 00", []byte{}},
	{list(wit.String), `["a","b"]`, "92 a161 a162", []any{"a", "b"}},
	{list(list(wit.U32)), `[[],[1]]`, "92 90 91 01", []any{[]any{}, []any{uint32(1)}}},
	{fixed(wit.U8, 2), `"AQI="`, "c4 02 0102", []byte{1, 2}},
	{fixed(wit.U32, 2), `[1,2]`, "92 01 02", []any{uint32(1), uint32(2)}},
	{mapOf(wit.String, wit.U32), `{"a":2,"b":1}`, "82 a161 02 a162 01",
		codec.Map{{Key: "a", Value: uint32(2)}, {Key: "b", Value: uint32(1)}}},
	{mapOf(wit.String, wit.U32), `{"aa":2,"b":1}`, "82 a2 6161 02 a162 01",
		codec.Map{{Key: "aa", Value: uint32(2)}, {Key: "b", Value: uint32(1)}}},
	{mapOf(wit.S32, wit.Bool), `{"-200":true,"-1":false,"3":true,"200":false}`, "84 d1 ff38 c3 ff c2 03 c3 cc c8 c2",
		codec.Map{{Key: int32(-200), Value: true}, {Key: int32(-1), Value: false}, {Key: int32(3), Value: true}, {Key: int32(200), Value: false}}},
	{mapOf(wit.S32, wit.Bool), `{"-200":true,"3":false}`, "82 d1ff38 c3 03 c2",
		codec.Map{{Key: int32(-200), Value: true}, {Key: int32(3), Value: false}}},
	{mapOf(wit.Bool, wit.U8), `{"false":0,"true":1}`, "82 c2 00 c3 01", codec.Map{{Key: false, Value: uint8(0)}, {Key: true, Value: uint8(1)}}},
	{mapOf(wit.U32, wit.String), `{"5":"x"}`, "81 05 a178", codec.Map{{Key: uint32(5), Value: "x"}}},
	{mapOf(wit.S8, wit.Bool), `{"-1":true}`, "81 ff c3", codec.Map{{Key: int8(-1), Value: true}}},
	{mapOf(wit.Bool, wit.U8), `{"false":0}`, "81 c2 00", codec.Map{{Key: false, Value: uint8(0)}}},
	{mapOf(wit.Char, wit.U8), `{"é":0}`, "81 a2c3a9 00", codec.Map{{Key: 'é', Value: uint8(0)}}},
	{mapOf(color, wit.U8), `{"blue":0}`, "81 a4626c7565 00", codec.Map{{Key: "blue", Value: uint8(0)}}},
	{mapOf(wit.String, wit.U8), `{}`, "80", codec.Map{}},
	{own(resource), `3`, "03", uint32(3)},
	{borrow(resource), `70000`, "ce 00011170", uint32(70000)},
	{resource, `1`, "01", uint32(1)},
	{id, `9`, "09", uint64(9)},
	{alias("maybe", option(id)), `null`, "c0", nil},
	{nil, `null`, "c0", nil},
}

func TestCanonical(t *testing.T) {
	for _, c := range canonical {
		name := "nil"
		if c.typ != nil {
			name = c.typ.String()
		}
		t.Run(name+"="+c.json, func(t *testing.T) {
			mp := unhex(t, c.hex)
			if err := codec.Validate(c.typ, mp); err != nil {
				t.Errorf("Validate: %v", err)
			}
			got, err := codec.FromJSON(c.typ, []byte(c.json))
			if err != nil || !bytes.Equal(got, mp) {
				t.Errorf("FromJSON = %x, %v; want %x", got, err, mp)
			}
			js, err := codec.ToJSON(c.typ, mp)
			if err != nil || string(js) != c.json {
				t.Errorf("ToJSON = %s, %v; want %s", js, err, c.json)
			}
			v, err := codec.Unmarshal(c.typ, mp)
			if err != nil || !reflect.DeepEqual(v, c.goV) {
				t.Errorf("Unmarshal = %#v, %v; want %#v", v, err, c.goV)
			}
			got, err = codec.Marshal(c.typ, c.goV)
			if err != nil || !bytes.Equal(got, mp) {
				t.Errorf("Marshal = %x, %v; want %x", got, err, mp)
			}
		})
	}
}

// TestNaN is apart because NaN != NaN defeats DeepEqual.
func TestNaN(t *testing.T) {
	for _, c := range []struct {
		typ      wit.Type
		hex, out string
	}{
		{wit.F64, "cb 7ff8000000000001", "cb 7ff8000000000000"},
		{wit.F64, "cb fff8000000000000", "cb 7ff8000000000000"},
		{wit.F32, "ca 7fc00000", "ca 7fc00000"},
		{wit.F32, "ca ff800001", "ca 7fc00000"},
		{wit.F32, "cb 7ff8000000000001", "ca 7fc00000"},
	} {
		mp := unhex(t, c.hex)
		js, err := codec.ToJSON(c.typ, mp)
		if err != nil || string(js) != `"NaN"` {
			t.Errorf("%v: ToJSON = %s, %v", c.typ, js, err)
		}
		v, err := codec.Unmarshal(c.typ, mp)
		if f := reflect.ValueOf(v); err != nil || !math.IsNaN(f.Float()) {
			t.Errorf("%v: Unmarshal = %v, %v", c.typ, v, err)
		}
		if got, err := codec.Marshal(c.typ, v); err != nil || !bytes.Equal(got, unhex(t, c.out)) {
			t.Errorf("%v: Marshal = %x, %v", c.typ, got, err)
		}
		if got, err := codec.Canonical(c.typ, mp); err != nil || !bytes.Equal(got, unhex(t, c.out)) {
			t.Errorf("%v: Canonical(%s) = %x, %v; want %s", c.typ, c.hex, got, err, c.out)
		}
	}
	if got, err := codec.FromJSON(wit.F64, []byte(`"NaN"`)); err != nil || !bytes.Equal(got, unhex(t, "cb 7ff8000000000000")) {
		t.Errorf("FromJSON(NaN) = %x, %v", got, err)
	}
	if got, err := codec.FromJSON(wit.F32, []byte(`"NaN"`)); err != nil || !bytes.Equal(got, unhex(t, "ca 7fc00000")) {
		t.Errorf("FromJSON(NaN) = %x, %v", got, err)
	}
}

// TestAccepted covers inputs that are valid but not canonical: ToJSON and
// Unmarshal read them, and FromJSON/Marshal write the canonical form.
func TestAccepted(t *testing.T) {
	for _, c := range []struct {
		typ      wit.Type
		hex      string
		wantJSON string
	}{
		{wit.U8, "d3 0000000000000005", `5`},    // any integer encoding that fits
		{wit.U64, "d0 05", `5`},                 // signed encoding of an unsigned value
		{wit.S8, "cc 05", `5`},                  // unsigned encoding of a signed value
		{wit.F32, "cb 3ff8000000000000", `1.5`}, // float64 exact in f32
		{wit.F64, "ca 3fc00000", `1.5`},         // float32
		{wit.F64, "cd 0100", `256`},             // integers exact in the float
		{wit.F32, "d2 01000000", `16777216`},
		{point, "82 a179 fe a178 01", `{"x":1,"y":-2}`}, // fields in any order
		{record("r", field("a", wit.U8), field("b", wit.U8), field("c", wit.U8)),
			"83 a163 03 a161 01 a162 02", `{"a":1,"b":2,"c":3}`},
		{perms, "92 a465786563 a472656164", `["read","exec"]`}, // flags in any order
		{list(wit.U8), "93 01 02 cc ff", `"AQL/"`},             // list<u8> as an array
		{fixed(wit.U8, 2), "92 01 02", `"AQI="`},
		{list(wit.U8), "c5 0001 00", `"AA=="`}, // bin16
		{wit.String, "d9 01 61", `"a"`},        // str8
		{list(wit.U32), "dc 0001 01", `[1]`},   // array16
	} {
		mp := unhex(t, c.hex)
		if err := codec.Validate(c.typ, mp); err != nil {
			t.Errorf("%v %s: Validate: %v", c.typ, c.hex, err)
		}
		js, err := codec.ToJSON(c.typ, mp)
		if err != nil || string(js) != c.wantJSON {
			t.Errorf("%v %s: ToJSON = %s, %v; want %s", c.typ, c.hex, js, err, c.wantJSON)
		}
		v, err := codec.Unmarshal(c.typ, mp)
		if err != nil {
			t.Errorf("%v %s: Unmarshal: %v", c.typ, c.hex, err)
		}
		canon, _ := codec.FromJSON(c.typ, js)
		if got, err := codec.Marshal(c.typ, v); err != nil || !bytes.Equal(got, canon) {
			t.Errorf("%v %s: Marshal(Unmarshal) = %x, %v; want %x", c.typ, c.hex, got, err, canon)
		}
		if got, err := codec.Canonical(c.typ, mp); err != nil || !bytes.Equal(got, canon) {
			t.Errorf("%v %s: Canonical = %x, %v; want %x", c.typ, c.hex, got, err, canon)
		}
	}
	for _, c := range []struct {
		typ       wit.Type
		json, hex string
	}{
		{point, ` { "y" : -2 , "x" : 1 } `, "82 a178 01 a179 fe"},
		{perms, `["exec","read"]`, "92 a472656164 a465786563"},
		{list(wit.U8), `[1,2,255]`, "c4 03 0102ff"},
		{fixed(wit.U8, 2), `[1,2]`, "c4 02 0102"},
		{wit.String, `"\u00e9\ud83d\ude00\/"`, "a7 c3a9 f09f9880 2f"},
		{wit.F32, `0.1000000001`, "ca 3dcccccd"}, // decimal rounds to nearest
		{wit.F64, `1`, "cb 3ff0000000000000"},
		{wit.F64, `-1.5E+2`, "cb c062c00000000000"},
		{wit.S64, `-0`, "00"},
	} {
		got, err := codec.FromJSON(c.typ, []byte(c.json))
		if want := unhex(t, c.hex); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%v %s: FromJSON = %x, %v; want %x", c.typ, c.json, got, err, want)
		}
	}
}

type badCase struct {
	typ  wit.Type
	in   string
	want string // the exact error
	kind error
}

func TestValidateErrors(t *testing.T) {
	deep := list(list(wit.U8))
	for range 70 {
		deep = list(deep)
	}
	for _, c := range []badCase{
		{wit.U32, "a3 74656e", `codec: expected u32, got string "ten"`, codec.ErrInvalid},
		{wit.U8, "cd 012c", `codec: expected u8, got int 300`, codec.ErrInvalid},
		{wit.U32, "ff", `codec: expected u32, got int -1`, codec.ErrInvalid},
		{wit.S64, "cf ffffffffffffffff", `codec: expected s64, got int 18446744073709551615`, codec.ErrInvalid},
		{wit.U32, "ca 3f800000", `codec: expected u32, got float 1`, codec.ErrInvalid},
		{wit.Bool, "c0", `codec: expected bool, got nil`, codec.ErrInvalid},
		{wit.Bool, "01", `codec: expected bool, got int 1`, codec.ErrInvalid},
		{wit.F32, "cb 3fb999999999999a", `codec: expected f32, got float 0.1 (not exact in f32)`, codec.ErrInvalid},
		{wit.F64, "cf 0020000000000001", `codec: expected f64, got int 9007199254740993 (not exact in f64)`, codec.ErrInvalid},
		{wit.F64, "a0", `codec: expected f64, got string ""`, codec.ErrInvalid},
		{wit.Char, "a2 6162", `codec: expected char, got string "ab"`, codec.ErrInvalid},
		{wit.Char, "a0", `codec: expected char, got string ""`, codec.ErrInvalid},
		{wit.Char, "a3 eda080", `codec: expected char, got string "\xed\xa0\x80"`, codec.ErrInvalid},
		{wit.String, "a1 ff", `codec: string is not valid UTF-8: "\xff"`, codec.ErrInvalid},
		{wit.String, "c4 03 616263", `codec: expected string, got bin (3 bytes)`, codec.ErrInvalid},
		{wit.U8, "d9 28 " + strings.Repeat("61", 40),
			`codec: expected u8, got string "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"... (40 bytes)`, codec.ErrInvalid},
		{wit.ErrorContext, "00", `codec: error-context cannot be carried in a message`, codec.ErrUnsupported},
		{list(pet), "93 81 a56f776e6572 81 a46e616d65 a2616c 81 a56f776e6572 81 a46e616d65 a2616c 81 a56f776e6572 81 a46e616d65 07",
			`codec: [2].owner.name: expected string, got int 7`, codec.ErrInvalid},
		{point, "81 a178 01", `codec: missing field "y"`, codec.ErrInvalid},
		{point, "83 a178 01 a179 02 a17a 03", `codec: unknown field "z"`, codec.ErrInvalid},
		{point, "82 a178 01 a178 02", `codec: duplicate field "x"`, codec.ErrInvalid},
		{point, "82 01 01", `codec: expected string key, got int 1`, codec.ErrInvalid},
		{point, "92 01 02", `codec: expected record point, got array (2 elements)`, codec.ErrInvalid},
		{pet, "81 a56f776e6572 80", `codec: owner: missing field "name"`, codec.ErrInvalid},
		{shape, "82 a46e6f6e65 c0 a46e6f6e65 c0", `codec: expected variant shape (a map with one key), got map (2 entries)`, codec.ErrInvalid},
		{shape, "81 a3626f78 c0", `codec: unknown case "box" of variant shape`, codec.ErrInvalid},
		{shape, "81 a46e6f6e65 01", `codec: none: expected nil, got int 1`, codec.ErrInvalid},
		{shape, "81 a6636972636c65 a0", `codec: circle: expected f32, got string ""`, codec.ErrInvalid},
		{shape, "a46e6f6e65", `codec: expected variant shape (a map with one key), got string "none"`, codec.ErrInvalid},
		{color, "a4 70696e6b", `codec: unknown case "pink" of enum color`, codec.ErrInvalid},
		{color, "00", `codec: expected enum color, got int 0`, codec.ErrInvalid},
		{perms, "92 a472656164 a472656164", `codec: [1]: duplicate flag "read"`, codec.ErrInvalid},
		{perms, "91 a3626f6f", `codec: [0]: unknown flag "boo" of flags perms`, codec.ErrInvalid},
		{perms, "91 01", `codec: [0]: expected flag name, got int 1`, codec.ErrInvalid},
		{option(option(wit.U32)), "c0", `codec: option<option<u32>> is not supported: none and some(none) would both be nil`, codec.ErrUnsupported},
		{option(wit.U32), "a0", `codec: expected u32, got string ""`, codec.ErrInvalid},
		{result(wit.U32, nil), "81 a3657272 01", `codec: err: expected nil, got int 1`, codec.ErrInvalid},
		{result(wit.U32, nil), "81 a26f6b a0", `codec: ok: expected u32, got string ""`, codec.ErrInvalid},
		{result(wit.U32, nil), "81 a141 01", `codec: unknown case "A" of result<u32> (want "ok" or "err")`, codec.ErrInvalid},
		{tuple(wit.U8, wit.String), "93 01 a0 a0", `codec: expected tuple<u8, string>, got array (3 elements)`, codec.ErrInvalid},
		{tuple(wit.U8, wit.String), "92 01 02", `codec: [1]: expected string, got int 2`, codec.ErrInvalid},
		{list(wit.U8), "a3 616263", `codec: expected list<u8>, got string "abc"`, codec.ErrInvalid},
		{list(wit.U8), "92 01 cd 012c", `codec: [1]: expected u8, got int 300`, codec.ErrInvalid},
		{fixed(wit.U8, 2), "c4 03 010203", `codec: expected list<u8, 2>, got bin (3 bytes)`, codec.ErrInvalid},
		{fixed(wit.U32, 2), "91 01", `codec: expected list<u32, 2>, got array (1 elements)`, codec.ErrInvalid},
		{list(wit.String), "c4 00", `codec: expected list<string>, got bin (0 bytes)`, codec.ErrInvalid},
		{mapOf(wit.String, wit.U8), "82 a161 01 a161 02", `codec: ["a"]: duplicate key`, codec.ErrInvalid},
		{mapOf(wit.String, mapOf(wit.String, wit.U8)), "83 a161 82 a178 01 a179 02 a162 81 a178 01 a161 80", `codec: ["a"]: duplicate key`, codec.ErrInvalid},
		{mapOf(wit.U16, wit.U8), "82 05 01 cd 0005 02", `codec: ["5"]: duplicate key`, codec.ErrInvalid},
		{mapOf(wit.U32, wit.U8), "81 a161 01", `codec: key: expected u32, got string "a"`, codec.ErrInvalid},
		{mapOf(wit.String, wit.U8), "81 a161 a0", `codec: ["a"]: expected u8, got string ""`, codec.ErrInvalid},
		{mapOf(wit.F32, wit.U8), "80", `codec: map key type f32 is not supported`, codec.ErrUnsupported},
		{own(resource), "cf 0000000100000000", `codec: expected handle own<file>, got int 4294967296`, codec.ErrInvalid},
		{borrow(resource), "c0", `codec: expected handle borrow<file>, got nil`, codec.ErrInvalid},
		{anon(&wit.Future{Elem: wit.U8}), "00", `codec: future<u8> cannot be carried in a message`, codec.ErrUnsupported},
		{anon(&wit.Stream{}), "00", `codec: stream cannot be carried in a message`, codec.ErrUnsupported},
		{alias("count", wit.U8), "a0", `codec: expected u8, got string ""`, codec.ErrInvalid},
		{nil, "01", `codec: expected nil, got int 1`, codec.ErrInvalid},
		// Malformed input.
		{wit.U32, "", `codec: unexpected end of input`, codec.ErrMalformed},
		{wit.U32, "01 02", `codec: 1 trailing bytes after the value`, codec.ErrMalformed},
		{wit.U32, "cd 01", `codec: unexpected end of input`, codec.ErrMalformed},
		{wit.U32, "c1", `codec: invalid msgpack byte 0xc1`, codec.ErrMalformed},
		{wit.String, "a5 6162", `codec: unexpected end of input`, codec.ErrMalformed},
		{list(wit.U8), "c6 ffffffff 00", `codec: unexpected end of input`, codec.ErrMalformed},
		{list(wit.U32), "dd ffffffff", `codec: array of 4294967295 elements in 0 bytes`, codec.ErrMalformed},
		{mapOf(wit.String, wit.U8), "df ffffffff 00", `codec: map of 4294967295 entries in 1 bytes`, codec.ErrMalformed},
		{point, "df ffffffff a178 01", `codec: unexpected end of input`, codec.ErrMalformed},
		{list(wit.U32), "92 01", `codec: array of 2 elements in 1 bytes`, codec.ErrMalformed},
		{list(wit.U32), "92 01 a1", `codec: [1]: unexpected end of input`, codec.ErrMalformed},
		// Limits.
		{deep, strings.Repeat("91", 73) + "c4 00", `codec: [0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: nesting exceeds depth limit of 64`, codec.ErrLimit},
	} {
		err := codec.Validate(c.typ, unhex(t, c.in))
		checkErr(t, "Validate", c, err)
		// ToJSON and Unmarshal share Validate's walker; they must agree.
		_, err = codec.ToJSON(c.typ, unhex(t, c.in))
		checkErr(t, "ToJSON", c, err)
		_, err = codec.Unmarshal(c.typ, unhex(t, c.in))
		checkErr(t, "Unmarshal", c, err)
		_, err = codec.Canonical(c.typ, unhex(t, c.in))
		checkErr(t, "Canonical", c, err)
	}
}

func checkErr(t *testing.T, op string, c badCase, err error) {
	t.Helper()
	var e *codec.Error
	if err == nil || err.Error() != c.want || !errors.Is(err, c.kind) || !errors.As(err, &e) {
		t.Errorf("%s(%v, %s):\n got %v\nwant %s (%v)", op, c.typ, c.in, err, c.want, c.kind)
	}
}

// TestCanonicalRewrites feeds Canonical values spelled every other way a
// reader accepts; each must come out as the one canonical spelling.
func TestCanonicalRewrites(t *testing.T) {
	abc := record("abc", field("a", wit.U8), field("b", list(wit.U8)), field("c", mapOf(wit.String, wit.S64)))
	for _, c := range []struct {
		typ      wit.Type
		in, want string
	}{
		{wit.U8, "d3 0000000000000005", "05"},
		{wit.U64, "d0 05", "05"},
		{wit.S64, "d1 00c8", "cc c8"},
		{wit.S64, "cf 0000000000000100", "cd 0100"},
		{wit.S32, "d2 ffffffe0", "e0"},
		{wit.S32, "d3 ffffffffffffff7f", "d1 ff7f"},
		{wit.U32, "cd 007f", "7f"},
		{wit.F32, "cb 3ff8000000000000", "ca 3fc00000"},
		{wit.F32, "01", "ca 3f800000"},
		{wit.F64, "ca 3fc00000", "cb 3ff8000000000000"},
		{wit.F64, "ca 80000000", "cb 8000000000000000"}, // -0 stays -0
		{wit.F64, "cb 7ff0000000000001", "cb 7ff8000000000000"},
		{wit.String, "d9 01 61", "a1 61"},
		{wit.String, "db 00000002 6869", "a2 6869"},
		{wit.Char, "da 0002 c3a9", "a2 c3a9"},
		{color, "d9 03 726564", "a3 726564"},
		{list(wit.U8), "c5 0001 00", "c4 01 00"},
		{list(wit.U8), "93 01 02 cc ff", "c4 03 0102ff"},
		{list(wit.U32), "dc 0001 d0 01", "91 01"},
		{tuple(wit.U8, wit.Bool), "dd 00000002 cc 01 c3", "92 01 c3"},
		{perms, "92 a465786563 a472656164", "92 a472656164 a465786563"},
		{perms, "dc 0001 d9 04 72656164", "91 a472656164"},
		{point, "82 a179 fe a178 01", "82 a178 01 a179 fe"},
		{point, "de 0002 a178 cc 01 d9 01 79 d0 fe", "82 a178 01 a179 fe"},
		{abc, "83 a163 82 a162 05 a161 d3ffffffffffffffff a162 92 01 02 a161 07",
			"83 a161 07 a162 c4 02 0102 a163 82 a161 ff a162 05"},
		{shape, "de 0001 a6636972636c65 cb 4000000000000000", "81 a6636972636c65 ca 40000000"},
		{result(wit.U32, wit.String), "df 00000001 d9 03 657272 d9 01 78", "81 a3657272 a178"},
		{option(wit.U8), "d0 01", "01"},
		{mapOf(wit.U16, wit.U8), "83 cd 0100 01 02 02 cc ff 03", "83 02 02 cc ff 03 cd 0100 01"},
		{mapOf(wit.S8, wit.U8), "83 01 00 ff 01 d0 80 02", "83 d0 80 02 ff 01 01 00"},
		{mapOf(wit.String, mapOf(wit.String, wit.U8)), "82 a162 82 a179 01 a178 02 a161 80",
			"82 a161 80 a162 82 a178 02 a179 01"},
		{mapOf(color, wit.U8), "83 a3726564 00 a4626c7565 01 a5677265656e 02", "83 a4626c7565 01 a5677265656e 02 a3726564 00"},
		{list(point), "92 82 a179 00 a178 00 82 a178 01 a179 01", "92 82 a178 00 a179 00 82 a178 01 a179 01"},
	} {
		in, want := unhex(t, c.in), unhex(t, c.want)
		got, err := codec.Canonical(c.typ, in)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("Canonical(%v, %s) = %x, %v; want %x", c.typ, c.in, got, err, want)
			continue
		}
		again, err := codec.Canonical(c.typ, got)
		if err != nil || !bytes.Equal(again, got) || &again[0] != &got[0] {
			t.Errorf("Canonical(%v, %x) = %x, %v: not idempotent or copied", c.typ, got, again, err)
		}
		js, _ := codec.ToJSON(c.typ, in)
		if fj, err := codec.FromJSON(c.typ, js); err != nil || !bytes.Equal(fj, want) {
			t.Errorf("FromJSON(ToJSON(%v, %s) = %s) = %x, %v; want %x", c.typ, c.in, js, fj, err, want)
		}
	}
}

// TestCanonicalNoCopy checks the hot path: canonical input comes back as
// the same slice, with no allocation.
func TestCanonicalNoCopy(t *testing.T) {
	data, err := codec.FromJSON(benchRecord, []byte(benchRecordJSON))
	if err != nil {
		t.Fatal(err)
	}
	got, err := codec.Canonical(benchRecord, data)
	if err != nil || &got[0] != &data[0] || len(got) != len(data) {
		t.Fatalf("Canonical(canonical) = %x, %v; want the input itself", got, err)
	}
	m := mapOf(wit.String, list(wit.U32))
	mdata, err := codec.FromJSON(m, []byte(`{"a":[1,2],"b":[],"c":[70000]}`))
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func(){
		"record":       func() { _, _ = codec.Canonical(benchRecord, data) },
		"map":          func() { _, _ = codec.Canonical(m, mdata) },
		"map validate": func() { _ = codec.Validate(m, mdata) },
	} {
		if allocs := testing.AllocsPerRun(100, f); allocs != 0 {
			t.Errorf("%s: allocated %v times", name, allocs)
		}
	}
}
