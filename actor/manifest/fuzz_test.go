package manifest

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"

	"github.com/theater-go/theater/supervisor"
)

// FuzzParse checks, for any input, that Parse does not panic, that its
// errors have the documented form, and that what it accepts is valid,
// complete and survives JSON and TOML round trips. On any input toml
// accepts, it also checks that scan places every key inside the source.
// Seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		checkIndex(t, data)
		m, err := Parse("f.toml", data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), "manifest: f.toml") {
				t.Fatalf("error %q: not ErrInvalid or not prefixed", err)
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("Parse accepted what Validate refuses: %v", err)
		}
		if d := m.WithDefaults(); !reflect.DeepEqual(d, m) {
			t.Fatalf("defaults not applied: %+v", m)
		}

		js, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var back Manifest
		if err := json.Unmarshal(js, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&back, m) {
			t.Fatalf("JSON round trip %s:\ngot  %+v\nwant %+v", js, &back, m)
		}

		out, err := toml.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse("again.toml", out)
		if err != nil {
			t.Fatalf("TOML round trip: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(again, m) {
			t.Fatalf("TOML round trip %s:\ngot  %+v\nwant %+v", out, again, m)
		}
	})
}

func checkIndex(t *testing.T, data []byte) {
	src := stripBOM(data)
	if toml.Unmarshal(src, new(map[string]any)) != nil {
		return
	}
	doc, err := scan(src)
	if err != nil {
		t.Fatalf("go-toml's decoder accepts what its parser refuses: %v", err)
	}
	for _, e := range doc.entries {
		// Errors can be about any prefix of a key (an unknown table).
		for n := 1; n <= len(e.path); n++ {
			k := e.keys[n-1]
			s, ok := doc.spots[k]
			if !ok {
				t.Fatalf("key %s not indexed", k)
			}
			if s.key < 0 || s.key > len(src) || s.val < s.key || s.val > len(src) {
				t.Fatalf("key %s at %+v, outside the source", k, s)
			}
		}
	}
}

// FuzzParseTree checks, for any input, that ParseTree does not panic,
// that its errors have the documented form and that what it accepts
// survives a JSON round trip and builds into a valid supervisor spec
// once its manifest files are stood in for. Seeds are in
// testdata/fuzz/FuzzParseTree.
func FuzzParseTree(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		checkIndex(t, data)
		tr, err := ParseTree("t.toml", data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), "manifest: t.toml") {
				t.Fatalf("error %q: not ErrInvalid or not prefixed", err)
			}
			return
		}
		js, err := json.Marshal(tr)
		if err != nil {
			t.Fatal(err)
		}
		var back Tree
		if err := json.Unmarshal(js, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&back, tr) {
			t.Fatalf("JSON round trip %s:\ngot  %+v\nwant %+v", js, &back, tr)
		}
		standIn(tr)
		if _, err := tr.Build(func(string, *Manifest) (supervisor.Child, error) { return nopChild{}, nil }); err != nil {
			t.Fatalf("ParseTree accepted a tree Build refuses: %v", err)
		}
	})
}

// standIn gives every child that names a manifest file an empty one.
func standIn(t *Tree) {
	for i := range t.Children {
		c := &t.Children[i]
		if c.Supervisor != nil {
			standIn(c.Supervisor)
		} else if c.Actor == nil {
			c.Actor = (&Manifest{Name: c.ID, Module: "m.wasm"}).WithDefaults()
		}
	}
}

type nopChild struct{}

func (nopChild) Start(context.Context, supervisor.StartFrom, func(error)) error { return nil }
func (nopChild) Stop(context.Context) error                                     { return nil }
