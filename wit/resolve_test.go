package wit_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/theater-go/theater/wit"
)

func loadFull(t *testing.T) *wit.Model {
	t.Helper()
	m, err := wit.Load("testdata/full")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustType(t *testing.T, m *wit.Model, ref string) *wit.TypeDef {
	t.Helper()
	ty, err := m.Type(ref)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := ty.(*wit.TypeDef)
	if !ok {
		t.Fatalf("%s is %T, want *wit.TypeDef", ref, ty)
	}
	return d
}

func keys(items []*wit.WorldItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Key())
	}
	return out
}

func TestFullPackages(t *testing.T) {
	m := loadFull(t)
	var names []string
	for _, p := range m.Packages {
		names = append(names, p.Name.String())
	}
	// Dependencies first: nested before extra (which uses it), root last.
	want := []string{"example:base@0.1.0", "example:nested@0.3.0", "example:extra@2.0.0", "example:app@1.0.0"}
	if !slices.Equal(names, want) {
		t.Errorf("packages %v, want %v", names, want)
	}
	if m.Root != m.Package("example:app") || m.Root.Docs != "The application package: every WIT construct once." {
		t.Errorf("root %v docs %q", m.Root.Name, m.Root.Docs)
	}
	if p := m.Package("example:base"); p == nil || len(p.Interfaces) != 1 || len(p.Worlds) != 1 {
		t.Errorf("base package from two files: %+v", p)
	}
}

func TestFullTypes(t *testing.T) {
	m := loadFull(t)
	if ty, err := m.Type("u32"); err != nil || ty != wit.U32 {
		t.Errorf("Type(u32) = %v, %v", ty, err)
	}
	point := mustType(t, m, "types.point")
	rec, ok := point.Kind.(*wit.Record)
	if !ok || len(rec.Fields) != 2 || rec.Fields[0].Name != "x" || rec.Fields[0].Type != wit.S32 || rec.Fields[1].Docs != "The y coordinate." {
		t.Errorf("point = %+v", point.Kind)
	}
	// The same type by qualified name, with and without version.
	if mustType(t, m, "example:app/types@1.0.0.point") != point || mustType(t, m, "example:app/types.point") != point {
		t.Error("qualified lookups disagree")
	}
	shape := mustType(t, m, "types.shape").Kind.(*wit.Variant)
	if len(shape.Cases) != 3 || shape.Cases[0].Type != nil || shape.Cases[1].Type != wit.F64 ||
		shape.Cases[2].Type.String() != "list<point>" || shape.Cases[2].Type.(*wit.TypeDef).Kind.(*wit.List).Elem != point {
		t.Errorf("shape = %+v", shape)
	}
	if e := mustType(t, m, "types.color").Kind.(*wit.Enum); len(e.Cases) != 2 || e.Cases[1].Name != "green" {
		t.Errorf("color = %+v", e)
	}
	if f := mustType(t, m, "types.perms").Kind.(*wit.Flags); len(f.Flags) != 2 || f.Flags[0].Name != "read" {
		t.Errorf("perms = %+v", f)
	}

	// Every anonymous type, as the target of an alias.
	spelled := map[string]string{
		"maybe": "option<string>", "r-both": "result<u32, error-code>", "r-ok": "result<u32>",
		"r-err": "result<_, error-code>", "r-none": "result", "pair": "tuple<u8, string>",
		"bytes": "list<u8>", "ipv4": "list<u8, 4>", "index": "map<string, u32>",
		"later": "future<point>", "signal": "future", "chars": "stream<char>", "ticks": "stream",
		"err-ctx": "error-context", "blob-alias": "base-blob", "list": "list<bool>", "old-point": "point",
	}
	for name, want := range spelled {
		d := mustType(t, m, "types."+name)
		a, ok := d.Kind.(*wit.Alias)
		if !ok || a.Target.String() != want {
			t.Errorf("%s = %v, want alias of %s", name, d.Kind, want)
		}
	}
	target := func(name string) wit.TypeDefKind {
		return mustType(t, m, "types."+name).Kind.(*wit.Alias).Target.(*wit.TypeDef).Kind
	}
	if k := target("ipv4").(*wit.FixedList); k.Len != 4 || k.Elem != wit.U8 {
		t.Errorf("ipv4 = %+v", k)
	}
	if k := target("r-err").(*wit.Result); k.OK != nil || k.Err != mustType(t, m, "types.error-code") {
		t.Errorf("r-err = %+v", k)
	}
	if k := target("index").(*wit.Map); k.Key != wit.String || k.Value != wit.U32 {
		t.Errorf("index = %+v", k)
	}
	if k := target("signal").(*wit.Future); k.Elem != nil {
		t.Errorf("signal = %+v", k)
	}
	if k := target("chars").(*wit.Stream); k.Elem != wit.Char {
		t.Errorf("chars = %+v", k)
	}
	if a := mustType(t, m, "types.err-ctx").Kind.(*wit.Alias); a.Target != wit.ErrorContext {
		t.Errorf("err-ctx = %v", a.Target)
	}
	if s := mustType(t, m, "types.old-point").Stability; s != (wit.Stability{Since: "1.0.0", Deprecated: "1.0.1"}) {
		t.Errorf("old-point stability %+v", s)
	}

	// use ... as: an alias owned by types whose target lives in base.
	types, _ := m.Interface("types")
	baseBlob := types.Type("base-blob")
	shared, _ := m.Interface("example:base/shared@0.1.0")
	if baseBlob.Owner != types || baseBlob.Kind.(*wit.Alias).Target != shared.Type("blob") {
		t.Errorf("base-blob = %+v", baseBlob)
	}
	if _, ok := wit.Underlying(mustType(t, m, "types.blob-alias")).(*wit.TypeDef).Kind.(*wit.Resource); !ok {
		t.Error("blob-alias does not lead to a resource")
	}
	// A top-level use: api's tick comes from extra's clock, which has it
	// from the nested package.
	tick := mustType(t, m, "api.tick")
	clock := tick.Kind.(*wit.Alias).Target.(*wit.TypeDef)
	if clock.Owner.(*wit.Interface).QualifiedName() != "example:extra/clock@2.0.0" ||
		wit.Underlying(tick) != wit.U32 {
		t.Errorf("tick = %+v via %+v", tick, clock)
	}
	if pt := mustType(t, m, "api.pt"); pt.Kind.(*wit.Alias).Target != point {
		t.Errorf("pt = %+v", pt)
	}
}

func TestFullFunctions(t *testing.T) {
	m := loadFull(t)
	types, err := m.Interface("types")
	if err != nil {
		t.Fatal(err)
	}
	var mangled []string
	for _, f := range types.Functions {
		mangled = append(mangled, f.MangledName())
	}
	want := []string{"[constructor]file", "[method]file.read", "[method]file.read-all", "[static]file.open",
		"[static]file.join", "[constructor]socket", "transform", "fetch", "count"}
	if !slices.Equal(mangled, want) {
		t.Errorf("functions %v, want %v", mangled, want)
	}
	file := types.Type("file")
	if file.ExternalID != "app.File" {
		t.Errorf("file external id %q", file.ExternalID)
	}
	ctor := types.Function("[constructor]file")
	if ctor.Kind != wit.Constructor || ctor.Resource != file || ctor.Result.String() != "file" ||
		ctor.Result.(*wit.TypeDef).Kind.(*wit.Handle).Borrow {
		t.Errorf("constructor = %+v", ctor)
	}
	read := types.Function("read")
	if read.Kind != wit.Method || len(read.Params) != 2 || read.Params[0].Name != "self" ||
		read.Params[0].Type.String() != "borrow<file>" || read.Result.String() != "result<list<u8>, error-code>" ||
		read.ExternalID != "app.File.read" {
		t.Errorf("read = %+v", read)
	}
	if ra := types.Function("[method]file.read-all"); !ra.Async || ra.Stability.Unstable != "async-io" {
		t.Errorf("read-all = %+v", ra)
	}
	join := types.Function("[static]file.join")
	if join.Kind != wit.Static || join.Params[0].Type.String() != "borrow<file>" || join.Params[1].Type.String() != "file" {
		t.Errorf("join = %+v", join)
	}
	sock := types.Function("[constructor]socket")
	if sock.Result.String() != "result<socket, error-code>" {
		t.Errorf("socket constructor = %+v", sock)
	}
	tr := types.Function("transform")
	if tr.ExternalID != "app.transform" || tr.Params[3].Type.String() != "borrow<base-blob>" ||
		tr.Params[3].Type.(*wit.TypeDef).Kind.(*wit.Handle).Resource != types.Type("base-blob") ||
		tr.Result.String() != "tuple<point, bool>" {
		t.Errorf("transform = %+v", tr)
	}
	if f := types.Function("fetch"); !f.Async || f.Result.String() != "future<result<bytes, error-code>>" {
		t.Errorf("fetch = %+v", f)
	}
	if types.Function("nope") != nil {
		t.Error("found a function that does not exist")
	}
}

// TestFullDocs checks that the docs of every item of the root package
// made it into the model.
func TestFullDocs(t *testing.T) {
	m := loadFull(t)
	check := func(what, docs string) {
		if docs == "" {
			t.Errorf("%s has no docs", what)
		}
	}
	for _, i := range m.Root.Interfaces {
		check(i.Name, i.Docs)
		for _, ty := range i.Types {
			check(i.Name+"."+ty.Name, ty.Docs)
			switch k := ty.Kind.(type) {
			case *wit.Record:
				for _, f := range k.Fields {
					check(ty.Name+"."+f.Name, f.Docs)
				}
			case *wit.Variant:
				for _, c := range k.Cases {
					check(ty.Name+"."+c.Name, c.Docs)
				}
			case *wit.Enum:
				for _, c := range k.Cases {
					check(ty.Name+"."+c.Name, c.Docs)
				}
			case *wit.Flags:
				for _, f := range k.Flags {
					check(ty.Name+"."+f.Name, f.Docs)
				}
			}
		}
		for _, f := range i.Functions {
			check(f.MangledName(), f.Docs)
		}
	}
	for _, w := range m.Root.Worlds {
		check(w.Name, w.Docs)
		for _, it := range w.Exports {
			check(w.Name+" export "+it.Key(), it.Docs)
		}
	}
}

func TestFullWorlds(t *testing.T) {
	m := loadFull(t)
	runner, err := m.World("runner")
	if err != nil {
		t.Fatal(err)
	}
	// The include comes first (with log renamed), then each interface
	// import preceded by the interfaces its types come from.
	wantImports := []string{
		"example:base/shared@0.1.0", "base-log",
		"example:app/types@1.0.0", "example:nested/time@0.3.0", "example:extra/clock@2.0.0", "example:app/api@1.0.0",
		"primary", "host", "log", "color", "options",
	}
	if got := keys(runner.Imports); !slices.Equal(got, wantImports) {
		t.Errorf("runner imports\n got %v\nwant %v", got, wantImports)
	}
	if got, want := keys(runner.Exports), []string{"run", "example:app/types@1.0.0", "handler"}; !slices.Equal(got, want) {
		t.Errorf("runner exports %v, want %v", got, want)
	}
	byKey := map[string]*wit.WorldItem{}
	for _, it := range runner.Imports {
		byKey[it.Key()] = it
	}
	if it := byKey["base-log"]; it.Function == nil || it.Function.Name != "base-log" || it.Docs == "" {
		t.Errorf("base-log = %+v", it)
	}
	if it := byKey["example:app/types@1.0.0"]; it.Docs != "" || it.Name != "" {
		t.Errorf("elaborated import carries item data: %+v", it)
	}
	store, _ := m.Interface("store")
	if it := byKey["primary"]; it.Interface != store || it.ExternalID != "db://primary" {
		t.Errorf("primary = %+v", it)
	}
	if it := byKey["host"]; it.Interface.Name != "" || it.Interface.Function("where").Result.String() != "point" {
		t.Errorf("host = %+v", it.Interface)
	}
	if it := byKey["log"]; it.Function.ExternalID != "js:console.log" || it.ExternalID != "js:console.log" {
		t.Errorf("log = %+v", it)
	}
	if it := byKey["color"]; it.Type.Owner != runner || it.Type.Kind.(*wit.Alias).Target != mustType(t, m, "types.color") {
		t.Errorf("color = %+v", it.Type)
	}
	if it := byKey["options"]; it.Type.Owner != runner {
		t.Errorf("options = %+v", it.Type)
	}
	run := runner.Exports[0].Function
	if !run.Async || run.Params[0].Type != byKey["options"].Type || run.Result.String() != "result" {
		t.Errorf("run = %+v", run)
	}

	exporter, _ := m.World("example:app/exporter@1.0.0")
	wantExp := []string{"example:base/shared@0.1.0", "example:app/types@1.0.0", "example:nested/time@0.3.0", "example:extra/clock@2.0.0"}
	if got := keys(exporter.Imports); !slices.Equal(got, wantExp) {
		t.Errorf("exporter imports %v, want %v", got, wantExp)
	}

	combined, _ := m.World("combined")
	if got, want := keys(combined.Imports), []string{"example:app/store@1.0.0", "ping", "ping2"}; !slices.Equal(got, want) {
		t.Errorf("combined imports %v, want %v", got, want)
	}
	if id := combined.Imports[1].ExternalID; id != "tab\t\"quoted\"\\ \x7f \U0001F600" {
		t.Errorf("ping external id %q", id)
	}

	gadgets, _ := m.World("gadgets")
	if got, want := keys(gadgets.Imports), []string{"gadget", "[constructor]gadget", "[method]gadget.poke"}; !slices.Equal(got, want) {
		t.Errorf("gadgets imports %v, want %v", got, want)
	}
	if poke := gadgets.Imports[2].Function; poke.Resource != gadgets.Imports[0].Type || poke.Params[0].Type.String() != "borrow<gadget>" {
		t.Errorf("poke = %+v", poke)
	}
}

func TestFullRoundTrip(t *testing.T) {
	roundTrip(t, loadFull(t))
}

func TestSingleFile(t *testing.T) {
	m, err := wit.Load("testdata/single.wit")
	if err != nil {
		t.Fatal(err)
	}
	if m.Root.Name.String() != "local:single" || len(m.Packages) != 2 {
		t.Fatalf("root %s, %d packages", m.Root.Name, len(m.Packages))
	}
	w, err := m.World("local:single/hello")
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(w.Imports); !slices.Equal(got, []string{"local:dep/names"}) {
		t.Errorf("hello imports %v", got)
	}
	roundTrip(t, m)
}

func TestLookupErrors(t *testing.T) {
	m := loadFull(t)
	for _, ref := range []string{"nope.x", "types.nope", "nope", "example:app/nope.x", "zz:top/x.y"} {
		if _, err := m.Type(ref); !errors.Is(err, wit.ErrNotFound) {
			t.Errorf("Type(%q) = %v, want ErrNotFound", ref, err)
		}
	}
	if _, err := m.Interface("example:base/shared@9.9.9"); !errors.Is(err, wit.ErrNotFound) {
		t.Errorf("Interface with wrong version: %v", err)
	}
	_, err := m.World("nope")
	if !errors.Is(err, wit.ErrNotFound) || err.Error() != `wit: world "nope" not found in package example:app@1.0.0` {
		t.Errorf("World(nope) = %v", err)
	}
	var nilModel *wit.Model
	if _, err := nilModel.Interface("x"); !errors.Is(err, wit.ErrNotFound) {
		t.Errorf("nil model: %v", err)
	}
	if nilModel.Package("a:b") != nil {
		t.Error("nil model has a package")
	}
}

func TestModelDiffDetectsChanges(t *testing.T) {
	a, b := loadFull(t), loadFull(t)
	if d := modelDiff(a.Root, b.Root); d != "" {
		t.Fatalf("two loads differ: %s", d)
	}
	b.Root.Interfaces[0].Type("point").Kind.(*wit.Record).Fields[0].Docs = "changed"
	if d := modelDiff(a.Root, b.Root); d == "" {
		t.Error("a changed field doc went unnoticed")
	}
}
