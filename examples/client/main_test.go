package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/natstest"
	"github.com/theater-go/theater/transport/node"
)

// build builds the example and returns the binary's path.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "client")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestClientCallsCounter runs the built program against a real node
// hosting the counter: two calls add up.
func TestClientCallsCounter(t *testing.T) {
	bin := build(t)
	srv := natstest.RunServer(t)
	natstest.StartNode(t, srv.ClientURL(), node.Config{Name: "a"})
	c := natstest.NewClient(t, srv.ClientURL())
	if _, err := c.SpawnFile(natstest.Context(t), filepath.Join("..", "counter", "counter.toml"), client.SpawnOptions{ID: "counter"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ n, want string }{{"5", "total: 5"}, {"7", "total: 12"}} {
		out, err := exec.Command(bin, "-server", srv.ClientURL(), "-id", "counter", tc.n).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != tc.want {
			t.Fatalf("client %s: %q, %v; want %q", tc.n, out, err, tc.want)
		}
	}
}

// forbidden are the modules a client-only binary must not contain.
var forbidden = []string{"github.com/nats-io/nats-server", "github.com/tetratelabs/wazero"}

// TestNoServerNoWazero checks both the package graph (go list -deps) and
// the modules linked into the built binary (go version -m).
func TestNoServerNoWazero(t *testing.T) {
	deps, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	mods, err := exec.Command("go", "version", "-m", build(t)).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mods), "github.com/nats-io/nats.go") {
		t.Fatalf("go version -m shows no nats.go; is this the client?\n%s", mods)
	}
	for _, f := range forbidden {
		if strings.Contains(string(deps), f) {
			t.Errorf("go list -deps: the client depends on %s", f)
		}
		if strings.Contains(string(mods), f) {
			t.Errorf("go version -m: the client binary contains %s", f)
		}
	}
}
