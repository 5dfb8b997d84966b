package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/theater-go/theater/actor/guest"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/natstest"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// TestReplayCommandLargeStoreValues: `theater replay` of an actor whose
// chain records large store values by digest answers the replayed gets
// from the store's value objects, every state equal.
func TestReplayCommandLargeStoreValues(t *testing.T) {
	out := filepath.Join(t.TempDir(), "notes.wasm")
	build := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, "./examples/kv-notes/guest")
	build.Dir = filepath.Join("..", "..")
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if msg, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	mod, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	srv := natstest.RunServer(t)
	// A Go guest's spawn under the race detector on a loaded machine can
	// take over the defaults' minute.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	natstest.StartNode(t, srv.ClientURL(), node.Config{Name: "a", SpawnTimeout: 5 * time.Minute})
	c := natstest.NewClient(t, srv.ClientURL())
	m, err := manifest.Parse("notes.toml", []byte(`name = "notes"
module = "notes.wasm"
[types]
request = "tuple<string, string, string, string, u64>"
reply = "string"
state = "tuple<u64, string>"
[capabilities.store]
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Spawn(ctx, m, mod, nil, client.SpawnOptions{ID: "notes"}); err != nil {
		t.Fatal(err)
	}
	for _, op := range [][2]string{{"fill", "ok"}, {"size", "found 40000 bytes a..b"}, {"get", "found abab"}} {
		msg := guest.AppendArrayHeader(nil, 5)
		for _, s := range []string{op[0], "", "k", "ab"} {
			msg = guest.AppendString(msg, s)
		}
		r, err := c.Request(ctx, "notes", guest.AppendUint(msg, 20000), wire.Msgpack)
		if err != nil {
			t.Fatal(err)
		}
		if s, _, _ := guest.ReadString(r); !strings.HasPrefix(s, op[1]) {
			t.Fatalf("%s: %.80q", op[0], s)
		}
	}
	code, stdout, stderr := runCLI(t, "", "replay", "notes", "--server", srv.ClientURL(), "--timeout", "5m")
	if code != 0 || !strings.Contains(stdout, "all states equal") {
		t.Fatalf("replay: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}
