package node_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/node"
)

// TestOneShotTimerNotRecreated: a one-shot timer that fired and was
// handled is not set again by a restore that comes after the timers
// stream's duplicate window (which no longer knows the set's id), nor is
// one that fired while no node hosted the actor; one set again by the
// actor still fires.
func TestOneShotTimerNotRecreated(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	store := transport.StoreConfig{DuplicateWindow: time.Second}
	a := startNodeCfg(t, srv, node.Config{Name: "a", Store: store, SpawnTimeout: goSpawnTimeout})
	c := newClient(t, srv)
	spawnTimer(t, c, "once", "a")
	if got, err := timerAsk(t, c, "once", timerMsg("set", "soon", 100, 0, "x")); err != nil || got != "ok" {
		t.Fatalf("set: %q %v", got, err)
	}
	waitCount := func(want string) {
		t.Helper()
		checkFor(t, 20*time.Second, func() error {
			if got := timerCount(t, c, "once"); got != want {
				return fmt.Errorf("count %q, want %q", got, want)
			}
			return nil
		})
	}
	waitCount("1 x")
	// Fired while no node hosts the actor: it waits in the stream.
	if got, err := timerAsk(t, c, "once", timerMsg("set", "later", 1500, 0, "y")); err != nil || got != "ok" {
		t.Fatalf("set: %q %v", got, err)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // past the window, and past "later"'s time
	b := startNodeCfg(t, srv, node.Config{Name: "b", Store: store})
	waitCount("2 y")
	time.Sleep(2 * time.Second) // a second fire of either is what is tested against
	waitCount("2 y")
	// Again, both now fired and handled, with another restore.
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	startNodeCfg(t, srv, node.Config{Name: "c", Store: store})
	waitCount("2 y")
	time.Sleep(2 * time.Second)
	waitCount("2 y")
	if got, err := timerAsk(t, c, "once", timerMsg("set", "soon", 100, 0, "z")); err != nil || got != "ok" {
		t.Fatalf("set: %q %v", got, err)
	}
	waitCount("3 z")
}
