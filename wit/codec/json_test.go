package codec_test

import (
	"bytes"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

func TestFromJSONErrors(t *testing.T) {
	for _, c := range []badCase{
		{wit.U32, `"ten"`, `codec: expected u32, got string "ten"`, codec.ErrInvalid},
		{wit.U32, `1.5`, `codec: expected u32, got number 1.5`, codec.ErrInvalid},
		{wit.U32, `1e3`, `codec: expected u32, got number 1e3`, codec.ErrInvalid},
		{wit.U32, `1.0`, `codec: expected u32, got number 1.0`, codec.ErrInvalid},
		{wit.U8, `256`, `codec: expected u8, got number 256`, codec.ErrInvalid},
		{wit.U64, `18446744073709551616`, `codec: expected u64, got number 18446744073709551616`, codec.ErrInvalid},
		{wit.S64, `-9223372036854775809`, `codec: expected s64, got number -9223372036854775809`, codec.ErrInvalid},
		{wit.U32, `-1`, `codec: expected u32, got number -1`, codec.ErrInvalid},
		{wit.U32, `null`, `codec: expected u32, got null`, codec.ErrInvalid},
		{wit.U32, `true`, `codec: expected u32, got bool true`, codec.ErrInvalid},
		{wit.U32, `{}`, `codec: expected u32, got object`, codec.ErrInvalid},
		{wit.U32, `[]`, `codec: expected u32, got array`, codec.ErrInvalid},
		{wit.U32, `1` + strings.Repeat("0", 40), `codec: expected u32, got number 10000000000000000000000000000000...`, codec.ErrInvalid},
		{wit.Bool, `1`, `codec: expected bool, got number 1`, codec.ErrInvalid},
		{wit.F32, `1e39`, `codec: expected f32, got number 1e39 (out of range)`, codec.ErrInvalid},
		{wit.F64, `"nan"`, `codec: expected f64, got string "nan"`, codec.ErrInvalid},
		{wit.F64, `null`, `codec: expected f64, got null`, codec.ErrInvalid},
		{wit.Char, `"ab"`, `codec: expected char, got string "ab"`, codec.ErrInvalid},
		{wit.String, `"\ud800"`, `codec: string contains a lone surrogate at offset 1`, codec.ErrInvalid},
		{wit.String, `"\udc00\ud800"`, `codec: string contains a lone surrogate at offset 1`, codec.ErrInvalid},
		{wit.String, "\"\xff\"", `codec: invalid UTF-8 in JSON string at offset 1`, codec.ErrMalformed},
		{wit.String, "\"a\x01\"", `codec: invalid character '\x01' at offset 2`, codec.ErrMalformed},
		{wit.String, `"\x"`, `codec: invalid escape at offset 1`, codec.ErrMalformed},
		{wit.String, `"\u12"`, `codec: invalid \u escape at offset 1`, codec.ErrMalformed},
		{wit.String, `"abc`, `codec: unexpected end of JSON input`, codec.ErrMalformed},
		{point, `{"x":1}`, `codec: missing field "y"`, codec.ErrInvalid},
		{point, `{"x":1,"y":2,"z":3}`, `codec: unknown field "z"`, codec.ErrInvalid},
		{point, `{"x":1,"x":2}`, `codec: duplicate field "x"`, codec.ErrInvalid},
		{point, `{"x":1,}`, `codec: invalid character '}' at offset 7`, codec.ErrMalformed},
		{point, `{"x":1 "y":2}`, `codec: invalid character '"' at offset 7`, codec.ErrMalformed},
		{point, `{"x":1,"y":2}x`, `codec: invalid character 'x' at offset 13`, codec.ErrMalformed},
		{point, `{"x":01}`, `codec: invalid character '1' at offset 6`, codec.ErrMalformed},
		{point, `{"x":-}`, `codec: x: invalid character '}' at offset 6`, codec.ErrMalformed},
		{point, `{"x":tru}`, `codec: x: invalid character '}' at offset 8`, codec.ErrMalformed},
		{point, ``, `codec: unexpected end of JSON input`, codec.ErrMalformed},
		{point, `[1,2]`, `codec: expected record point, got array`, codec.ErrInvalid},
		{list(pet), `[{"owner":{"name":"a"}},{"owner":{"name":"b"}},{"owner":{"name":7}}]`,
			`codec: [2].owner.name: expected string, got number 7`, codec.ErrInvalid},
		{shape, `{}`, `codec: expected variant shape (an object with one key), got empty object`, codec.ErrInvalid},
		{shape, `{"none":null,"circle":1}`, `codec: expected variant shape (an object with one key), got object with more than one key`, codec.ErrInvalid},
		{shape, `{"box":null}`, `codec: unknown case "box" of variant shape`, codec.ErrInvalid},
		{mapOf(wit.String, mapOf(wit.String, wit.U8)), `{"a":{"x":1,"y":2},"b":{"x":1},"a":{}}`, `codec: ["a"]: duplicate key`, codec.ErrInvalid},
		{shape, `{"none":1}`, `codec: none: expected null, got number 1`, codec.ErrInvalid},
		{shape, `"none"`, `codec: expected variant shape (an object with one key), got string "none"`, codec.ErrInvalid},
		{color, `"pink"`, `codec: unknown case "pink" of enum color`, codec.ErrInvalid},
		{perms, `["read","read"]`, `codec: [1]: duplicate flag "read"`, codec.ErrInvalid},
		{perms, `["boo"]`, `codec: [0]: unknown flag "boo" of flags perms`, codec.ErrInvalid},
		{perms, `[1]`, `codec: [0]: expected flag name, got number 1`, codec.ErrInvalid},
		{option(option(wit.U32)), `null`, `codec: option<option<u32>> is not supported: none and some(none) would both be nil`, codec.ErrUnsupported},
		{result(wit.U32, nil), `{"err":1}`, `codec: err: expected null, got number 1`, codec.ErrInvalid},
		{result(wit.U32, nil), `{"Ok":1}`, `codec: unknown case "Ok" of result<u32> (want "ok" or "err")`, codec.ErrInvalid},
		{tuple(wit.U8, wit.String), `[1,"a","b"]`, `codec: expected tuple<u8, string>, got array of more than 2 elements`, codec.ErrInvalid},
		{tuple(wit.U8, wit.String), `[1]`, `codec: expected tuple<u8, string>, got array of 1 elements`, codec.ErrInvalid},
		{list(wit.U8), `"AQI"`, `codec: expected list<u8> (base64), got string "AQI"`, codec.ErrInvalid},
		{list(wit.U8), `[1,256]`, `codec: [1]: expected u8, got number 256`, codec.ErrInvalid},
		{list(wit.U8), `{}`, `codec: expected list<u8>, got object`, codec.ErrInvalid},
		{fixed(wit.U8, 2), `"AQID"`, `codec: expected list<u8, 2>, got base64 of 3 bytes`, codec.ErrInvalid},
		{fixed(wit.U8, 2), `[1,2,3]`, `codec: expected list<u8, 2>, got array of more than 2 elements`, codec.ErrInvalid},
		{fixed(wit.String, 2), `["a"]`, `codec: expected list<string, 2>, got array of 1 elements`, codec.ErrInvalid},
		{mapOf(wit.String, wit.U8), `{"a":1,"a":2}`, `codec: ["a"]: duplicate key`, codec.ErrInvalid},
		{mapOf(wit.U32, wit.U8), `{"01":1}`, `codec: key: expected u32, got key "01"`, codec.ErrInvalid},
		{mapOf(wit.S32, wit.U8), `{"-0":1}`, `codec: key: expected s32, got key "-0"`, codec.ErrInvalid},
		{mapOf(wit.Bool, wit.U8), `{"yes":1}`, `codec: key: expected bool, got key "yes"`, codec.ErrInvalid},
		{mapOf(color, wit.U8), `{"pink":1}`, `codec: key: expected enum color, got key "pink"`, codec.ErrInvalid},
		{mapOf(wit.Char, wit.U8), `{"ab":1}`, `codec: key: expected char, got key "ab"`, codec.ErrInvalid},
		{mapOf(wit.String, wit.U8), `{"a":"b"}`, `codec: ["a"]: expected u8, got string "b"`, codec.ErrInvalid},
		{mapOf(wit.String, wit.U8), `{"a":1,}`, `codec: invalid character '}' at offset 7`, codec.ErrMalformed},
		{mapOf(list(wit.U8), wit.U8), `{}`, `codec: map key type list<u8> is not supported`, codec.ErrUnsupported},
		{own(resource), `-1`, `codec: expected handle own<file>, got number -1`, codec.ErrInvalid},
		{anon(&wit.Future{}), `1`, `codec: future cannot be carried in a message`, codec.ErrUnsupported},
		{nil, `0`, `codec: expected null, got number 0`, codec.ErrInvalid},
		{nil, `nul`, `codec: unexpected end of JSON input`, codec.ErrMalformed},
	} {
		_, err := codec.FromJSON(c.typ, []byte(c.in))
		checkErr(t, "FromJSON", c, err)
	}
}

func TestMarshal(t *testing.T) {
	type Owner struct {
		Name string `msgpack:"name"`
	}
	type Pet struct {
		Owner    Owner   `msgpack:"owner"`
		Nickname *string `msgpack:"nick"`
		Skipped  int     `msgpack:"-"`
		hidden   int
	}
	nick := "rex"
	pet2 := record("pet", field("owner", person), field("nick", option(wit.String)))
	type Level uint8
	type Names []string
	for _, c := range []struct {
		typ wit.Type
		v   any
		hex string
	}{
		{pet2, Pet{Owner: Owner{"al"}, Nickname: &nick}, "82 a56f776e6572 81 a46e616d65 a2616c a46e69636b a3726578"},
		{pet2, &Pet{Owner: Owner{"al"}}, "82 a56f776e6572 81 a46e616d65 a2616c a46e69636b c0"},
		{record("r", field("owner-id", wit.U8), field("http-server", wit.U8)),
			struct {
				OwnerID    int `msgpack:"owner-id"`
				HTTPServer int `msgpack:"http-server"`
			}{1, 2}, "82 a86f776e65722d6964 01 ab687474702d736572766572 02"},
		{record("r", field("b", wit.U8), field("a", wit.U8)),
			struct {
				A int `msgpack:"a"`
				B int `msgpack:"b"`
			}{1, 2}, "82 a162 02 a161 01"},
		{wit.Char, 'é', "a2 c3a9"},
		{list(wit.String), []string(nil), "90"},
		{mapOf(wit.Char, wit.U8), map[rune]uint8{'b': 1, 'a': 2}, "82 a161 02 a162 01"},
		{wit.U8, 200, "cc c8"},
		{wit.U8, Level(3), "03"},
		{wit.S8, uint64(5), "05"},
		{wit.U64, int8(5), "05"},
		{wit.F32, 1.5, "ca 3fc00000"},
		{wit.F64, float32(1.5), "cb 3ff8000000000000"},
		{wit.F64, 3, "cb 4008000000000000"},
		{wit.Char, "é", "a2 c3a9"},
		{list(wit.String), Names{"a"}, "91 a161"},
		{list(wit.U32), []uint32{1, 2}, "92 01 02"},
		{list(wit.U8), [2]byte{1, 2}, "c4 02 0102"},
		{list(wit.U8), []any{1, uint8(2)}, "c4 02 0102"},
		{fixed(wit.U8, 2), []byte{1, 2}, "c4 02 0102"},
		{perms, []string{"exec", "read"}, "92 a472656164 a465786563"},
		{mapOf(wit.String, wit.U8), map[string]int{"b": 1, "a": 2}, "82 a161 02 a162 01"},
		{mapOf(wit.S16, wit.Bool), map[int]bool{3: true, -1: false}, "82 ff c2 03 c3"},
		{tuple(wit.U8, wit.Bool), [2]any{1, true}, "92 01 c3"},
		{option(wit.U32), (*int)(nil), "c0"},
		{shape, &codec.Variant{Case: "none"}, "81 a46e6f6e65 c0"},
	} {
		got, err := codec.Marshal(c.typ, c.v)
		if want := unhex(t, c.hex); err != nil || string(got) != string(want) {
			t.Errorf("Marshal(%v, %#v) = %x, %v; want %x", c.typ, c.v, got, err, want)
		}
	}
}

func TestMarshalErrors(t *testing.T) {
	type P struct {
		X int `msgpack:"x"`
		Y int `msgpack:"y"`
		Z int `msgpack:"z"`
	}
	for _, c := range []struct {
		typ  wit.Type
		v    any
		want string
		kind error
	}{
		{wit.U8, 300, `codec: expected u8, got int 300`, codec.ErrInvalid},
		{wit.U8, 1.0, `codec: expected u8, got float 1`, codec.ErrInvalid},
		{wit.String, 5, `codec: expected string, got int 5`, codec.ErrInvalid},
		{wit.String, "\xff", `codec: string is not valid UTF-8: "\xff"`, codec.ErrInvalid},
		{wit.Bool, nil, `codec: expected bool, got nil`, codec.ErrInvalid},
		{wit.F32, 0.1, `codec: expected f32, got float 0.1 (not exact in f32)`, codec.ErrInvalid},
		{wit.F64, uint64(1<<53 + 1), `codec: expected f64, got int 9007199254740993 (not exact in f64)`, codec.ErrInvalid},
		{wit.Char, rune(0xd800), `codec: expected char, got int 55296`, codec.ErrInvalid},
		{wit.Char, "ab", `codec: expected char, got string "ab"`, codec.ErrInvalid},
		{point, map[string]any{"x": 1}, `codec: missing field "y"`, codec.ErrInvalid},
		{point, map[string]any{"x": 1, "y": 2, "b": 0, "a": 0}, `codec: unknown field "a"`, codec.ErrInvalid},
		{point, P{1, 2, 3}, `codec: unknown field "z"`, codec.ErrInvalid},
		{point, map[string]any{"x": 1, "y": "2"}, `codec: y: expected s32, got string "2"`, codec.ErrInvalid},
		{point, 5, `codec: expected record point, got int 5`, codec.ErrInvalid},
		{list(pet), []any{nil, nil, map[string]any{"owner": map[string]any{"name": 7}}}, `codec: [0]: expected record pet, got nil`, codec.ErrInvalid},
		{list(pet), []any{map[string]any{"owner": map[string]any{"name": 7}}}, `codec: [0].owner.name: expected string, got int 7`, codec.ErrInvalid},
		{shape, codec.Variant{Case: "box"}, `codec: unknown case "box" of variant shape`, codec.ErrInvalid},
		{shape, codec.Variant{Case: "none", Value: 1}, `codec: none: expected nil, got int 1`, codec.ErrInvalid},
		{shape, "none", `codec: expected variant shape (a map with one key), got string "none"`, codec.ErrInvalid},
		{color, "pink", `codec: unknown case "pink" of enum color`, codec.ErrInvalid},
		{perms, []string{"read", "read"}, `codec: [1]: duplicate flag "read"`, codec.ErrInvalid},
		{perms, []any{1}, `codec: [0]: expected flag name, got int 1`, codec.ErrInvalid},
		{result(wit.U8, nil), codec.Err(1), `codec: err: expected nil, got int 1`, codec.ErrInvalid},
		{result(wit.U8, nil), 1, `codec: expected result<u8> (a map with one key), got int 1`, codec.ErrInvalid},
		{tuple(wit.U8), []any{1, 2}, `codec: expected tuple<u8>, got array (2 elements)`, codec.ErrInvalid},
		{list(wit.U8), []int{1, 256}, `codec: [1]: expected u8, got int 256`, codec.ErrInvalid},
		{fixed(wit.U8, 3), []byte{1}, `codec: expected list<u8, 3>, got bin (1 bytes)`, codec.ErrInvalid},
		{mapOf(wit.U8, wit.U8), codec.Map{{Key: 1, Value: 1}, {Key: uint8(1), Value: 2}}, `codec: ["1"]: duplicate key`, codec.ErrInvalid},
		{mapOf(wit.U8, wit.U8), codec.Map{{Key: -1, Value: 1}}, `codec: key: expected u8, got int -1`, codec.ErrInvalid},
		{mapOf(wit.String, wit.U8), map[string]string{"a": "x"}, `codec: ["a"]: expected u8, got string "x"`, codec.ErrInvalid},
		{own(resource), -1, `codec: expected handle own<file>, got int -1`, codec.ErrInvalid},
		{option(option(wit.U8)), nil, `codec: option<option<u8>> is not supported: none and some(none) would both be nil`, codec.ErrUnsupported},
		{anon(&wit.Stream{Elem: wit.U8}), nil, `codec: stream<u8> cannot be carried in a message`, codec.ErrUnsupported},
		{wit.U8, make(chan int), `codec: cannot encode Go value: Encode(unsupported chan int)`, codec.ErrInvalid},
	} {
		_, err := codec.Marshal(c.typ, c.v)
		if err == nil || err.Error() != c.want || !errors.Is(err, c.kind) {
			t.Errorf("Marshal(%v, %#v):\n got %v\nwant %s", c.typ, c.v, err, c.want)
		}
	}
}

func TestCheckType(t *testing.T) {
	good := record("ok", field("a", option(list(option(wit.U8)))), field("b", mapOf(color, own(resource))))
	if err := codec.CheckType(good); err != nil {
		t.Errorf("CheckType(good) = %v", err)
	}
	for _, c := range []struct {
		typ  wit.Type
		want string
	}{
		{record("r", field("a", variant("v", vcase("x", tuple(wit.U8, option(alias("o", option(wit.U8)))))))),
			`codec: a.x[1]: option<o> is not supported: none and some(none) would both be nil`},
		{result(nil, anon(&wit.Future{})), `codec: err: future cannot be carried in a message`},
		{list(mapOf(wit.F64, wit.U8)), `codec: map key type f64 is not supported`},
		{fixed(wit.ErrorContext, 1), `codec: error-context cannot be carried in a message`},
	} {
		err := codec.CheckType(c.typ)
		if err == nil || err.Error() != c.want || !errors.Is(err, codec.ErrUnsupported) {
			t.Errorf("CheckType(%v) = %v; want %s", c.typ, err, c.want)
		}
	}
}

func TestLimits(t *testing.T) {
	small := codec.Codec{Limits: codec.Limits{MaxDepth: 2, MaxBytes: 8}}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"Validate input", small.Validate(list(wit.U8), unhex(t, "c4 08 0000000000000000")), `codec: input of 10 bytes exceeds limit of 8`},
		{"FromJSON input", func() error { _, err := small.FromJSON(wit.String, []byte(`"abcdefgh"`)); return err }(), `codec: input of 10 bytes exceeds limit of 8`},
		{"FromJSON output", func() error { _, err := small.FromJSON(list(wit.F64), []byte(`[1,2]`)); return err }(), `codec: output exceeds limit of 8 bytes`},
		{"ToJSON output", func() error { _, err := small.ToJSON(list(wit.U32), unhex(t, "94 00 00 00 00")); return err }(), `codec: output exceeds limit of 8 bytes`},
		{"Marshal output", func() error { _, err := small.Marshal(wit.String, "abcdefghi"); return err }(), `codec: output exceeds limit of 8 bytes`},
		{"Unmarshal memory", func() error { _, err := small.Unmarshal(list(wit.U32), unhex(t, "94 00 00 00 00")); return err }(), `codec: decoded value exceeds memory limit of 32 bytes`},
		{"depth", func() error { _, err := small.FromJSON(list(list(list(wit.U8))), []byte(`[[[]]]`)); return err }(), `codec: [0][0]: nesting exceeds depth limit of 2`},
		{"Marshal depth", func() error {
			_, err := small.Marshal(list(list(list(wit.U8))), []any{[]any{[]byte{}}})
			return err
		}(), `codec: [0][0]: nesting exceeds depth limit of 2`},
	} {
		if c.err == nil || c.err.Error() != c.want || !errors.Is(c.err, codec.ErrLimit) {
			t.Errorf("%s: got %v; want %s", c.name, c.err, c.want)
		}
	}
}

// TestHugeHeader checks that a header claiming 2^32-1 elements fails
// before anything is allocated for them.
func TestHugeHeader(t *testing.T) {
	data := unhex(t, "dd ffffffff")
	for _, typ := range []wit.Type{list(wit.U32), list(wit.U8), fixed(wit.String, 1<<32-1)} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 100 {
			if err := codec.Validate(typ, data); !errors.Is(err, codec.ErrMalformed) && !errors.Is(err, codec.ErrInvalid) {
				t.Fatalf("Validate(%v) = %v", typ, err)
			}
		}
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; n > 100<<10 { // the errors themselves
			t.Errorf("100 Validate(%v) allocated %d bytes", typ, n)
		}
		if _, err := codec.Unmarshal(typ, data); err == nil {
			t.Errorf("Unmarshal(%v) succeeded", typ)
		}
	}
}

func TestValidateAllocs(t *testing.T) {
	data, err := codec.FromJSON(benchRecord, []byte(benchRecordJSON))
	if err != nil {
		t.Fatal(err)
	}
	if allocs := testing.AllocsPerRun(100, func() { _ = codec.Validate(benchRecord, data) }); allocs != 0 {
		t.Errorf("Validate allocated %v times", allocs)
	}
}

// TestToJSONStopsAtLimit checks that a list of small scalars, which grows
// several times over as JSON, fails at the output limit instead of after
// converting the whole list.
func TestToJSONStopsAtLimit(t *testing.T) {
	const n = 1 << 20
	data := append([]byte{0xdd, 0, 0x10, 0, 0}, bytes.Repeat([]byte{0xc2}, n)...) // array32 of n false
	c := codec.Codec{Limits: codec.Limits{MaxBytes: len(data)}}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := c.ToJSON(list(wit.Bool), data)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, codec.ErrLimit) {
		t.Fatalf("ToJSON of %d booleans under a %d-byte limit: %v", n, len(data), err)
	}
	// The output buffer grows by doubling up to just past the limit.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 6*uint64(len(data)) {
		t.Fatalf("allocated %d bytes for a %d-byte limit", alloc, len(data))
	}
}

// TestResultPathWithEscapedKey: the error path names the result case even
// when its key was written with a JSON escape.
func TestResultPathWithEscapedKey(t *testing.T) {
	_, err := codec.FromJSON(result(wit.U32, wit.String), []byte(`{"o\u006b": "\u0041\u0042"}`))
	if want := `codec: ok: expected u32, got string "AB"`; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

// TestDecode checks the plain Go types of each WIT kind both ways:
// Marshal writes the canonical bytes and Decode gives the value back.
func TestDecode(t *testing.T) {
	type Pair struct {
		_msgpack struct{} `msgpack:",as_array"`
		N        uint8
		S        string
	}
	type Rec struct {
		ID    uint64         `msgpack:"id"`
		Nick  *string        `msgpack:"nick"`
		Pair  Pair           `msgpack:"pair"`
		Shape codec.Variant  `msgpack:"shape"`
		Res   codec.Result   `msgpack:"res"`
		Perms []string       `msgpack:"perms"`
		Color string         `msgpack:"color"`
		Bytes []byte         `msgpack:"bytes"`
		Ch    string         `msgpack:"ch"`
		M     map[int16]bool `msgpack:"m"`
		Pts   []point2       `msgpack:"pts"`
		Opt   *codec.Variant `msgpack:"opt"`
		Fixed [2]uint32      `msgpack:"fixed"`
	}
	typ := record("rec",
		field("id", wit.U64),
		field("nick", option(wit.String)),
		field("pair", tuple(wit.U8, wit.String)),
		field("shape", shape),
		field("res", result(wit.U32, wit.String)),
		field("perms", perms),
		field("color", color),
		field("bytes", list(wit.U8)),
		field("ch", wit.Char),
		field("m", mapOf(wit.S16, wit.Bool)),
		field("pts", list(point)),
		field("opt", option(shape)),
		field("fixed", fixed(wit.U32, 2)))
	nick := "rex"
	in := Rec{ID: 1 << 40, Nick: &nick, Pair: Pair{N: 7, S: "s"}, Shape: codec.Variant{Case: "circle", Value: float32(2)},
		Res: codec.Err("bad"), Perms: []string{"exec", "read"}, Color: "blue", Bytes: []byte{1, 2}, Ch: "é",
		M: map[int16]bool{300: true, -1: false}, Pts: []point2{{1, -1}, {2, -2}}, Fixed: [2]uint32{5, 6}}
	data, err := codec.Marshal(typ, in)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := codec.ToJSON(typ, data)
	const wantJSON = `{"id":1099511627776,"nick":"rex","pair":[7,"s"],"shape":{"circle":2},"res":{"err":"bad"},"perms":["read","exec"],"color":"blue","bytes":"AQI=","ch":"é","m":{"-1":false,"300":true},"pts":[{"x":1,"y":-1},{"x":2,"y":-2}],"opt":null,"fixed":[5,6]}`
	if string(js) != wantJSON {
		t.Fatalf("Marshal = %s\nwant      %s", js, wantJSON)
	}
	var radius float32
	out := Rec{Shape: codec.Variant{Value: &radius}}
	if err := codec.Decode(typ, data, &out); err != nil {
		t.Fatal(err)
	}
	if radius != 2 || out.Shape.Case != "circle" {
		t.Errorf("variant payload = %v %v, want circle 2", out.Shape.Case, radius)
	}
	out.Shape.Value = float32(2)
	in.Perms = []string{"read", "exec"} // Decode gives declaration order
	if !reflect.DeepEqual(out, in) {
		t.Errorf("Decode =\n%#v\nwant\n%#v", out, in)
	}
	var m codec.Map
	if err := codec.Decode(mapOf(wit.S16, wit.String), unhex(t, "82 ff a161 cd0100 a162"), &m); err != nil ||
		!reflect.DeepEqual(m, codec.Map{{Key: int8(-1), Value: "a"}, {Key: uint16(256), Value: "b"}}) {
		t.Errorf("Decode into codec.Map = %#v, %v", m, err)
	}
	// A struct without a place for a field is an error, not a silent
	// drop, and the Go type's: it fails before any bytes are read.
	var short struct {
		X uint32 `msgpack:"x"`
	}
	err = codec.Decode(point, nil, &short)
	if !errors.Is(err, codec.ErrGoType) || !strings.Contains(err.Error(), `no field for "y"`) {
		t.Errorf("Decode into a struct without y: %v", err)
	}
	// Bytes that do not fit the type fail before anything is decoded.
	var full point2
	if err := codec.Decode(point, unhex(t, "81 a178 01"), &full); err == nil || err.Error() != `codec: missing field "y"` || full != (point2{}) {
		t.Errorf("Decode of a bad value: %v, %+v", err, full)
	}
}

type point2 struct {
	X uint32 `msgpack:"x"`
	Y int32  `msgpack:"y"`
}
