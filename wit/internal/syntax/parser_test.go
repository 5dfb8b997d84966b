package syntax

import (
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"empty", "", ""},
		{"comments only", "// a\n/* b /* nested */ c */\n", ""},
		{"package", "package foo:bar;", "package foo:bar;"},
		{"package version", "package wasi:io@0.2.12;", "package wasi:io@0.2.12;"},
		{"package prerelease build", "package a:b@1.2.3-rc.1+build.5;", "package a:b@1.2.3-rc.1+build.5;"},
		{"package nested namespace", "package a:b:c/d@1.0.0;", "package a:b:c/d@1.0.0;"},
		{"nested packages", "package local:a { interface foo {} }\npackage local:b { interface bar {} world w {} }",
			"package local:a {interface foo {}} package local:b {interface bar {} world w {}}"},
		{"root then nested", "package r:r; interface i {} package x:y@1.0.0 { use a:b/c; }",
			"package r:r; interface i {} package x:y@1.0.0 {use a:b/c;}"},
		{"top-level use", "use wasi:http/types@1.0.0;\nuse wasi:http/handler as h;\nuse local;",
			"use wasi:http/types@1.0.0; use wasi:http/handler as h; use local;"},
		{"top-level use nested path", "use a:b:c/d/e@0.1.0 as x;", "use a:b:c/d/e@0.1.0 as x;"},
		{"interface funcs", "interface i { a: func(); b: func(x: u32, y: string) -> bool; c: async func() -> u8; }",
			"interface i {a: func(); b: func(x: u32, y: string) -> bool; c: async func() -> u8;}"},
		{"params trailing comma", "interface i { f: func(\n  a: u32,\n) -> u32; }", "interface i {f: func(a: u32) -> u32;}"},
		{"escaped identifiers", "interface %interface { %variant: func(%enum: s32); %foo: func(); }",
			"interface interface {variant: func(enum: s32); foo: func();}"},
		{"acronyms", "interface i { resource XML; parse-XML-document: func(s: string) -> XML; a1-B2: func(); }",
			"interface i {resource XML; parse-XML-document: func(s: string) -> XML; a1-B2: func();}"},
		{"all primitives", "interface i { type t = tuple<bool, u8, u16, u32, u64, s8, s16, s32, s64, f32, f64, char, string, error-context>; }",
			"interface i {type t = tuple<bool, u8, u16, u32, u64, s8, s16, s32, s64, f32, f64, char, string, error-context>;}"},
		{"lists", "interface i { type a = list<u8>; type b = list<u8, 4>; type c = list<list<string>, 4294967295>; }",
			"interface i {type a = list<u8>; type b = list<u8, 4>; type c = list<list<string>, 4294967295>;}"},
		{"option", "interface i { type a = option<option<u32>>; }", "interface i {type a = option<option<u32>>;}"},
		{"results", "interface i { type a = result; type b = result<u32>; type c = result<u32, e>; type d = result<_, e>; }",
			"interface i {type a = result; type b = result<u32>; type c = result<u32, e>; type d = result<_, e>;}"},
		{"tuple trailing comma", "interface i { type t = tuple<u8, s8,>; }", "interface i {type t = tuple<u8, s8>;}"},
		{"map", "interface i { type m = map<string, list<u8>>; type n = map<u32, m>; }",
			"interface i {type m = map<string, list<u8>>; type n = map<u32, m>;}"},
		{"future stream", "interface i { type a = future; type b = future<u32>; type c = stream; type d = stream<tuple<u8>>; }",
			"interface i {type a = future; type b = future<u32>; type c = stream; type d = stream<tuple<u8>>;}"},
		{"handles", "interface i { resource r; f: func(a: borrow<r>, b: own<r>, c: r); }",
			"interface i {resource r; f: func(a: borrow<r>, b: own<r>, c: r);}"},
		{"record", "interface i { record r { a: u32, b: string, } record s { x: f64 } }",
			"interface i {record r {a: u32, b: string} record s {x: f64}}"},
		{"variant", "interface i { variant v { a, b(u32), c(list<string>), } }",
			"interface i {variant v {a, b(u32), c(list<string>)}}"},
		{"enum", "interface i { enum e { a, b, c, } enum f { x } }", "interface i {enum e {a, b, c} enum f {x}}"},
		{"flags", "interface i { flags f { read, write, exec } }", "interface i {flags f {read, write, exec}}"},
		{"resource", `interface i {
			resource blob {
				constructor(init: list<u8>);
				write: func(bytes: list<u8>);
				merge: static func(lhs: borrow<blob>, rhs: borrow<blob>) -> blob;
				wait: static async func();
				go: async func() -> u8;
			}
			resource blob2 { constructor(init: list<u8>) -> result<blob2>; }
			resource empty {}
		}`,
			"interface i {resource blob {constructor(init: list<u8>); write: func(bytes: list<u8>); merge: static func(lhs: borrow<blob>, rhs: borrow<blob>) -> blob; wait: static async func(); go: async func() -> u8;} resource blob2 {constructor(init: list<u8>) -> result<blob2>;} resource empty {}}"},
		{"use in interface", "interface i { use types.{errno, size as sz}; use wasi:io/streams@0.2.0.{input-stream,}; }",
			"interface i {use types.{errno, size as sz}; use wasi:io/streams@0.2.0.{input-stream};}"},
		{"use prerelease version", "interface i { use a:b/c@1.0.0-rc.1.{x}; }", "interface i {use a:b/c@1.0.0-rc.1.{x};}"},
		{"world imports exports", `world w {
			import wasi:io/poll@0.2.0;
			import local;
			export run: func() -> result;
			import host: interface { log: func(msg: string); }
			import primary: wasi:keyvalue/store;
			export a: b;
			import x: async func();
		}`,
			"world w {import wasi:io/poll@0.2.0; import local; export run: func() -> result; import host: interface {log: func(msg: string);} import primary: wasi:keyvalue/store; export a: b; import x: async func();}"},
		{"tight colon is a namespace", "world w { import a:b/c; import a :b; import a: b:c/d; import n:func(); }",
			"world w {import a:b/c; import a: b; import a: b:c/d; import n: func();}"},
		{"world types and uses", "world w { use a.{b}; type t = u32; record r { x: t } resource res; enum e { a } }",
			"world w {use a.{b}; type t = u32; record r {x: t} resource res; enum e {a}}"},
		{"include", "world w { include a; include wasi:io/imports@0.2.0; include b with { a as a1, b as b1 } include c with { x as y };\n}",
			"world w {include a; include wasi:io/imports@0.2.0; include b with {a as a1, b as b1} include c with {x as y}}"},
		{"gates", `package a:b@1.0.0;
			@since(version = 0.2.0)
			interface i {
				@since(version = 0.2.1) a: func();
				@unstable(feature = fancy-foo) b: func();
				@since(version = 0.2.0) @deprecated(version = 0.2.2) c: func();
				@since(version = 1.0.0) type t = u8;
				@since(version = 1.0.0) use x.{y};
				@since(version = 1.0.0) resource r { @since(version = 1.0.0) constructor(); @unstable(feature = f) m: func(); }
			}
			@unstable(feature = w)
			world w {
				@since(version = 1.0.0) import a: func();
				@since(version = 1.0.0) export i;
				@since(version = 1.0.0) include x;
				@since(version = 1.0.0) use i.{t};
			}`,
			"package a:b@1.0.0; @since(0.2.0) interface i {@since(0.2.1) a: func(); @unstable(fancy-foo) b: func(); @since(0.2.0) @deprecated(0.2.2) c: func(); @since(1.0.0) type t = u8; @since(1.0.0) use x.{y}; @since(1.0.0) resource r {@since(1.0.0) constructor(); @unstable(f) m: func();}} @unstable(w) world w {@since(1.0.0) import a: func(); @since(1.0.0) export i; @since(1.0.0) include x; @since(1.0.0) use i.{t};}"},
		{"external ids", `interface my-interface {
			@external-id("foo/0") foo: func() -> string;
			@external-id("DB.Bar") resource bar { @external-id("baz/1") baz: func(s: string) -> string; }
			@since(version = 1.0.0) @external-id("a\tb\u{2603}\41") type t = u8;
		}
		world w { @external-id("https://esm.unpkg.com/slugify@1.6.6") import slugify: func(text: string) -> string; @external-id("x") export y: wasi:kv/store; }`,
			`interface my-interface {@external-id("foo/0") foo: func() -> string; @external-id("DB.Bar") resource bar {@external-id("baz/1") baz: func(s: string) -> string;} @since(1.0.0) @external-id("a\tb☃A") type t = u8;} world w {@external-id("https://esm.unpkg.com/slugify@1.6.6") import slugify: func(text: string) -> string; @external-id("x") export y: wasi:kv/store;}`},
		{"no whitespace", "package a:b;interface i{f:func(a:u32)->list<u8,2>;}world w{import i;}",
			"package a:b; interface i {f: func(a: u32) -> list<u8, 2>;} world w {import i;}"},
		{"crlf", "package a:b;\r\n// c\r\ninterface i {\r\n}\r\n", "package a:b; interface i {}"},
		{"keyword-prefixed identifiers", "interface i { list-of: func(type-id: u8, use-it: string); }",
			"interface i {list-of: func(type-id: u8, use-it: string);}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("t.wit", []byte(tt.src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := render(f); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
			checkPositions(t, f, []byte(tt.src))
		})
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		src, want string
	}{
		{"interface i {", "t.wit:1:14: expected 'use', type definition, function or '}', found end of file"},
		{"interface i { f: func() }", "t.wit:1:25: expected ';', found '}'"},
		{"interface i { f: func(); ", "t.wit:1:26: expected 'use', type definition, function or '}', found end of file"},
		{"interface i { type t = func; }", "t.wit:1:24: expected type, found keyword 'func'"},
		{"interface i { type t = ; }", "t.wit:1:24: expected type, found ';'"},
		{"interface i { f func(); }", "t.wit:1:17: expected ':', found keyword 'func'"},
		{"interface Foo-bar {}", "t.wit:1:11: invalid identifier \"Foo-bar\": word \"Foo\" mixes upper and lower case"},
		{"interface foo--bar {}", "t.wit:1:11: invalid identifier \"foo--bar\": words must be separated by a single '-'"},
		{"interface foo- {}", "t.wit:1:11: invalid identifier \"foo-\": must not end with '-'"},
		{"interface a-1b {}", "t.wit:1:11: invalid identifier \"a-1b\": word \"1b\" must start with a letter"},
		{"interface fooBar {}", "t.wit:1:11: invalid identifier \"fooBar\": word \"fooBar\" mixes upper and lower case"},
		{"interface i { type t = list<u8, 0>; }", "t.wit:1:33: fixed-size list length must be at least 1"},
		{"interface i { type t = list<u8, 4294967296>; }", "t.wit:1:33: fixed-size list length 4294967296 does not fit in u32"},
		{"interface i { type t = list<u8, 01>; }", "t.wit:1:33: invalid fixed-size list length \"01\": leading zero"},
		{"interface i { type t = list<u8, 1.0>; }", "t.wit:1:33: invalid fixed-size list length \"1.0\""},
		{"interface i { type t = list<u8,>; }", "t.wit:1:32: expected list length, found '>'"},
		{"interface i { record r {} }", "t.wit:1:25: record must have at least one field"},
		{"interface i { variant v {} }", "t.wit:1:26: variant must have at least one case"},
		{"interface i { enum e {} }", "t.wit:1:23: enum must have at least one case"},
		{"interface i { flags f {} }", "t.wit:1:24: flags must have at least one flag"},
		{"interface i { type t = tuple<>; }", "t.wit:1:30: expected type, found '>'"},
		{"interface i { type t = result<_>; }", "t.wit:1:32: expected ',', found '>'"},
		{"interface i { type t = result<u8, u8, u8>; }", "t.wit:1:37: expected '>', found ','"},
		{"interface i { type t = map<f32, u8>; }", "t.wit:1:28: expected map key type (integer, char, bool or string), found keyword 'f32'"},
		{"interface i { type t = map<k, u8>; }", "t.wit:1:28: expected map key type (integer, char, bool or string), found identifier 'k'"},
		{"interface i { type t = borrow<u32>; }", "t.wit:1:31: expected identifier, found keyword 'u32'"},
		{"interface i { type t = option; }", "t.wit:1:30: expected '<', found ';'"},
		{"/* unterminated /* nested */", "t.wit:1:1: unterminated block comment"},
		{"interface i { f: func(a: u32,,); }", "t.wit:1:30: expected identifier, found ','"},
		{"@since(version = 1.0.0) @unstable(feature = x) interface i {}", "t.wit:1:25: @since and @unstable cannot be used together"},
		{"@foo(version = 1.0.0) interface i {}", "t.wit:1:1: unknown attribute '@foo' (expected @since, @unstable, @deprecated or @external-id)"},
		{"@since(version = 1.0.0) @since(version = 1.0.1) interface i {}", "t.wit:1:25: duplicate @since attribute"},
		{"@since(version = 1.0) interface i {}", "t.wit:1:18: invalid version \"1.0\": expected major.minor.patch"},
		{"@since(version = 01.0.0) interface i {}", "t.wit:1:18: invalid version \"01.0.0\": invalid version number \"01\""},
		{"@since(feature = x) interface i {}", "t.wit:1:8: expected 'version', found identifier 'feature'"},
		{"@unstable(feature = 1) interface i {}", "t.wit:1:21: expected identifier, found '1'"},
		{"@since(version = 1.0.0) use a:b/c;", "t.wit:1:1: feature gates are not allowed on a top-level use"},
		{"@external-id(\"x\") interface i {}", "t.wit:1:1: @external-id is not allowed on an interface"},
		{"world w { @external-id(\"x\") import a:b/c; }", "t.wit:1:11: @external-id requires a named import (import name: ...)"},
		{"world w { @external-id(\"x\") type t = u8; }", "t.wit:1:11: @external-id is not allowed on a type in a world"},
		{"world w { import a:b; }", "t.wit:1:21: expected '/', found ';'"},
		{"world w { import a:func; }", "t.wit:1:24: expected '(', found ';'"},
		{"world w { include x with { a } }", "t.wit:1:30: expected 'as', found '}'"},
		{"world w { include x with {} }", "t.wit:1:27: expected identifier, found '}'"},
		{"world w { export; }", "t.wit:1:17: expected identifier, found ';'"},
		{"world w { func: func(); }", "t.wit:1:11: expected 'import', 'export', 'use', 'include', type definition or '}', found keyword 'func'"},
		{"package a:b; package c:d;", "t.wit:1:14: package declaration must come first in the file"},
		{"package a;", "t.wit:1:10: expected ':', found ';'"},
		{"package a:b@1.0.0-; ", "t.wit:1:13: invalid version \"1.0.0-\": invalid pre-release identifier \"\""},
		{"package a:b@1.0.0+; ", "t.wit:1:13: invalid version \"1.0.0+\": invalid build metadata identifier \"\""},
		{"interface i { use x.{}; }", "t.wit:1:22: expected identifier, found '}'"},
		{"interface i { use x; }", "t.wit:1:20: expected '.', found ';'"},
		{"interface i { use a:b.{c}; }", "t.wit:1:22: expected '/', found '.'"},
		{"interface i { resource r { constructor: func(); } }", "t.wit:1:39: expected '(', found ':'"},
		{"interface i { resource r { static f: func(); } }", "t.wit:1:28: expected method, 'constructor' or '}' in resource 'r', found keyword 'static'"},
		{"interface i { resource r }", "t.wit:1:26: expected ';' or '{', found '}'"},
		{"interface i { f: func() -> ; }", "t.wit:1:28: expected type, found ';'"},
		{"interface i { x: u32; }", "t.wit:1:18: expected 'func', found keyword 'u32'"},
		{"interface % {}", "t.wit:1:11: expected identifier after '%'"},
		{"interface i { f: func(s: string) -> string; } $", "t.wit:1:47: unexpected character '$'"},
		{"world w { @external-id(\"unterminated) import a: func(); }", "t.wit:1:24: unterminated string literal"},
		{"world w { @external-id(\"bad \\q escape\") import a: func(); }", "t.wit:1:29: invalid escape sequence in string literal"},
		{"world w { @external-id(\"\\u{110000}\") import a: func(); }", "t.wit:1:25: unicode escape out of range"},
		{"world w { @external-id(\"\\u{d800}\") import a: func(); }", "t.wit:1:25: unicode escape U+D800 is not a valid scalar value"},
		{"world w { @external-id(\"\\ff\") import a: func(); }", "t.wit:1:24: string literal is not valid UTF-8"},
		{"world w { @external-id(x) import a: func(); }", "t.wit:1:24: expected string literal, found identifier 'x'"},
		{"interface i { f: func(a: u32) - u32; }", "t.wit:1:31: unexpected character '-'"},
		{"interface i {} }", "t.wit:1:16: expected 'interface', 'world', 'use' or 'package', found '}'"},
		{"package a:b { package c:d { } }", "t.wit:1:15: package blocks cannot be nested"},
		{"interface i { f: static func(); }", "t.wit:1:18: expected 'func', found keyword 'static'"},
		{"world w { import a: interface { } ; }", "t.wit:1:35: expected 'import', 'export', 'use', 'include', type definition or '}', found ';'"},
		{"package a:b {", "t.wit:1:14: expected '}', found end of file"},
		{"package a:b { ; }", "t.wit:1:15: expected 'interface', 'world', 'use' or '}', found ';'"},
		// Positions on later lines, after tabs and multi-byte characters.
		{"package a:b;\n\ninterface i {\n\tf: func() -> u32\n}", "t.wit:5:1: expected ';', found '}'"},
		{"// caf\u00e9\ninterface \u00e9 {}", "t.wit:2:11: unexpected character '\u00e9'"},
		{"/// doc\r\n  interface i {\r\n  x", "t.wit:3:4: expected ':', found end of file"},
		// What the file may not contain at all, even in comments.
		{"interface i {} // \x00", "t.wit:1:19: control character U+0000 is not allowed"},
		{"interface i {}\n\x7f", "t.wit:2:1: control character U+007F is not allowed"},
		{"// \u0085", "t.wit:1:4: control character U+0085 is not allowed"},
		{"interface i { f: func(); } // \u202e reversed", "t.wit:1:31: bidirectional override character U+202E is not allowed"},
		{"/* \u2067 */", "t.wit:1:4: bidirectional override character U+2067 is not allowed"},
		{"interface i {}\n// \xff\xfe", "t.wit:2:4: invalid UTF-8 encoding"},
		{"// \u0149", "t.wit:1:4: deprecated code point U+0149 is not allowed"},
		{"world w { @external-id(\"a\tb\") import a: func(); }", "t.wit:1:26: control character U+0009 in string literal"},
		{"interface i { type t = " + strings.Repeat("list<", 101) + "u8" + strings.Repeat(">", 101) + "; }",
			"t.wit:1:524: type nesting too deep (limit 100)"},
	}
	for _, tt := range tests {
		f, err := Parse("t.wit", []byte(tt.src))
		if err == nil {
			t.Errorf("Parse(%q) = %s, want error %q", tt.src, render(f), tt.want)
			continue
		}
		if _, ok := err.(*Error); !ok {
			t.Errorf("Parse(%q) error has type %T, want *Error", tt.src, err)
		}
		if err.Error() != tt.want {
			t.Errorf("Parse(%q)\n got error %q\nwant error %q", tt.src, err, tt.want)
		}
	}
}
