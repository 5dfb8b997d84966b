package codec_test

import (
	"errors"
	"fmt"

	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

// record point { x: u32, label: option<string> }
var examplePoint = &wit.TypeDef{Name: "point", Kind: &wit.Record{Fields: []wit.Field{
	{Name: "x", Type: wit.U32},
	{Name: "label", Type: &wit.TypeDef{Kind: &wit.Option{Type: wit.String}}},
}}}

func ExampleFromJSON() {
	data, err := codec.FromJSON(examplePoint, []byte(`{"label": "origin", "x": 0}`))
	if err != nil {
		panic(err)
	}
	fmt.Printf("% x\n", data) // fields in declaration order
	js, _ := codec.ToJSON(examplePoint, data)
	fmt.Println(string(js))
	// Output:
	// 82 a1 78 00 a5 6c 61 62 65 6c a6 6f 72 69 67 69 6e
	// {"x":0,"label":"origin"}
}

func ExampleValidate() {
	points := &wit.TypeDef{Kind: &wit.List{Elem: examplePoint}}
	data, _ := codec.Marshal(points, []any{
		map[string]any{"x": 1, "label": nil},
		map[string]any{"x": 2, "label": "two"},
	})
	fmt.Println(codec.Validate(points, data))

	data[len(data)-4] = 0x07 // replace the "two" string header with the int 7
	err := codec.Validate(points, data[:len(data)-3])
	fmt.Println(err)
	fmt.Println(errors.Is(err, codec.ErrInvalid))
	// Output:
	// <nil>
	// codec: [1].label: expected string, got int 7
	// true
}

func ExampleUnmarshal() {
	shape := &wit.TypeDef{Name: "shape", Kind: &wit.Variant{Cases: []wit.Case{
		{Name: "circle", Type: wit.F32},
		{Name: "none"},
	}}}
	v, _ := codec.Unmarshal(shape, []byte{0x81, 0xa6, 'c', 'i', 'r', 'c', 'l', 'e', 0xca, 0x40, 0, 0, 0})
	fmt.Printf("%#v\n", v)
	// Output:
	// codec.Variant{Case:"circle", Value:2}
}

func ExampleMarshal() {
	type Point struct {
		X     uint32  `msgpack:"x"`
		Label *string `msgpack:"label"`
	}
	data, _ := codec.Marshal(examplePoint, Point{X: 3})
	fmt.Printf("% x\n", data)
	// Output:
	// 82 a1 78 03 a5 6c 61 62 65 6c c0
}

func ExampleCanonical() {
	// An s64 of 200 as three encoders spell it: msgpack/v5's default,
	// a signed-only writer, and the canonical form.
	for _, in := range [][]byte{
		{0xd3, 0, 0, 0, 0, 0, 0, 0, 0xc8},
		{0xd1, 0x00, 0xc8},
		{0xcc, 0xc8},
	} {
		out, _ := codec.Canonical(wit.S64, in)
		fmt.Printf("% x -> % x\n", in, out)
	}
	// Output:
	// d3 00 00 00 00 00 00 00 c8 -> cc c8
	// d1 00 c8 -> cc c8
	// cc c8 -> cc c8
}

func ExampleDecode() {
	type Point struct {
		X     uint32  `msgpack:"x"`
		Label *string `msgpack:"label"`
	}
	var p Point
	err := codec.Decode(examplePoint, []byte{0x82, 0xa5, 'l', 'a', 'b', 'e', 'l', 0xa2, 'h', 'i', 0xa1, 'x', 0x07}, &p)
	fmt.Println(p.X, *p.Label, err)
	// Output:
	// 7 hi <nil>
}

// A Go number narrower than its WIT type takes the values it can hold and
// refuses the others; a Go type of another shape is refused before any
// bytes are read.
func ExampleCheckDecode() {
	var small uint8
	fmt.Println(codec.CheckDecode(wit.U64, &small))
	fmt.Println(codec.Decode(wit.U64, []byte{0xcc, 0xc8}, &small), small)
	fmt.Println(codec.Decode(wit.U64, []byte{0xcd, 0x01, 0x2c}, &small), small)
	var s string
	err := codec.CheckDecode(wit.U64, &s)
	fmt.Println(err, errors.Is(err, codec.ErrGoType))
	// Output:
	// <nil>
	// <nil> 200
	// codec: u64 300 does not fit Go type uint8 200
	// codec: Go type string cannot hold u64 true
}
