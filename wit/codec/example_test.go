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
		X     uint32
		Label *string `wit:"label"`
	}
	data, _ := codec.Marshal(examplePoint, Point{X: 3})
	fmt.Printf("% x\n", data)
	// Output:
	// 82 a1 78 03 a5 6c 61 62 65 6c c0
}
