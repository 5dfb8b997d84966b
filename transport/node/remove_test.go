package node_test

import (
	"context"
	"errors"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/transport/wire"
)

// TestRemove removes a stopped actor through the client: its entry and
// its unhandled sends go, its chain stays; a running actor is refused; the
// id spawns afresh from its initial state, continuing the chain.
func TestRemove(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	nc := connect(t, srv)
	js := natsJS(t, nc)
	spawnCounter(t, c, "old", "")
	if err := c.Send(ctx, "old", mp3, wire.Msgpack); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "old", "3")
	if _, err := c.Remove(ctx, "old"); !errors.Is(err, wire.ErrExists) {
		t.Fatalf("remove of a running actor: %v", err)
	}
	if _, err := c.Stop(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	// A send stored after the stop stays in the mailbox until removed.
	if _, err := js.Publish(ctx, "theater.actor.old.send", mp3); err != nil {
		t.Fatal(err)
	}
	info, err := c.Remove(ctx, "old")
	if err != nil || info.Status != wire.StatusRemoved {
		t.Fatalf("remove: %+v %v", info, err)
	}
	if _, err := c.Entry(ctx, "old"); !errors.Is(err, wire.ErrUnknownActor) {
		t.Fatalf("entry after remove: %v", err)
	}
	s, err := js.Stream(ctx, "theater_mailbox")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetLastMsgForSubject(ctx, "theater.actor.old.send"); !errors.Is(err, jetstream.ErrMsgNotFound) {
		t.Errorf("the mailbox still holds sends to old: %v", err)
	}
	before := len(chainOf(t, nc, "old"))
	if _, err := c.Remove(ctx, "old"); !errors.Is(err, wire.ErrUnknownActor) {
		t.Fatalf("second remove: %v", err)
	}
	spawnCounter(t, c, "old", "")
	waitState(t, c, "old", "0")
	if evs := chainOf(t, nc, "old"); len(evs) <= before || evs[before].Body.Kind() != chain.KindSpawn || countKind(evs, chain.KindSpawn) != 2 {
		t.Fatalf("the chain after a spawn of the removed id (%d events before): %v", before, kinds(evs))
	}
}
