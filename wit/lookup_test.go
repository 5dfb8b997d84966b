package wit

import (
	"errors"
	"testing"
)

func TestModelTypeExpressions(t *testing.T) {
	m, err := Load("testdata/full")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ ref, want string }{
		{"u32", "u32"},
		{"types.file", "file"},
		{"example:app/types.file", "file"},
		{"example:app/types@1.0.0.file", "file"},
		{"list<u8>", "list<u8>"},
		{"list<f32, 4>", "list<f32, 4>"},
		{"option<list<string>>", "option<list<string>>"},
		{"result", "result"},
		{"result<u32>", "result<u32>"},
		{"result<_, string>", "result<_, string>"},
		{"result<u32, string>", "result<u32, string>"},
		{" tuple< u8 ,s64 > ", "tuple<u8, s64>"},
		{"map<string, u64>", "map<string, u64>"},
		{"borrow<types.file>", "borrow<file>"},
		{"own<types.file>", "file"},
		{"future", "future"},
		{"stream<u8>", "stream<u8>"},
	} {
		got, err := m.Type(tc.ref)
		if err != nil {
			t.Errorf("Type(%q): %v", tc.ref, err)
			continue
		}
		if got.String() != tc.want {
			t.Errorf("Type(%q) = %s, want %s", tc.ref, got, tc.want)
		}
	}
}

func TestModelTypeExpressionErrors(t *testing.T) {
	m, err := Load("testdata/full")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ ref, want string }{
		{"", `wit: type "": expected a type at offset 0`},
		{"nope", `wit: type "nope" not found: expected a primitive or iface.name`},
		{"types.nope", `wit: type "nope" not found in interface example:app/types@1.0.0`},
		{"list<u8", `wit: type "list<u8": expected "," at offset 7`},
		{"list<u8>>", `wit: type "list<u8>>": unexpected ">" at offset 8`},
		{"list<u8, 0>", `wit: type "list<u8, 0>": fixed-size list length "0" is not a whole number from 1 to 4294967295`},
		{"option<u8, u8>", `wit: type "option<u8, u8>": option takes 1 type argument(s), got 2`},
		{"list<u8, 4, 5>", `wit: type "list<u8, 4, 5>": expected a length and '>' after list<T,`},
		{"list<u8,>", `wit: type "list<u8,>": expected a length and '>' after list<T,`},
		{"result<_>", `wit: type "result<_>": '_' is only allowed as the ok type of result<_, E>`},
		{"u32<u8>", `wit: type "u32<u8>": "u32" takes no type arguments`},
		{"borrow<u32>", `wit: type "borrow<u32>": borrow of u32, which is not a resource`},
		{"list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<u8>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>",
			`wit: type "list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<list<u8>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>": nested deeper than 32`},
	} {
		_, err := m.Type(tc.ref)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Type(%q) error = %v, want %s", tc.ref, err, tc.want)
			continue
		}
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("Type(%q) error does not wrap ErrNotFound", tc.ref)
		}
	}
}

// TestUnstableDeprecated: @deprecated may stand beside @unstable as well as
// beside @since.
func TestUnstableDeprecated(t *testing.T) {
	src := "package a:b@1.0.0;\n\ninterface i {\n  @unstable(feature = fancy)\n  @deprecated(version = 1.0.0)\n  f: func();\n}\n"
	m, err := Parse("gates.wit", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	i, err := m.Interface("i")
	if err != nil {
		t.Fatal(err)
	}
	want := Stability{Unstable: "fancy", Deprecated: "1.0.0"}
	if got := i.Function("f").Stability; got != want {
		t.Fatalf("stability %+v, want %+v", got, want)
	}
}
