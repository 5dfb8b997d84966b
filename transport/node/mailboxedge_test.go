package node_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

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
