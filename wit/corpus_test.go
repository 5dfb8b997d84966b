package wit_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/theater-go/theater/wit"
)

// corpusPackages are the folders of the WASI corpus, one package each.
var corpusPackages = []string{"io", "clocks", "random", "cli", "filesystem", "sockets", "http"}

// corpusDir finds the shared WASI corpus next to the repository
// (../shared relative to the repository root, which is two levels above
// this package's directory), or skips the test.
func corpusDir(tb testing.TB) string {
	tb.Helper()
	wd, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	dir := filepath.Join(wd, "..", "..", "shared", "wit-corpus", "wasi-0.2.12")
	if _, err := os.Stat(dir); err != nil {
		tb.Skipf("WASI corpus not found at %s (expected ../shared/wit-corpus relative to the repository root)", dir)
	}
	return dir
}

// loadCorpusPackage loads one corpus folder with the others as deps.
func loadCorpusPackage(tb testing.TB, dir, name string) *wit.Model {
	tb.Helper()
	var deps []string
	for _, d := range corpusPackages {
		if d != name {
			deps = append(deps, filepath.Join(dir, d))
		}
	}
	m, err := wit.Load(filepath.Join(dir, name), wit.WithDeps(deps...))
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	for _, name := range corpusPackages {
		t.Run(name, func(t *testing.T) {
			m := loadCorpusPackage(t, dir, name)
			if got, want := m.Root.Name.String(), "wasi:"+name+"@0.2.12"; got != want {
				t.Fatalf("root package %s, want %s", got, want)
			}
			if m.Packages[len(m.Packages)-1] != m.Root {
				t.Errorf("root is not last in dependency order")
			}
			roundTrip(t, m)
		})
	}
}

func TestCorpusDetails(t *testing.T) {
	m := loadCorpusPackage(t, corpusDir(t), "http")
	// Dependency order: every package after the packages it uses.
	pos := map[string]int{}
	for i, p := range m.Packages {
		pos[p.Name.Name] = i
	}
	for _, dep := range []string{"io", "clocks", "random", "cli", "filesystem", "sockets"} {
		if pos[dep] >= pos["http"] {
			t.Errorf("wasi:%s comes after wasi:http in %v", dep, pos)
		}
	}
	proxy, err := m.World("proxy")
	if err != nil {
		t.Fatal(err)
	}
	// The included imports world brings wasi:http/types in through
	// outgoing-handler's use, before outgoing-handler itself.
	keys := map[string]int{}
	for i, it := range proxy.Imports {
		keys[it.Key()] = i
	}
	ty, okT := keys["wasi:http/types@0.2.12"]
	oh, okO := keys["wasi:http/outgoing-handler@0.2.12"]
	if !okT || !okO || ty > oh {
		t.Errorf("proxy imports: types at %d (%v), outgoing-handler at %d (%v)", ty, okT, oh, okO)
	}
	if len(proxy.Exports) != 1 || proxy.Exports[0].Key() != "wasi:http/incoming-handler@0.2.12" {
		t.Errorf("proxy exports %v", proxy.Exports)
	}
	fk, err := m.Type("wasi:http/types@0.2.12.field-key")
	if err != nil {
		t.Fatal(err)
	}
	if s := fk.(*wit.TypeDef).Stability; s.Since != "0.2.0" || s.Deprecated != "0.2.2" {
		t.Errorf("field-key stability %+v", s)
	}
}

// BenchmarkLoadCorpus parses and resolves the whole WASI corpus: wasi:http
// with the other six packages as dependencies.
func BenchmarkLoadCorpus(b *testing.B) {
	dir := corpusDir(b)
	for b.Loop() {
		loadCorpusPackage(b, dir, "http")
	}
}
