package syntax

import (
	"bytes"
	"reflect"
	"testing"
)

// checkPositions walks every Pos in f and reports any that is not the
// zero Pos yet lies outside src or names another file.
func checkPositions(t testing.TB, f *File, src []byte) {
	t.Helper()
	lines := bytes.Split(src, []byte("\n"))
	posType := reflect.TypeFor[Pos]()
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		case reflect.Struct:
			if v.Type() == posType {
				p := v.Interface().(Pos)
				if p == (Pos{}) {
					return
				}
				if p.File != f.Name || p.Line < 1 || p.Line > len(lines) || p.Col < 1 || p.Col > len(lines[p.Line-1]) {
					t.Fatalf("bad position %v (file %q has %d lines)", p, f.Name, len(lines))
				}
				return
			}
			for i := 0; i < v.NumField(); i++ {
				walk(v.Field(i))
			}
		}
	}
	walk(reflect.ValueOf(f))
}
