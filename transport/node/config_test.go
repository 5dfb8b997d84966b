package node_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/guest"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/actor/replay"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

var configWasm = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "cfg")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "cfg.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, "./examples/config-agent/guest")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, errors.New(string(msg))
	}
	return os.ReadFile(out)
})

type secretMap map[string]string

func (s secretMap) Secret(name string) (string, bool) { v, ok := s[name]; return v, ok }

const configManifest = `name = "cfg"
module = "cfg.wasm"
[types]
request = "string"
reply = "string"
state = "tuple<u64, string>"
[[capabilities.config.value]]
name = "model"
value = "small-1"
[[capabilities.config.secret]]
name = "api_key"
`

// TestConfigAndStoreSurviveMove: an actor reads a secret of its node and
// keeps a note in store; its node stops and another, with the same
// secret, takes it over: the restore replays the chain (the secret
// checked against its recorded digest), the note is there, and the chain
// holds the secret's digest, never the secret.
func TestConfigAndStoreSurviveMove(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	const key = "sk-live-0123456789"
	sec := secretMap{"api_key": key}
	// One runtime for both nodes: its compiled modules are shared, so the
	// takeover's replay does not compile the Go guests again (slow under
	// the race detector, and bounded by the takeover's timeout).
	rt := newRuntime(t)
	a, err := node.Start(ctx, node.Config{Conn: connect(t, srv), Runtime: rt, Name: "a", Logger: quiet, Secrets: sec})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, srv)
	cfgMod, err := configWasm()
	if err != nil {
		t.Fatal(err)
	}
	cm, err := manifest.Parse("cfg.toml", []byte(configManifest))
	if err != nil {
		t.Fatal(err)
	}
	nm, err := manifest.Parse("notes.toml", []byte(notesManifest))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Spawn(ctx, cm, cfgMod, nil, client.SpawnOptions{ID: "cfg", Node: "a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Spawn(ctx, nm, notesModule(t), nil, client.SpawnOptions{ID: "notes", Node: "a"}); err != nil {
		t.Fatal(err)
	}
	ask := func(name string) string {
		r, err := c.Request(ctx, "cfg", guest.AppendString(nil, name), wire.Msgpack)
		if err != nil {
			t.Fatal(err)
		}
		s, _, _ := guest.ReadString(r)
		return s
	}
	if got := ask("secret:api_key"); got != "secret api_key: 18 bytes" {
		t.Fatalf("secret: %q", got)
	}
	if got := ask("model"); got != "small-1" {
		t.Fatalf("value: %q", got)
	}
	if got, err := notesCall(t, c, "notes", "put", "", "plan", "step one", 0); err != nil || got != "ok" {
		t.Fatalf("put: %q %v", got, err)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	b := startNodeCfg(t, srv, node.Config{Name: "b", Secrets: sec, Runtime: rt})
	var got string
	checkFor(t, 60*time.Second, func() error {
		r, err := c.Request(ctx, "notes", notesMsg("get", "", "plan", "", 0), wire.Msgpack)
		if err != nil {
			return err
		}
		got, _, _ = guest.ReadString(r)
		return nil
	})
	if got[:len("found step one rev=")] != "found step one rev=" {
		t.Fatalf("after the move: %q", got)
	}
	if got := ask("secret:api_key"); got != "secret api_key: 18 bytes" {
		t.Fatalf("secret after the move: %q", got)
	}
	evs := chainOf(t, connect(t, srv), "cfg")
	digests := 0
	for _, e := range evs {
		if h, ok := e.Body.(*chain.Handled); ok {
			for _, in := range h.Inputs {
				if bytes.Contains(in.Data, []byte(key)) {
					t.Fatal("the secret is in the chain in clear")
				}
				if in.Call == replay.CallSecret {
					digests++
				}
			}
		}
	}
	if digests != 2 {
		t.Fatalf("%d secret inputs, want 2", digests)
	}
	// Offline replay with the secret from another source of the same value.
	spec, err := actor.SpecFromManifest("cfg", cm, nil)
	if err != nil {
		t.Fatal(err)
	}
	spec.Module, spec.Secrets = cfgMod, secretMap{"api_key": key}
	if err := b.Close(ctx); err != nil { // before the server goes: its Close would wait on it
		t.Fatal(err)
	}
	srv.Shutdown(ctx)
	rep, err := replay.Replay(ctx, newRuntime(t), spec, evs)
	if err != nil || !rep.OK() {
		t.Fatalf("replay: %v %v", &rep, err)
	}
}
