package node_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// TestMailboxStartsEmpty publishes sends, as a raw JetStream publisher,
// to an id before it exists; the actor spawned under it later handles
// none of them, only those sent after.
func TestMailboxStartsEmpty(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	js := natsJS(t, connect(t, srv))
	for range 50 {
		if _, err := js.Publish(ctx, "theater.actor.fresh.send", mp3); err != nil {
			t.Fatal(err)
		}
	}
	// The client refuses a send to an id nobody spawned.
	if err := c.Send(ctx, "fresh", mp3, wire.Msgpack); !errors.Is(err, wire.ErrUnknownActor) {
		t.Fatalf("client send to an unknown id: %v", err)
	}
	spawnCounter(t, c, "fresh", "")
	if err := c.Send(ctx, "fresh", mp3, wire.Msgpack); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "fresh", "3")
	if reply, err := c.Request(ctx, "fresh", []byte("0"), wire.JSON); err != nil || string(reply) != "3" {
		t.Fatalf("total %s %v, want 3: sends from before the spawn were handled", reply, err)
	}
}

// TestUnknownSendsExpire: sends to an id that never exists age out of
// the mailbox stream after Store.MailboxMaxAge.
func TestUnknownSendsExpire(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNodeCfg(t, srv, node.Config{Name: "a", Store: transport.StoreConfig{MailboxMaxAge: time.Second}})
	js := natsJS(t, connect(t, srv))
	for range 20 {
		if _, err := js.Publish(ctx, "theater.actor.nobody.send", mp3); err != nil {
			t.Fatal(err)
		}
	}
	s, err := js.Stream(ctx, "theater_mailbox")
	if err != nil {
		t.Fatal(err)
	}
	checkFor(t, 10*time.Second, func() error {
		_, err := s.GetLastMsgForSubject(ctx, "theater.actor.nobody.send")
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil
		}
		return errors.New("the sends to nobody are still stored")
	})
}

// TestRouterRefusesUnknownIDs: the node's router, as the client does,
// stores nothing for an id with no registry entry or a stopped actor.
func TestRouterRefusesUnknownIDs(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	n := startNode(t, srv, "a")
	c := newClient(t, srv)
	spawnCounter(t, c, "live", "")
	spawnCounter(t, c, "gone", "")
	if _, err := c.Stop(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	r := n.Router()
	for _, id := range []string{"nobody", "gone"} {
		if err := r.Send(ctx, "", id, mp3); !errors.Is(err, actor.ErrUnknownActor) {
			t.Errorf("send to %s: %v", id, err)
		}
	}
	s, err := natsJS(t, connect(t, srv)).Stream(ctx, "theater_mailbox")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"nobody", "gone"} {
		if _, err := s.GetLastMsgForSubject(ctx, "theater.actor."+id+".send"); !errors.Is(err, jetstream.ErrMsgNotFound) {
			t.Errorf("%s: a send was stored: %v", id, err)
		}
	}
	if err := r.Send(ctx, "", "live", mp3); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "live", "3")
}
