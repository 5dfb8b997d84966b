package node_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// TestFailedAppendReleasesLease: a handled event the server refuses (a
// 600 KB request to the echo guest, within its 1 MiB message limit, makes
// an event of payload plus reply over the server's max payload) lets the
// node go of the actor; it must give the lease back, so the actor is
// hosted again (here, by the sweep) instead of staying leased to a live
// node that does not host it.
func TestFailedAppendReleasesLease(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNodeCfg(t, srv, node.Config{Name: "a", Store: transport.StoreConfig{NodeTTL: time.Second}})
	c := newClient(t, srv)
	m, err := manifest.Parse("echo.toml", []byte(echoManifest))
	if err != nil {
		t.Fatal(err)
	}
	wasm := readFile(t, filepath.Join("..", "..", "examples", "echo", "wat", "echo.wasm"))
	if _, err := c.Spawn(ctx, m, wasm, nil, client.SpawnOptions{ID: "echo"}); err != nil {
		t.Fatal(err)
	}
	small := []byte{0xc4, 3, 1, 2, 3}
	if _, err := c.Request(ctx, "echo", small, wire.Msgpack); err != nil {
		t.Fatal(err)
	}
	big := append([]byte{0xc6, 0, 9, 0x27, 0xc0}, make([]byte, 600_000)...) // bin32 of 600,000 bytes
	if _, err := c.Request(ctx, "echo", big, wire.Msgpack); err == nil {
		t.Fatal("a request whose event cannot be appended was answered")
	}
	checkFor(t, 15*time.Second, func() error {
		_, err := c.Request(ctx, "echo", small, wire.Msgpack)
		return err
	})
}
