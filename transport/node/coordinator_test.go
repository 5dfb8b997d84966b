package node_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/actor/replay"
	"github.com/theater-go/theater/examples/coordinator"
	"github.com/theater-go/theater/examples/coordinator/tool"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// coordinatorWasm builds the coordinator example's three guests.
var coordinatorWasm = sync.OnceValues(func() (map[string][]byte, error) {
	dir, err := os.MkdirTemp("", "coordinator")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	mods := map[string][]byte{}
	for _, g := range []string{"coordinator", "worker", "toolworker"} {
		out := filepath.Join(dir, g+".wasm")
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, "./examples/coordinator/"+g)
		cmd.Dir = filepath.Join("..", "..")
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
		if msg, err := cmd.CombinedOutput(); err != nil {
			return nil, errors.New(string(msg))
		}
		if mods[g], err = os.ReadFile(out); err != nil {
			return nil, err
		}
	}
	return mods, nil
})

// TestCoordinatorExample runs examples/coordinator/tree.toml on a node:
// the coordinator fans jobs out over channels to the two workers (one
// calling the example's HTTP tool), retries a job its worker dropped
// when its timer fires, gives up on one nobody takes after three
// attempts; then, with the tool and NATS stopped, every chain replays
// with every state equal.
func TestCoordinatorExample(t *testing.T) {
	ctx := context.Background()
	var toolCalls atomic.Int32
	toolSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		toolCalls.Add(1)
		tool.Handler().ServeHTTP(w, r)
	}))
	defer toolSrv.Close()
	u, _ := url.Parse(toolSrv.URL)

	// The example's files, the tool's port in place of 8099, and the
	// modules its README builds.
	dir := t.TempDir()
	mods, err := coordinatorWasm()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"tree.toml", "coordinator.toml", "worker-calc.toml", "worker-tool.toml"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "examples", "coordinator", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), []byte(strings.ReplaceAll(string(b), "8099", u.Port())), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for g, b := range mods {
		if err := os.WriteFile(filepath.Join(dir, g+".wasm"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	srv := testServer(t)
	// Three Go guests compile at the spawn: minutes under the race
	// detector on a loaded machine.
	n := startNodeCfg(t, srv, node.Config{Name: "a", SpawnTimeout: 5 * time.Minute})
	c := newClient(t, srv)
	tctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if _, err := c.SpawnTree(tctx, filepath.Join(dir, "tree.toml"), client.SpawnOptions{Node: "a"}); err != nil {
		t.Fatal(err)
	}
	ask := func(args ...string) []string {
		r, err := c.Request(ctx, "coordinator", coordinator.Strs(args...), wire.Msgpack)
		if err != nil {
			t.Fatal(err)
		}
		s, _, err := coordinator.ReadStrs(r)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, s := range []struct {
		kind, input, want string
	}{
		{"calc", "hello channel world", "j1"},
		{"tool", "what is NATS", "j2"},
		{"calc", "flaky job", "j3"},
		{"nobody", "lost", "j4"},
		{"a.b", "x", "error theater: channel: denied: jobs.a.b"},
	} {
		if got := strings.Join(ask("submit", s.kind, s.input), " "); got != s.want {
			t.Fatalf("submit %s: %q, want %q", s.kind, got, s.want)
		}
	}
	want := []string{
		"j1 calc done attempts=1 worker=worker-calc HELLO CHANNEL WORLD (3 words)",
		"j2 tool done attempts=1 worker=worker-tool 12 bytes, sha256 86f3be9bf13e",
		"j3 calc done attempts=2 worker=worker-calc FLAKY JOB (2 words)",
		"j4 nobody failed attempts=3 worker= ",
	}
	checkFor(t, 30*time.Second, func() error {
		if got := ask("status"); !slices.Equal(got, want) {
			return fmt.Errorf("status %q", got)
		}
		return nil
	})
	if n := toolCalls.Load(); n != 1 {
		t.Fatalf("the tool was called %d times", n)
	}

	// Offline: the tool and NATS stopped; the chains answer everything.
	evs := map[string][]chain.Event{}
	for _, id := range []string{"coordinator", "worker-calc", "worker-tool"} {
		evs[id] = chainOf(t, connect(t, srv), id)
	}
	toolSrv.Close()
	if err := n.Close(ctx); err != nil {
		t.Fatal(err)
	}
	srv.Shutdown(ctx)
	for id, e := range evs {
		m, err := manifest.Load(filepath.Join(dir, id+".toml"))
		if err != nil {
			t.Fatal(err)
		}
		spec, err := actor.SpecFromManifest(id, m, nil)
		if err != nil {
			t.Fatal(err)
		}
		spec.Module = mods[strings.TrimSuffix(filepath.Base(m.Module), ".wasm")]
		rep, err := replay.Replay(ctx, newRuntime(t), spec, e)
		if err != nil || !rep.OK() || rep.StatesEqual < 2 {
			t.Fatalf("replay %s: %v %v", id, &rep, err)
		}
		t.Logf("%s", rep.String())
	}
}
