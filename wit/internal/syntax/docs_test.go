package syntax

import (
	"testing"
)

const docsSrc = `/// the package
package a:b@1.0.0;

/// top use
use x:y/z;

/// iface line 1
///   indented line 2
// a plain comment does not detach the docs
@since(version = 1.0.0)
interface i {
    /** block doc
     * second line
     */
    record r {
        /// field a
        a: u32,
    }
    variant v {
        /// case c
        c(u8),
    }
    enum e {
        /// enum case
        x,
    }
    flags f {
        /// a flag
        y,
    }
    /// resource
    resource res {
        /// ctor
        constructor();
        /// method
        m: func();
    }
    /// before gate
    @since(version = 1.0.0)
    /// after gate
    fun: func(
        /// param
        p: u32,
    );
    /// use item
    use q.{w};
    //// four slashes: not a doc
    /*** three stars: not a doc */
    /**/
    nodoc: func();
}

/** world doc */
world w {
    /// import
    import i;
    /// export
    export e: func();
    /// include
    include other;
    /// world type
    type t = u8;
}

package c:d {
    /// nested iface
    interface n {}
}
`

func TestDocComments(t *testing.T) {
	f, err := Parse("docs.wit", []byte(docsSrc))
	if err != nil {
		t.Fatal(err)
	}
	iface := f.Items[1].(*Interface)
	rec := iface.Items[0].(*TypeDecl)
	variant := iface.Items[1].(*TypeDecl).Kind.(*VariantDecl)
	enum := iface.Items[2].(*TypeDecl).Kind.(*EnumDecl)
	flags := iface.Items[3].(*TypeDecl).Kind.(*FlagsDecl)
	res := iface.Items[4].(*TypeDecl)
	fun := iface.Items[5].(*Func)
	world := f.Items[2].(*World)
	got := map[string]string{
		"package":       f.Package.Docs,
		"top use":       f.Items[0].(*TopUse).Docs,
		"interface":     iface.Docs,
		"record":        rec.Docs,
		"field":         rec.Kind.(*RecordDecl).Fields[0].Docs,
		"case":          variant.Cases[0].Docs,
		"enum case":     enum.Cases[0].Docs,
		"flag":          flags.Flags[0].Docs,
		"resource":      res.Docs,
		"constructor":   res.Kind.(*ResourceDecl).Funcs[0].Docs,
		"method":        res.Kind.(*ResourceDecl).Funcs[1].Docs,
		"func":          fun.Docs,
		"param":         fun.Func.Params[0].Docs,
		"use":           iface.Items[6].(*Use).Docs,
		"no doc":        iface.Items[7].(*Func).Docs,
		"world":         world.Docs,
		"import":        world.Items[0].(*Import).Docs,
		"export":        world.Items[1].(*Export).Docs,
		"include":       world.Items[2].(*Include).Docs,
		"world type":    world.Items[3].(*TypeDecl).Docs,
		"nested":        f.Nested[0].Items[0].(*Interface).Docs,
		"nested header": f.Nested[0].Decl.Docs,
	}
	want := map[string]string{
		"package":       "the package",
		"top use":       "top use",
		"interface":     "iface line 1\n  indented line 2",
		"record":        "block doc\nsecond line",
		"field":         "field a",
		"case":          "case c",
		"enum case":     "enum case",
		"flag":          "a flag",
		"resource":      "resource",
		"constructor":   "ctor",
		"method":        "method",
		"func":          "before gate\nafter gate",
		"param":         "param",
		"use":           "use item",
		"no doc":        "",
		"world":         "world doc",
		"import":        "import",
		"export":        "export",
		"include":       "include",
		"world type":    "world type",
		"nested":        "nested iface",
		"nested header": "",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s docs = %q, want %q", k, got[k], w)
		}
	}
}

func TestPositions(t *testing.T) {
	src := "package a:b;\ninterface i {\n\tf: func(x: list<u8>) -> result<_, e>;\n}\nworld w {\n  import n: wasi:io/poll@0.2.0;\n}\n"
	f, err := Parse("p.wit", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	fn := f.Items[0].(*Interface).Items[0].(*Func)
	imp := f.Items[1].(*World).Items[0].(*Import)
	res := fn.Func.Result.(*Result)
	checks := []struct {
		what string
		got  Pos
		line int
		col  int
	}{
		{"package", f.Package.Pos, 1, 1},
		{"interface", f.Items[0].ItemPos(), 2, 1},
		{"interface name", f.Items[0].(*Interface).Name.Pos, 2, 11},
		{"func", fn.Pos, 3, 2},
		{"func type", fn.Func.Pos, 3, 5},
		{"param", fn.Func.Params[0].Name.Pos, 3, 10},
		{"list", fn.Func.Params[0].Type.TypePos(), 3, 13},
		{"result", res.Pos, 3, 26},
		{"err type", res.Err.TypePos(), 3, 36},
		{"world", f.Items[1].ItemPos(), 5, 1},
		{"import", imp.Pos, 6, 3},
		{"import name", imp.Name.Pos, 6, 10},
		{"import path", imp.Path.Pos, 6, 13},
		{"interface in path", imp.Path.Name.Pos, 6, 21},
	}
	for _, c := range checks {
		if c.got != (Pos{File: "p.wit", Line: c.line, Col: c.col}) {
			t.Errorf("%s at %v, want p.wit:%d:%d", c.what, c.got, c.line, c.col)
		}
	}
}
