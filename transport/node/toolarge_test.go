package node_test

import (
	"context"
	"errors"
	"testing"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/replay"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// TestEventTooLarge: a request within the actor's message limit whose
// reply is as big makes an event larger than a chain message may be. The
// node refuses it before any effect (the requester gets too_large), keeps
// the actor's state and hosting (the next request is answered at once),
// and records the call so that a restore on another node replays it.
func TestEventTooLarge(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	a := startNode(t, srv, "a")
	c := newClient(t, srv)
	spawnEcho(t, c, "echo")
	small := []byte{0xc4, 3, 1, 2, 3}
	big := append([]byte{0xc6, 0, 9, 0x27, 0xc0}, make([]byte, 600_000)...) // bin32 of 600,000 bytes
	if _, err := c.Request(ctx, "echo", big, wire.Msgpack); !errors.Is(err, wire.ErrTooLarge) {
		t.Fatalf("big request: %v, want too_large", err)
	}
	if !node.Hosts(a, "echo") {
		t.Fatal("the node let echo go")
	}
	if reply, err := c.Request(ctx, "echo", small, wire.Msgpack); err != nil || string(reply) != string(small) {
		t.Fatalf("small request after: %x, %v", reply, err)
	}
	evs := chainOf(t, connect(t, srv), "echo")
	found := false
	for _, e := range evs {
		if f, ok := e.Body.(*chain.Failure); ok && f.Reason == replay.TooLarge {
			found = true
		}
	}
	if !found {
		t.Fatalf("no too_large failure in %v", kinds(evs))
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	startNode(t, srv, "b")
	if reply, err := c.Request(ctx, "echo", small, wire.Msgpack); err != nil || string(reply) != string(small) {
		t.Fatalf("small request on b: %x, %v", reply, err)
	}
}
