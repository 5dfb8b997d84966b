package wit_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/theater-go/theater/wit"
)

// TestResolveErrors checks the exact message and position of resolution
// errors. Each source is one file named test.wit.
func TestResolveErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"undefined type",
			"package a:b;\ninterface i {\n  f: func() -> foo;\n}",
			`wit: test.wit:3:16: undefined type "foo"`},
		{"duplicate type",
			"package a:b;\ninterface i {\n  type t = u32;\n  record t { x: u8 }\n}",
			`wit: test.wit:4:10: type "t" is already defined at test.wit:3:8`},
		{"duplicate type ignoring case",
			"package a:b;\ninterface i {\n  type t = u32;\n  type T = u8;\n}",
			`wit: test.wit:4:8: type "t" is already defined at test.wit:3:8`},
		{"duplicate function",
			"package a:b;\ninterface i {\n  f: func();\n  f: func(x: u32);\n}",
			`wit: test.wit:4:3: function "f" is already defined at test.wit:3:3`},
		{"function and type share a namespace",
			"package a:b;\ninterface i {\n  type f = u32;\n  f: func();\n}",
			`wit: test.wit:4:3: type "f" is already defined at test.wit:3:8`},
		{"function used as a type",
			"package a:b;\ninterface i {\n  f: func();\n  g: func(x: f);\n}",
			`wit: test.wit:4:14: function "f" is not a type`},
		{"duplicate interface",
			"package a:b;\ninterface i {}\ninterface i {}",
			`wit: test.wit:3:11: interface "i" is already defined at test.wit:2:11`},
		{"world and interface share a namespace",
			"package a:b;\ninterface i {}\nworld i {}",
			`wit: test.wit:3:7: interface "i" is already defined at test.wit:2:11`},
		{"duplicate world",
			"package a:b;\nworld w {}\nworld w {}",
			`wit: test.wit:3:7: world "w" is already defined at test.wit:2:7`},
		{"duplicate field",
			"package a:b;\ninterface i {\n  record r { x: u8, x: u16 }\n}",
			`wit: test.wit:3:21: field "x" is already defined at test.wit:3:14`},
		{"duplicate variant case",
			"package a:b;\ninterface i {\n  variant v { a, a(u8) }\n}",
			`wit: test.wit:3:18: case "a" is already defined at test.wit:3:15`},
		{"duplicate enum case",
			"package a:b;\ninterface i {\n  enum e { x, y, x }\n}",
			`wit: test.wit:3:18: case "x" is already defined at test.wit:3:12`},
		{"duplicate flag",
			"package a:b;\ninterface i {\n  flags f { r, r }\n}",
			`wit: test.wit:3:16: flag "r" is already defined at test.wit:3:13`},
		{"duplicate parameter",
			"package a:b;\ninterface i {\n  f: func(x: u8, x: u8);\n}",
			`wit: test.wit:3:18: parameter "x" is already defined at test.wit:3:11`},
		{"method parameter named self",
			"package a:b;\ninterface i {\n  resource r {\n    m: func(self: u8);\n  }\n}",
			`wit: test.wit:4:13: parameter "self" is already defined at test.wit:4:5`},
		{"duplicate method",
			"package a:b;\ninterface i {\n  resource r {\n    m: func();\n    m: func();\n  }\n}",
			`wit: test.wit:5:5: method "r.m" is already defined at test.wit:4:5`},
		{"two constructors",
			"package a:b;\ninterface i {\n  resource r {\n    constructor();\n    constructor(x: u8);\n  }\n}",
			`wit: test.wit:5:5: constructor of "r" is already defined at test.wit:4:5`},
		{"duplicate import",
			"package a:b;\nworld w {\n  import f: func();\n  import f: func(x: u8);\n}",
			`wit: test.wit:4:10: import "f" is already defined at test.wit:3:10`},
		{"duplicate export",
			"package a:b;\ninterface i {}\nworld w {\n  export i;\n  export i;\n}",
			`wit: test.wit:5:10: export "a:b/i" is already defined at test.wit:4:10`},
		{"type cycle",
			"package a:b;\ninterface i {\n  record a { b: b }\n  record b { a: option<a> }\n}",
			`wit: test.wit:3:10: type "a" refers to itself (a -> b -> a)`},
		{"type refers to itself",
			"package a:b;\ninterface i {\n  type foo = foo;\n}",
			`wit: test.wit:3:8: type "foo" refers to itself (foo -> foo)`},
		{"interface use cycle",
			"package a:b;\ninterface x {\n  use y.{t};\n  type u = u32;\n}\ninterface y {\n  use x.{u};\n  type t = u32;\n}",
			`wit: test.wit:2:11: interface "x" depends on itself (x -> y -> x)`},
		{"package cycle",
			"package a:root;\npackage a:x {\n  interface i { use a:y/j.{t}; type u = u32; }\n}\npackage a:y {\n  interface j { use a:x/i.{u}; type t = u32; }\n}",
			`wit: test.wit:6:21: package a:x depends on itself (a:x -> a:y -> a:x)`},
		{"version conflict",
			"package a:root;\ninterface i { use a:dep/j.{t}; }\npackage a:dep@1.0.0 { interface j { type t = u32; } }\npackage a:dep@2.0.0 { interface j { type t = u32; } }",
			`wit: test.wit:2:19: version conflict: package a:dep is loaded as 1.0.0 and 2.0.0; name a version`},
		{"unknown package",
			"package a:b;\ninterface i {\n  use wasi:io/poll@0.2.0.{pollable};\n}",
			`wit: test.wit:3:7: package wasi:io@0.2.0 not found`},
		{"unknown interface",
			"package a:b;\ninterface i {\n  use nope.{t};\n}",
			`wit: test.wit:3:7: interface "nope" not found in package a:b`},
		{"unknown interface in another package",
			"package a:b;\nworld w { import a:c/nope; }\npackage a:c { interface i {} }",
			`wit: test.wit:2:22: interface "nope" not found in package a:c`},
		{"used type not in interface",
			"package a:b;\ninterface i {}\ninterface j {\n  use i.{t};\n}",
			`wit: test.wit:4:10: type "t" not found in interface a:b/i`},
		{"include conflict without with",
			"package a:b;\nworld one { import a: func(); }\nworld two { import a: func(); }\nworld u {\n  include one;\n  include two;\n}",
			`wit: test.wit:6:11: import "a" of world a:b/two conflicts with import "a" at test.wit:2:20; rename it with "with"`},
		{"plain-named interfaces conflict",
			"package a:b;\ninterface store {}\nworld x { import cache: store; }\nworld y { import cache: store; }\nworld u {\n  include x;\n  include y;\n}",
			`wit: test.wit:7:11: import "cache" of world a:b/y conflicts with import "cache" at test.wit:3:18; rename it with "with"`},
		{"with names nothing",
			"package a:b;\nworld one { import a: func(); }\nworld u {\n  include one with { b as c }\n}",
			`wit: test.wit:4:22: world a:b/one has no import or export named "b"`},
		{"with cannot rename an interface name",
			"package a:b;\ninterface a {}\nworld one { import a; }\nworld u {\n  include one with { a as b }\n}",
			`wit: test.wit:5:22: world a:b/one has no import or export named "a"`},
		{"unknown included world",
			"package a:b;\nworld u {\n  include nope;\n}",
			`wit: test.wit:3:11: world "nope" not found in package a:b`},
		{"include cycle",
			"package a:b;\nworld x { include y; }\nworld y { include x; }",
			`wit: test.wit:2:7: world "x" includes itself (x -> y -> x)`},
		{"borrow of a non-resource",
			"package a:b;\ninterface i {\n  record bar { x: u8 }\n  f: func(b: borrow<bar>);\n}",
			`wit: test.wit:4:21: "bar" is not a resource`},
		{"own of a non-resource",
			"package a:b;\ninterface i {\n  type bar = u8;\n  f: func(b: own<bar>);\n}",
			`wit: test.wit:4:18: "bar" is not a resource`},
		{"constructor result",
			"package a:b;\ninterface i {\n  resource r {\n    constructor() -> result<u32>;\n  }\n}",
			`wit: test.wit:4:22: constructor of "r" must return result<r, E>, not result<u32>`},
		{"deprecated without since",
			"package a:b@1.0.0;\ninterface i {\n  @deprecated(version = 1.0.0)\n  f: func();\n}",
			`wit: test.wit:3:3: @deprecated requires @since or @unstable`},
		{"gates need a package version",
			"package a:b;\n@since(version = 1.0.0)\ninterface i {}",
			`wit: test.wit:2:1: package a:b uses feature gates but has no version`},
		{"package twice with different contents",
			"package a:root;\npackage a:dep { interface i {} }\npackage a:dep { interface j {} }",
			`wit: test.wit:3:1: package a:dep is defined twice with different contents (first at test.wit:2:1)`},
		{"file use alias shadows an interface",
			"package a:b;\nuse a:c/i;\ninterface i {}\npackage a:c { interface i {} }",
			`wit: test.wit:2:9: interface "i" is already defined at test.wit:3:11`},
		{"duplicate file use alias",
			"package a:b;\nuse a:c/i;\nuse a:c/j as i;\npackage a:c { interface i {} interface j {} }",
			`wit: test.wit:3:14: interface "i" is already defined at test.wit:2:9`},
		{"renamed twice",
			"package a:b;\nworld one { import a: func(); }\nworld u {\n  include one with { a as b, a as c }\n}",
			`wit: test.wit:4:30: "a" is renamed twice`},
		{"no package declaration",
			"interface i {}",
			`wit: test.wit:1:1: no package declaration for this item`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wit.Parse("test.wit", []byte(tt.src))
			if err == nil {
				t.Fatalf("no error, want %s", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got %s\nwant %s", err, tt.want)
			}
			var e *wit.Error
			if !errors.As(err, &e) || !errors.Is(err, wit.ErrResolve) {
				t.Errorf("error %v is not a resolve *wit.Error", err)
			}
		})
	}
}

func TestSyntaxError(t *testing.T) {
	_, err := wit.Parse("bad.wit", []byte("package a:b;\ninterface {"))
	var e *wit.Error
	if !errors.As(err, &e) || !errors.Is(err, wit.ErrSyntax) || e.Pos.File != "bad.wit" || e.Pos.Line != 2 {
		t.Errorf("got %v, want a syntax *wit.Error at bad.wit:2", err)
	}
}

func TestLoadErrors(t *testing.T) {
	write := func(t *testing.T, files map[string]string) string {
		dir := t.TempDir()
		for name, src := range files {
			path := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	tests := []struct {
		name  string
		files map[string]string
		want  string // after the directory prefix
	}{
		{"files disagree on the version",
			map[string]string{"a.wit": "package a:b@1.0.0;", "b.wit": "package a:b@2.0.0;"},
			"b.wit:1:1: version conflict: package a:b@2.0.0 does not match a:b@1.0.0 declared at DIR/a.wit:1:1"},
		{"files disagree on the name",
			map[string]string{"a.wit": "package a:b;", "b.wit": "package a:c;"},
			"b.wit:1:1: package a:c does not match a:b declared at DIR/a.wit:1:1"},
		{"dependency package twice with different contents",
			map[string]string{
				"root.wit":       "package a:root;\ninterface i { use a:dep/j.{t}; }",
				"deps/one.wit":   "package a:dep;\ninterface j { type t = u32; }",
				"deps/two/x.wit": "package a:dep;\ninterface j { type t = u64; }",
			},
			"deps/two/x.wit:1:1: package a:dep is defined twice with different contents (first at DIR/deps/one.wit:1:1)"},
		{"error inside a dependency",
			map[string]string{
				"root.wit":     "package a:root;\ninterface i { use a:dep/j.{t}; }",
				"deps/dep.wit": "package a:dep;\ninterface j { type t = nope; }",
			},
			`deps/dep.wit:2:24: undefined type "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := write(t, tt.files)
			_, err := wit.Load(dir)
			want := "wit: " + filepath.Join(dir, tt.want)
			want = strings.ReplaceAll(want, "DIR", dir)
			if err == nil || err.Error() != want {
				t.Errorf("error\n got %v\nwant %s", err, want)
			}
		})
	}
	// The same dependency twice is fine.
	dir := write(t, map[string]string{
		"root.wit":       "package a:root;\ninterface i { use a:dep/j.{t}; }",
		"deps/one.wit":   "package a:dep;\ninterface j { type t = u32; }",
		"deps/two/x.wit": "package a:dep;\n\ninterface j {\n  type t = u32;\n}",
	})
	if _, err := wit.Load(dir); err != nil {
		t.Errorf("identical duplicate dependency: %v", err)
	}
	if _, err := wit.Load(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing path: %v", err)
	}
	if _, err := wit.Load(dir, wit.WithDeps(filepath.Join(dir, "missing"))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing dependency: %v", err)
	}
}
