package node_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// TestSpawnPastCallerDeadline spawns a module whose instantiation takes
// a second (initloop.wat's _initialize loops until the 1 s handler
// deadline ends it) with callers that give up after 200 ms: Node.Spawn
// called directly and a client over the control subject. The registry
// never says running for an actor no node hosts — not while the spawn
// runs, not after it fails — and the id is free again afterwards.
func TestSpawnPastCallerDeadline(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	a := startNode(t, srv, "a")
	c := newClient(t, srv)
	m := &manifest.Manifest{Name: "slow", Module: "initloop.wasm",
		Limits: manifest.Limits{HandlerDeadline: manifest.Duration(time.Second)}}
	module := readFile(t, filepath.Join("..", "..", "actor", "testdata", "guests", "initloop.wasm"))

	noGhost := func(id string) {
		t.Helper()
		deadline := time.Now().Add(3 * time.Second)
		for time.Now().Before(deadline) {
			e, err := c.Entry(ctx, id)
			if err == nil && e.Status == wire.StatusRunning && !node.Hosts(a, id) {
				t.Fatalf("%s: the registry says running on %s, and no node hosts it", id, e.Node)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if _, err := c.Entry(ctx, id); !errors.Is(err, wire.ErrUnknownActor) {
			t.Fatalf("%s: after the failed spawn the registry has %v", id, err)
		}
	}

	// The module uploaded by a spawn that fails in instantiation.
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	if _, err := c.Spawn(dctx, m, module, nil, client.SpawnOptions{ID: "upload"}); err == nil {
		t.Fatal("initloop spawned")
	}
	cancel()
	digest := wire.DigestName(module)
	m.Module = digest

	sctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	_, err := a.Spawn(sctx, "direct", m)
	cancel()
	if err == nil {
		t.Fatal("the direct spawn succeeded")
	}
	noGhost("direct")

	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	_, err = c.Spawn(cctx, m, nil, nil, client.SpawnOptions{ID: "remote"})
	cancel()
	if err == nil {
		t.Fatal("the client's spawn succeeded")
	}
	noGhost("remote")

	// Both ids are free: their leases were given back.
	for _, id := range []string{"direct", "remote"} {
		spawnCounter(t, c, id, "")
	}
}
