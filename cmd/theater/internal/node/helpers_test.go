package node

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/theater-go/theater/transport"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// counterManifest is the WAT counter: sends and requests add a u32, the
// reply is the u64 total, the state the total.
var counterManifest = filepath.Join("..", "..", "..", "..", "examples", "counter", "counter.toml")

// testServer starts an embedded server on a free port with its store in a
// temporary directory.
func testServer(t testing.TB) *transport.Embedded {
	t.Helper()
	ctx := context.Background()
	srv, err := transport.StartEmbedded(ctx, transport.EmbeddedConfig{Listen: "127.0.0.1:0", StoreDir: t.TempDir()},
		transport.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	return srv
}

func connect(t testing.TB, srv *transport.Embedded) *nats.Conn {
	t.Helper()
	nc, err := transport.Connect(context.Background(), transport.ClientConfig{URLs: srv.ClientURL()}, transport.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// startNode starts a node named name on its own connection.
func startNode(t testing.TB, srv *transport.Embedded, name string) *Node {
	t.Helper()
	n, err := Start(context.Background(), Config{Conn: connect(t, srv), Name: name, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close(context.Background()) })
	return n
}

func newClient(t testing.TB, srv *transport.Embedded) *Client {
	t.Helper()
	c, err := NewClient(context.Background(), connect(t, srv), transport.Layout{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkFor polls cond until it returns nil or d passes, then fails with
// its last error.
func checkFor(t testing.TB, d time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	interval := time.Millisecond
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s: %v", d, err)
		}
		time.Sleep(interval)
		if interval < 50*time.Millisecond {
			interval *= 2
		}
	}
}

// spawnCounter spawns the counter on node (any node when "").
func spawnCounter(t testing.TB, c *Client, id, node string) ActorInfo {
	t.Helper()
	info, err := c.SpawnFile(context.Background(), counterManifest, SpawnOptions{ID: id, Node: node})
	if err != nil {
		t.Fatal(err)
	}
	return info
}
