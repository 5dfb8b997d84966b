package manifest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/theater-go/theater/actor/manifest"
)

func TestStoreCapability(t *testing.T) {
	m, err := manifest.Parse("a.toml", []byte(httpBase+`
[capabilities.store]
read = ["kb"]
write = ["notes"]
max_key_bytes = 64
max_value_bytes = 1024
max_ops = 5
`))
	if err != nil {
		t.Fatal(err)
	}
	s := m.Capabilities.Store
	if !m.Grants("store") || s.MaxKeyBytes != 64 || s.MaxValueBytes != 1024 || s.MaxOps != 5 {
		t.Fatalf("got %+v", s)
	}
	for ns, want := range map[string]manifest.StoreMode{"kb": manifest.StoreRead, "notes": manifest.StoreReadWrite, "other": manifest.StoreNone} {
		if got := s.StoreAccess(ns); got != want {
			t.Errorf("%s: mode %d, want %d", ns, got, want)
		}
	}
	if m, _ := manifest.Parse("a.toml", []byte(httpBase)); m.Grants("store") {
		t.Fatal("granted without [capabilities.store]")
	}
}

func TestStoreCapabilityErrors(t *testing.T) {
	for body, want := range map[string]string{
		"[capabilities.store]\nread = [\"a.b\"]\n":       "capabilities.store.read: invalid namespace \"a.b\"",
		"[capabilities.store]\nwrite = [\"\"]\n":         "capabilities.store.write: invalid namespace",
		"[capabilities.store]\nmax_key_bytes = 5000\n":   "capabilities.store.max_key_bytes: 5000 is out of range",
		"[capabilities.store]\nmax_ops = -1\n":           "capabilities.store.max_ops: -1 is out of range",
		"[capabilities.store]\nmax_value_bytes = true\n": "expected an integer",
		"[capabilities.store]\nbucket = \"x\"\n":         "bucket",
	} {
		_, err := manifest.Parse("a.toml", []byte(httpBase+body))
		if !errors.Is(err, manifest.ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", body, err, want)
		}
	}
}

func TestConfigCapability(t *testing.T) {
	m, err := manifest.Parse("a.toml", []byte(httpBase+`
[[capabilities.config.value]]
name = "model"
value = "small-1"

[[capabilities.config.secret]]
name = "api_key"
`))
	if err != nil {
		t.Fatal(err)
	}
	c := m.Capabilities.Config
	if !m.Grants("config") || len(c.Value) != 1 || c.Value[0].Value != "small-1" || c.Secret[0].Name != "api_key" {
		t.Fatalf("got %+v", c)
	}
	for body, want := range map[string]string{
		"[[capabilities.config.value]]\nname = \"a.b\"\nvalue = \"x\"\n":                              "invalid name \"a.b\"",
		"[[capabilities.config.value]]\nname = \"a\"\n[[capabilities.config.secret]]\nname = \"a\"\n": "name \"a\" given twice",
	} {
		_, err := manifest.Parse("a.toml", []byte(httpBase+body))
		if !errors.Is(err, manifest.ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", body, err, want)
		}
	}
}
