package actor_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/guest"
	"github.com/theater-go/theater/actor/manifest"
)

const configGuest = "examples/config-agent/guest"

func configAsk(t *testing.T, a *actor.Actor, name string) string {
	t.Helper()
	r, err := a.Request(context.Background(), guest.AppendString(nil, name))
	if err != nil {
		t.Fatal(err)
	}
	s, _, _ := guest.ReadString(r)
	return s
}

// TestConfigCapability: values from [capabilities.config], secrets from
// the node's file or environment source, and the error cases.
func TestConfigCapability(t *testing.T) {
	m, err := manifest.Parse("cfg.toml", []byte(`name = "cfg"
module = "cfg.wasm"
[[capabilities.config.value]]
name = "model"
value = "small-1"
[[capabilities.config.secret]]
name = "api_key"
[[capabilities.config.secret]]
name = "token"
`))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := actor.SpecFromManifest("cfg", m, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "api_key"), []byte("sk-123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEST_SECRET_TOKEN", "tok")
	rt := newRuntime(t)
	spec.Module = goGuest(t, configGuest)
	for src, wants := range map[string][]string{
		"file": {"small-1", "secret api_key: 6 bytes", "theater: config: missing: token", "theater: config: unknown: other"},
		"env":  {"small-1", "theater: config: missing: api_key", "secret token: 3 bytes", "theater: config: unknown: other"},
	} {
		s := spec
		s.ID = "cfg-" + src
		s.Secrets = actor.FileSecrets(dir)
		if src == "env" {
			s.Secrets = actor.EnvSecrets("TEST_SECRET_")
		}
		a, err := rt.Spawn(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		for k, n := range []string{"model", "secret:api_key", "secret:token", "other"} {
			if got := configAsk(t, a, n); got != wants[k] {
				t.Errorf("%s %s: %q, want %q", src, n, got, wants[k])
			}
		}
		a.Stop(context.Background())
	}
	if _, ok := actor.FileSecrets(dir).Secret("../api_key"); ok {
		t.Fatal("a secret name escaped the directory")
	}
}

// TestConfigRefusedWithoutGrant: a module that imports config without the
// grant is refused at spawn, naming the import.
func TestConfigRefusedWithoutGrant(t *testing.T) {
	_, err := newRuntime(t).Spawn(context.Background(), actor.Spec{ID: "cfg", Module: goGuest(t, configGuest)})
	if !errors.Is(err, actor.ErrRefused) || !strings.Contains(err.Error(), "theater:actor/config@0.1.0") {
		t.Fatalf("got %v", err)
	}
}
