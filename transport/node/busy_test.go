package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// TestBusyActorBlocksNoControl: while one actor runs a long handler, its
// node still lists its actors, stops another actor, and takes a stop of
// the busy actor without holding up the endpoints behind it. Each answer
// must come well within the handler's 7 seconds.
func TestBusyActorBlocksNoControl(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	a := startNode(t, srv, "a")
	c := newClient(t, srv)
	nc := connect(t, srv)
	spawnCounter(t, c, "calm", "a")
	spawnCounter(t, c, "calm-2", "a")
	m := &manifest.Manifest{Name: "loop", Module: "loop.wasm", Types: manifest.Types{Request: "u32", Reply: "u32"},
		Limits: manifest.Limits{HandlerDeadline: manifest.Duration(7 * time.Second)}}
	spawnModule(t, c, m, filepath.Join(guestsDir, "loop.wasm"), "loop", "a")

	busy := make(chan error, 1)
	go func() {
		_, err := c.Request(ctx, "loop", mp3, wire.Msgpack)
		busy <- err
	}()
	checkFor(t, 10*time.Second, func() error {
		if !node.Busy(a, "loop") {
			return errors.New("the loop actor is not busy yet")
		}
		return nil
	})
	started := time.Now()
	const quick = 2 * time.Second

	// The node's list endpoint answers, with the busy actor in it.
	reply, err := nc.Request("theater.node.a.list", nil, quick)
	if err != nil {
		t.Fatalf("list while an actor is busy: %v", err)
	}
	var list []wire.ActorInfo
	if err := json.Unmarshal(reply.Data, &list); err != nil || len(list) != 3 {
		t.Fatalf("list: %s (%v), want 3 actors", reply.Data, err)
	}

	// Stopping the busy actor waits for its handler, but in its own time:
	// a stop of another actor issued after it answers at once.
	stopBusy := make(chan error, 1)
	go func() {
		_, err := c.Stop(ctx, "loop")
		stopBusy <- err
	}()
	checkFor(t, quick, func() error {
		if e, err := c.Entry(ctx, "loop"); err != nil || e.Status != wire.StatusStopped && !node.Stopping(a, "loop") {
			return errors.New("the stop of loop has not reached the node yet")
		}
		return nil
	})
	sctx, cancel := context.WithTimeout(ctx, quick)
	defer cancel()
	if info, err := c.Stop(sctx, "calm"); err != nil || info.Status != wire.StatusStopped {
		t.Fatalf("stop of another actor while one is busy: %+v, %v", info, err)
	}
	if _, err := nc.Request("theater.node.a.list", nil, quick); err != nil {
		t.Fatalf("list while a stop waits on a busy actor: %v", err)
	}
	lctx, lcancel := context.WithTimeout(ctx, quick)
	defer lcancel()
	if _, err := c.List(lctx); err != nil {
		t.Fatalf("client list while an actor is busy: %v", err)
	}
	if d := time.Since(started); d > 5*time.Second {
		t.Fatalf("control answers took %v while the handler runs 7s", d)
	}

	if err := <-busy; !errors.Is(err, wire.ErrFailed) && !errors.Is(err, wire.ErrStopped) {
		t.Errorf("loop request: %v, want its deadline's failure", err)
	}
	if err := <-stopBusy; err != nil {
		t.Errorf("stop of the busy actor: %v", err)
	}
}
