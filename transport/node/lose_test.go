package node_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// spawnEcho spawns the WAT echo guest (a request's reply is its message)
// under id.
func spawnEcho(t testing.TB, c *client.Client, id string) {
	t.Helper()
	m, err := manifest.Parse("echo.toml", []byte(echoManifest))
	if err != nil {
		t.Fatal(err)
	}
	wasm := readFile(t, filepath.Join("..", "..", "examples", "echo", "wat", "echo.wasm"))
	if _, err := c.Spawn(context.Background(), m, wasm, nil, client.SpawnOptions{ID: id}); err != nil {
		t.Fatal(err)
	}
}

// TestFailedAppendReleasesLease: a handled event the server refuses (the
// chain stream is full) lets the node go of the actor; it must give the
// lease back, so the actor is hosted again (here, by the sweep, once the
// stream takes appends again) instead of staying leased to a live node
// that does not host it.
func TestFailedAppendReleasesLease(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	a := startNodeCfg(t, srv, node.Config{Name: "a", Store: transport.StoreConfig{NodeTTL: time.Second}})
	c := newClient(t, srv)
	spawnEcho(t, c, "echo")
	small := []byte{0xc4, 3, 1, 2, 3}
	if _, err := c.Request(ctx, "echo", small, wire.Msgpack); err != nil {
		t.Fatal(err)
	}
	lift := fillChainStream(t, natsJS(t, connect(t, srv)))
	if _, err := c.Request(ctx, "echo", small, wire.Msgpack); err == nil {
		t.Fatal("a request whose event cannot be appended was answered")
	}
	checkFor(t, 10*time.Second, func() error {
		if node.Hosts(a, "echo") {
			return errors.New("node a still hosts echo")
		}
		return nil
	})
	lift()
	checkFor(t, 15*time.Second, func() error {
		_, err := c.Request(ctx, "echo", small, wire.Msgpack)
		return err
	})
}
