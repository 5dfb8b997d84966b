package codec_test

import "github.com/theater-go/theater/wit"

// Builders for hand-made types: the tests do not depend on the WIT parser.

func named(name string, k wit.TypeDefKind) *wit.TypeDef { return &wit.TypeDef{Name: name, Kind: k} }
func anon(k wit.TypeDefKind) *wit.TypeDef               { return &wit.TypeDef{Kind: k} }

func record(name string, fields ...wit.Field) *wit.TypeDef {
	return named(name, &wit.Record{Fields: fields})
}
func field(name string, t wit.Type) wit.Field { return wit.Field{Name: name, Type: t} }

func variant(name string, cases ...wit.Case) *wit.TypeDef {
	return named(name, &wit.Variant{Cases: cases})
}
func vcase(name string, t wit.Type) wit.Case { return wit.Case{Name: name, Type: t} }

func enum(name string, cases ...string) *wit.TypeDef {
	e := &wit.Enum{}
	for _, c := range cases {
		e.Cases = append(e.Cases, wit.EnumCase{Name: c})
	}
	return named(name, e)
}

func flags(name string, names ...string) *wit.TypeDef {
	f := &wit.Flags{}
	for _, n := range names {
		f.Flags = append(f.Flags, wit.Flag{Name: n})
	}
	return named(name, f)
}

func option(t wit.Type) *wit.TypeDef          { return anon(&wit.Option{Type: t}) }
func result(ok, err wit.Type) *wit.TypeDef    { return anon(&wit.Result{OK: ok, Err: err}) }
func tuple(ts ...wit.Type) *wit.TypeDef       { return anon(&wit.Tuple{Types: ts}) }
func list(t wit.Type) *wit.TypeDef            { return anon(&wit.List{Elem: t}) }
func fixed(t wit.Type, n uint32) *wit.TypeDef { return anon(&wit.FixedList{Elem: t, Len: n}) }
func mapOf(k, v wit.Type) *wit.TypeDef        { return anon(&wit.Map{Key: k, Value: v}) }
func alias(name string, t wit.Type) *wit.TypeDef {
	return named(name, &wit.Alias{Target: t})
}

var resource = named("file", &wit.Resource{})

func own(r *wit.TypeDef) *wit.TypeDef    { return anon(&wit.Handle{Resource: r}) }
func borrow(r *wit.TypeDef) *wit.TypeDef { return anon(&wit.Handle{Resource: r, Borrow: true}) }
