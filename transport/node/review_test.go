package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// The tests in this file come from a hostile review of the node; each
// names the finding it covers.

// loopManifest is the guest whose request handler loops until its
// deadline d.
func loopManifest(d time.Duration) *manifest.Manifest {
	return &manifest.Manifest{Name: "loop", Module: "loop.wasm", Types: manifest.Types{Request: "u32", Reply: "u32"},
		Limits: manifest.Limits{HandlerDeadline: manifest.Duration(d)}}
}

// busyLoop spawns the loop guest as id on node a and starts one request
// on it; it returns once the handler holds the actor's turn, and the
// channel that receives the request's error.
func busyLoop(t *testing.T, a *node.Node, c *client.Client, id string, d time.Duration) <-chan error {
	t.Helper()
	spawnModule(t, c, loopManifest(d), filepath.Join(guestsDir, "loop.wasm"), id, a.Name())
	done := make(chan error, 1)
	go func() {
		_, err := c.Request(context.Background(), id, mp3, wire.Msgpack)
		done <- err
	}()
	checkFor(t, 10*time.Second, func() error {
		if !node.Busy(a, id) {
			return fmt.Errorf("%s is not busy yet", id)
		}
		return nil
	})
	return done
}

// stoppedEvents counts the stopped events of actor id published on nc.
func stoppedEvents(t *testing.T, nc *nats.Conn, id string) *atomic.Int32 {
	t.Helper()
	var n atomic.Int32
	sub, err := nc.Subscribe(transport.Layout{}.EventSubject(id, wire.EventStopped), func(*nats.Msg) { n.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return &n
}

// H2: a stop whose context ends while a handler runs kills the actor,
// records it stopped with a context of its own, and leaves the id usable:
// list no longer shows it and a spawn of the id succeeds.
func TestStopPastContextKillsAndRecords(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	a := startNode(t, srv, "a")
	c := newClient(t, srv)
	busy := busyLoop(t, a, c, "loop", time.Minute)

	sctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	info, err := a.Stop(sctx, "loop")
	if err != nil || info.Status != wire.StatusStopped {
		t.Fatalf("stop past its context: %+v, %v; want stopped, nil", info, err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("stop took %v with a 300ms context", d)
	}
	if err := <-busy; err == nil {
		t.Fatal("the aborted request succeeded")
	}
	if e, err := c.Entry(ctx, "loop"); err != nil || e.Status != wire.StatusStopped {
		t.Fatalf("registry after the stop: %+v, %v; want stopped", e, err)
	}
	if node.Hosts(a, "loop") {
		t.Fatal("the node still hosts the stopped actor")
	}
	if _, err := a.Stop(ctx, "loop"); !errors.Is(err, wire.ErrUnknownActor) {
		t.Fatalf("second stop: %v, want ErrUnknownActor", err)
	}
	spawnModule(t, c, loopManifest(time.Minute), filepath.Join(guestsDir, "loop.wasm"), "loop", "a")
	if !node.Hosts(a, "loop") {
		t.Fatal("the id was not spawned again")
	}
}

// M1 and L8: many stops of one busy actor share one wait: the node's
// list, info and spawn endpoints answer meanwhile, every stop returns
// stopped, and one stopped event is published.
func TestStopsShareOneWait(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	a := startNode(t, srv, "a")
	c := newClient(t, srv)
	nc := connect(t, srv)
	events := stoppedEvents(t, nc, "loop")
	busy := busyLoop(t, a, c, "loop", 4*time.Second)

	const stops = 100 // more than the node's control slots
	req, _ := json.Marshal(wire.ActorRequest{ID: "loop"})
	var wg sync.WaitGroup
	errs := make(chan error, stops)
	for range stops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := nc.Request("theater.node.a.stop", req, 30*time.Second)
			if err == nil && m.Header.Get(wire.ErrorHeader) != "" {
				err = fmt.Errorf("%s: %s", m.Header.Get(wire.ErrorHeader), m.Data)
			}
			errs <- err
		}()
	}
	checkFor(t, 5*time.Second, func() error {
		if !node.Stopping(a, "loop") {
			return errors.New("the stop has not begun")
		}
		return nil
	})
	const quick = 2 * time.Second
	for _, op := range []string{"list", "info"} {
		if _, err := nc.Request("theater.node.a."+op, nil, quick); err != nil {
			t.Fatalf("%s while %d stops wait on a busy actor: %v", op, stops, err)
		}
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := c.SpawnFile(sctx, counterManifest, client.SpawnOptions{ID: "other", Node: "a"}); err != nil {
		t.Fatalf("spawn while %d stops wait on a busy actor: %v", stops, err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a stop failed: %v", err)
		}
	}
	<-busy
	// A later event on the same connection is a barrier: the server
	// delivers a subscriber's messages in order.
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 5*time.Second, func() error {
		if n := events.Load(); n != 1 {
			return fmt.Errorf("%d stopped events, want 1", n)
		}
		return nil
	})
	if _, err := c.Stop(ctx, "loop"); !errors.Is(err, wire.ErrStopped) {
		t.Fatalf("stop of a stopped actor: %v, want ErrStopped", err)
	}
	if n := events.Load(); n != 1 {
		t.Fatalf("%d stopped events after a refused stop, want 1", n)
	}
}

// L1: while a stop waits for a busy handler, a request is answered
// ErrStopped saying the actor is stopping, not "no node hosts it".
func TestRequestDuringStopSaysStopping(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	a := startNode(t, srv, "a")
	c := newClient(t, srv)
	busy := busyLoop(t, a, c, "loop", 3*time.Second)
	stopped := make(chan error, 1)
	go func() {
		_, err := c.Stop(ctx, "loop")
		stopped <- err
	}()
	checkFor(t, 5*time.Second, func() error {
		if !node.Stopping(a, "loop") {
			return errors.New("the stop has not begun")
		}
		return nil
	})
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := c.Request(rctx, "loop", mp3, wire.Msgpack)
	if !errors.Is(err, wire.ErrStopped) || !strings.Contains(err.Error(), "stopping") {
		t.Fatalf("request during a stop: %v, want ErrStopped saying stopping", err)
	}
	<-busy
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}

// M2: the requester's deadline travels with a request; a request that
// waited behind a busy handler past it is not run. The loop guest fails
// every request at its handler deadline, so the chain's failures count
// the requests that ran: the first and the one after the expired one.
func TestExpiredRequestDoesNotRun(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	a := startNode(t, srv, "a")
	c := newClient(t, srv)
	nc := connect(t, srv)
	busy := busyLoop(t, a, c, "loop", time.Second)

	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := c.Request(short, "loop", mp3, wire.Msgpack); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("queued request with 300ms: %v, want deadline exceeded", err)
	}
	if err := <-busy; !errors.Is(err, wire.ErrFailed) {
		t.Fatalf("first request: %v, want its deadline's failure", err)
	}
	// Requests to one actor are taken in order: this one runs after the
	// expired one would have.
	lctx, lcancel := context.WithTimeout(ctx, 10*time.Second)
	defer lcancel()
	if _, err := c.Request(lctx, "loop", mp3, wire.Msgpack); !errors.Is(err, wire.ErrFailed) {
		t.Fatalf("last request: %v, want its deadline's failure", err)
	}
	var evs []chain.Event
	checkFor(t, 5*time.Second, func() error {
		evs = chainOf(t, nc, "loop")
		if n := countKind(evs, chain.KindFailure); n != 2 {
			return fmt.Errorf("%d failures in the chain, want 2 (%v)", n, kinds(evs))
		}
		return nil
	})
}

// M3: a stop handles the sends stored before it: five acknowledged
// sends, then a stop at once, and the stopped actor's state counts them
// all, as does its chain.
func TestStopHandlesStoredSends(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	nc := connect(t, srv)
	spawnCounter(t, c, "drain", "a")
	for range 5 {
		if err := c.Send(ctx, "drain", []byte("1"), wire.JSON); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Stop(ctx, "drain"); err != nil {
		t.Fatal(err)
	}
	e, err := c.Entry(ctx, "drain")
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != wire.StatusStopped || e.MailboxSeq != 5 {
		t.Fatalf("entry after the stop: status %s, mailbox_seq %d; want stopped, 5", e.Status, e.MailboxSeq)
	}
	if err := exactlyOnce(chainOf(t, nc, "drain"), 5); err != nil {
		t.Fatal(err)
	}
}

// L4: an invalid prefix is a configuration error, for the node and the
// client alike.
func TestInvalidPrefixIsConfig(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	nc := connect(t, srv)
	_, err := node.Start(ctx, node.Config{Conn: nc, Runtime: newRuntime(t), Layout: transport.Layout{Prefix: "a.b"}, Logger: quiet})
	if !errors.Is(err, node.ErrConfig) {
		t.Fatalf("node.Start with prefix a.b: %v, want node.ErrConfig", err)
	}
	_, err = client.New(ctx, nc, client.WithLayout(transport.Layout{Prefix: "a.b"}))
	if !errors.Is(err, transport.ErrConfig) {
		t.Fatalf("client.New with prefix a.b: %v, want transport.ErrConfig", err)
	}
}
