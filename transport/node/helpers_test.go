package node_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/embedded"
	"github.com/theater-go/theater/transport/natstest"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

var quiet = natstest.Discard

// counterManifest is the WAT counter: sends and requests add a u32, the
// reply is the u64 total, the state the total.
var counterManifest = filepath.Join("..", "..", "examples", "counter", "counter.toml")

// The helpers below are natstest's, under the short names these tests
// use.

func testServer(t testing.TB) *embedded.Server { t.Helper(); return natstest.RunServer(t) }

func connect(t testing.TB, srv *embedded.Server) *nats.Conn {
	t.Helper()
	return natstest.Connect(t, srv.ClientURL())
}

// startNode starts a node named name on its own connection and runtime.
func startNode(t testing.TB, srv *embedded.Server, name string) *node.Node {
	t.Helper()
	return natstest.StartNode(t, srv.ClientURL(), node.Config{Name: name})
}

// startNodeCfg starts a node with cfg on its own connection and runtime.
func startNodeCfg(t testing.TB, srv *embedded.Server, cfg node.Config) *node.Node {
	t.Helper()
	return natstest.StartNode(t, srv.ClientURL(), cfg)
}

func newClient(t testing.TB, srv *embedded.Server) *client.Client {
	t.Helper()
	return natstest.NewClient(t, srv.ClientURL())
}

// checkFor polls cond until it returns nil or d passes.
func checkFor(t testing.TB, d time.Duration, cond func() error) {
	t.Helper()
	natstest.CheckFor(t, d, 5*time.Millisecond, cond)
}

// encOf is the encoding a table's asJSON column names.
func encOf(asJSON bool) wire.Encoding {
	if asJSON {
		return wire.JSON
	}
	return wire.Msgpack
}

// spawnCounter spawns the counter on node on (any node when "").
func spawnCounter(t testing.TB, c *client.Client, id, on string) wire.ActorInfo {
	t.Helper()
	info, err := c.SpawnFile(context.Background(), counterManifest, client.SpawnOptions{ID: id, Node: on})
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// newRuntime returns a runtime closed when the test ends, for the tests
// that start and close nodes themselves.
func newRuntime(t testing.TB) *actor.Runtime {
	t.Helper()
	rt, err := actor.NewRuntime(context.Background(), actor.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close(context.Background()) })
	return rt
}
