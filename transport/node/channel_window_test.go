package node_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/node"
)

// TestChannelRepublishPastWindow: a restore of the publisher that comes
// after the channels and mailbox streams' duplicate window makes its
// latest publication again (the stream stores it a second time), and
// the subscriber, restored too, still handles it once: the mailbox id
// of a delivery is the publication's own, which the subscriber's
// handled ids know.
func TestChannelRepublishPastWindow(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	store := transport.StoreConfig{DuplicateWindow: time.Second}
	a := startNodeCfg(t, srv, node.Config{Name: "a", Store: store, Logger: quiet, SpawnTimeout: goSpawnTimeout})
	c := newClient(t, srv)
	spawnPublisher(t, c, "pub", "a", `publish = ["feed"]`)
	spawnPublisher(t, c, "sub", "a", `subscribe = ["feed"]`)
	if got := publish(t, c, "pub", "feed", "m", 1); got != "ok" {
		t.Fatal(got)
	}
	waitReceived(t, c, "sub", []string{"m"})
	st, err := natsJS(t, connect(t, srv)).Stream(ctx, "theater_channels")
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before := info.State.LastSeq
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond) // past both streams' duplicate window
	startNodeCfg(t, srv, node.Config{Name: "b", Store: store, Logger: quiet, SpawnTimeout: goSpawnTimeout})
	checkFor(t, 20*time.Second, func() error {
		info, err := st.Info(ctx)
		if err != nil {
			return err
		}
		if info.State.LastSeq == before {
			return fmt.Errorf("no publication made again (last sequence %d)", before)
		}
		return nil
	})
	// A later publication follows the republished one through the
	// subscriber's consumer and mailbox: once it is there, a second "m"
	// would be before it.
	if got := publish(t, c, "pub", "feed", "n", 1); got != "ok" {
		t.Fatal(got)
	}
	waitReceived(t, c, "sub", []string{"m", "n"})
}

// TestChannelRespawnStartsAfresh: an actor spawned again under the id of
// a stopped subscriber does not get what was published to the old one
// (its consumer is deleted and made again at the spawn), and one spawned
// without subscriptions leaves no consumer behind.
func TestChannelRespawnStartsAfresh(t *testing.T) {
	ctx := context.Background()
	c, st := stoppedSubscriber(t)
	spawnPublisher(t, c, "sub", "a", `subscribe = ["feed"]`)
	if got := publish(t, c, "pub", "feed", "new", 1); got != "ok" {
		t.Fatal(got)
	}
	waitReceived(t, c, "sub", []string{"new"})

	if _, err := c.Stop(ctx, "sub"); err != nil {
		t.Fatal(err)
	}
	spawnPublisher(t, c, "sub", "a", `publish = ["feed"]`)
	if _, err := st.Consumer(ctx, "chan_sub"); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Fatalf("consumer of a subscriber spawned again without subscriptions: %v", err)
	}
}
