package wit_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/theater-go/theater/wit"
)

// modelDiff compares two resolved packages structurally, following every
// pointer (the model is a cyclic graph) and ignoring source positions,
// which differ between a file and its printed form. It returns the path
// of the first difference, or "".
func modelDiff(a, b *wit.Package) string {
	c := &comparer{seen: map[[2]uintptr]bool{}}
	return c.diff("package", reflect.ValueOf(a), reflect.ValueOf(b))
}

type comparer struct{ seen map[[2]uintptr]bool }

var posType = reflect.TypeFor[wit.Pos]()

func (c *comparer) diff(path string, a, b reflect.Value) string {
	if a.Type() != b.Type() {
		return fmt.Sprintf("%s: type %s != %s", path, a.Type(), b.Type())
	}
	switch a.Kind() {
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return path + ": nil vs non-nil"
			}
			return ""
		}
		return c.diff(path, a.Elem(), b.Elem())
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return path + ": nil vs non-nil"
			}
			return ""
		}
		key := [2]uintptr{a.Pointer(), b.Pointer()}
		if c.seen[key] {
			return "" // already being compared further up
		}
		c.seen[key] = true
		return c.diff(path, a.Elem(), b.Elem())
	case reflect.Slice:
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s: length %d != %d", path, a.Len(), b.Len())
		}
		for i := range a.Len() {
			if d := c.diff(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i)); d != "" {
				return d
			}
		}
		return ""
	case reflect.Struct:
		if a.Type() == posType {
			return ""
		}
		for i := range a.NumField() {
			name := a.Type().Field(i).Name
			if d := c.diff(path+"."+name, a.Field(i), b.Field(i)); d != "" {
				return d
			}
		}
		return ""
	}
	if !a.Equal(b) {
		return fmt.Sprintf("%s: %v != %v", path, a, b)
	}
	return ""
}

// roundTrip prints every package of m into a fresh directory (the root
// as the directory package, the others under deps/), loads it again and
// compares each package with the original.
func roundTrip(t *testing.T, m *wit.Model) {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "deps"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i, p := range m.Packages {
		name := filepath.Join(dir, "deps", fmt.Sprintf("%d.wit", i))
		if p == m.Root {
			name = filepath.Join(dir, "root.wit")
		}
		f, err := os.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := wit.Print(f, p); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	again, err := wit.Load(dir)
	if err != nil {
		src, _ := os.ReadFile(filepath.Join(dir, "root.wit"))
		t.Fatalf("printed WIT does not load: %v\n%s", err, src)
	}
	if len(again.Packages) != len(m.Packages) {
		t.Fatalf("round trip has %d packages, want %d", len(again.Packages), len(m.Packages))
	}
	for _, p := range m.Packages {
		q := again.Package(p.Name.String())
		if q == nil {
			t.Fatalf("round trip lost package %s", p.Name)
		}
		if d := modelDiff(p, q); d != "" {
			t.Errorf("%s differs after print and parse: %s", p.Name, d)
		}
	}
}
