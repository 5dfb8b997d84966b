package node_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// stateJSON returns an actor's state as JSON text.
func stateJSON(t testing.TB, c *client.Client, id string) string {
	t.Helper()
	b, err := c.State(context.Background(), id, wire.JSON)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func waitState(t testing.TB, c *client.Client, id, want string) {
	t.Helper()
	checkFor(t, 10*time.Second, func() error {
		b, err := c.State(context.Background(), id, wire.JSON)
		if err != nil {
			return err
		}
		if string(b) != want {
			return fmt.Errorf("state %s, want %s", b, want)
		}
		return nil
	})
}

func TestSpawnSendRequestStop(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	info := spawnCounter(t, c, "", "")
	if info.Node != "a" || info.Status != wire.StatusRunning || info.Name != "counter" {
		t.Fatalf("spawn: %+v", info)
	}
	id := info.ID
	if _, err := c.SpawnFile(ctx, counterManifest, client.SpawnOptions{ID: id}); !errors.Is(err, wire.ErrExists) {
		t.Fatalf("duplicate spawn: %v, want wire.ErrExists", err)
	}
	if err := c.Send(ctx, id, []byte("5"), wire.JSON); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, id, "5")
	reply, err := c.Request(ctx, id, []byte("2"), wire.JSON)
	if err != nil || string(reply) != "7" {
		t.Fatalf("request: %q, %v", reply, err)
	}
	list, err := c.List(ctx)
	if err != nil || len(list) != 1 || list[0].ID != id {
		t.Fatalf("list: %+v, %v", list, err)
	}
	if _, err := c.Stop(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := stateJSON(t, c, id); got != "7" {
		t.Fatalf("state after stop: %s", got)
	}
	if _, err := c.Request(ctx, id, []byte("1"), wire.JSON); !errors.Is(err, wire.ErrStopped) {
		t.Fatalf("request to stopped actor: %v", err)
	}
	if err := c.Send(ctx, id, []byte("1"), wire.JSON); !errors.Is(err, wire.ErrStopped) {
		t.Fatalf("send to stopped actor: %v", err)
	}
	// A stopped id can be spawned again; it starts from the manifest.
	spawnCounter(t, c, id, "")
	if got := stateJSON(t, c, id); got != "0" {
		t.Fatalf("state after respawn: %s", got)
	}
}

// TestGracefulShutdown: a node that closes finishes what it was doing,
// records its actors and leaves; sends stored meanwhile wait in the
// mailbox, and the node started again under its name handles each once.
func TestGracefulShutdown(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	n, err := node.Start(ctx, node.Config{Conn: connect(t, srv), Runtime: newRuntime(t), Name: "a", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, srv)
	spawnCounter(t, c, "calm", "a")
	for _, v := range []string{"1", "2", "3"} {
		if err := c.Send(ctx, "calm", []byte(v), wire.JSON); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Request(ctx, "calm", []byte("1"), wire.JSON); !errors.Is(err, wire.ErrUnavailable) {
		t.Fatalf("request while no node hosts the actor: %v", err)
	}
	if nodes, err := c.Nodes(ctx); err != nil || len(nodes) != 0 {
		t.Fatalf("nodes after close: %+v, %v", nodes, err)
	}
	if err := c.Send(ctx, "calm", []byte("4"), wire.JSON); err != nil {
		t.Fatal(err)
	}
	startNode(t, srv, "a")
	waitState(t, c, "calm", "10")
	// The live state runs ahead of the chain: its last events may be
	// on their way.
	checkFor(t, 5*time.Second, func() error { return exactlyOnce(chainOf(t, connect(t, srv), "calm"), 4) })
	if e, err := c.Entry(ctx, "calm"); err != nil || e.Status != wire.StatusRunning {
		t.Fatalf("entry %+v, %v", e, err)
	}
}

// TestRequestStateRecorded: a request's reply comes only once the
// handled event with the state it left is durable in the chain.
func TestRequestStateRecorded(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	spawnCounter(t, c, "asked", "a")
	if _, err := c.Request(ctx, "asked", []byte("6"), wire.JSON); err != nil {
		t.Fatal(err)
	}
	// No polling: the reply is the proof the event is durable.
	got, err := lastHandledState(chainOf(t, connect(t, srv), "asked"))
	if err != nil || got != chain.Sum([]byte{6}) {
		t.Fatalf("last handled state %s, %v; want the hash of the state 6", got, err)
	}
}
