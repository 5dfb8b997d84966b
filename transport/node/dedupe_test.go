package node_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// TestRepublishPastDuplicateWindow: a restore republishes the sends of
// its actor's latest events (their release may not have happened before
// the stop). When that happens later than the mailbox stream's duplicate
// window, the target must still not handle them again: it knows from its
// own chain which chain-derived ids it handled.
func TestRepublishPastDuplicateWindow(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	store := transport.StoreConfig{DuplicateWindow: time.Second}
	a := startNodeCfg(t, srv, node.Config{Name: "a", Store: store})
	c := newClient(t, srv)
	spawnCounter(t, c, "counter-1", "")
	spawnSendTrap(t, c, "sender", "counter-1")
	if reply, err := c.Request(ctx, "sender", mp3, wire.Msgpack); err != nil || string(reply) != string(mp3) {
		t.Fatalf("request: %x, %v", reply, err)
	}
	waitState(t, c, "counter-1", "3")
	// A probe published after the send: once the stream takes its id
	// again, the send's id is forgotten too.
	js, err := jetstream.New(connect(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	probe := func() (*jetstream.PubAck, error) {
		return js.Publish(ctx, "theater.actor.no-such-probe.send", nil, jetstream.WithMsgID("probe"))
	}
	if _, err := probe(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 30*time.Second, func() error {
		ack, err := probe()
		if err != nil {
			return err
		}
		if ack.Duplicate {
			return fmt.Errorf("the duplicate window still holds the probe")
		}
		return nil
	})
	startNodeCfg(t, srv, node.Config{Name: "b", Store: store})
	// Sends from one actor are handled in the order they were released,
	// republished ones first: once the next send is in, any duplicate of
	// the old one would have been handled before it.
	if _, err := c.Request(ctx, "sender", []byte{0x01}, wire.Msgpack); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 10*time.Second, func() error {
		b, err := c.State(ctx, "counter-1", wire.JSON)
		if err != nil || string(b) == "3" {
			return fmt.Errorf("counter-1: %s, %v", b, err)
		}
		if string(b) != "4" {
			t.Fatalf("counter-1 is %s, want 4: the send released before the restart was handled again", b)
		}
		return nil
	})
}

// TestRespawnedSenderIDsNeverRepeat: an id stopped and spawned again
// continues its chain (the chain stream denies purges), so the ids of
// its new sends are new, and its target, which remembers the old ones as
// handled, handles them.
func TestRespawnedSenderIDsNeverRepeat(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	spawnCounter(t, c, "counter-1", "")
	spawnSendTrap(t, c, "sender", "counter-1")
	if _, err := c.Request(ctx, "sender", mp3, wire.Msgpack); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "counter-1", "3")
	if _, err := c.Stop(ctx, "sender"); err != nil {
		t.Fatal(err)
	}
	spawnSendTrap(t, c, "sender", "counter-1")
	if _, err := c.Request(ctx, "sender", mp4, wire.Msgpack); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "counter-1", "14") // 3, 7 from the stop handler, 4
	js, err := jetstream.New(connect(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, transport.Layout{}.ChainStream())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Purge(ctx, jetstream.WithPurgeSubject(transport.Layout{}.ChainSubject("sender"))); err == nil {
		t.Fatal("the chain stream let a chain be purged")
	}
}
