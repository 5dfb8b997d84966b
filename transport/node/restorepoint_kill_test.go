package node_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// TestRestorePointKill: a real `theater serve` child hosting the counter
// is killed with SIGKILL right after a snapshot's restore point is
// written ("after-point"), or as if between the snapshot event and its
// point ("before-point": the point is set back to the previous
// snapshot's), while a sender on another node keeps sending to it. The
// node that takes the counter restores from the point and the events
// after it, exactly: every send handled once, the counter's state the
// number of sends; and its handled-send ids are whole: the sender,
// restored from its whole chain past the mailbox's duplicate window,
// republishes every send it made, and the counter drops them all.
func TestRestorePointKill(t *testing.T) {
	for _, when := range []string{"after-point", "before-point"} {
		t.Run(when, func(t *testing.T) { restorePointKill(t, when) })
	}
}

func restorePointKill(t *testing.T, when string) {
	ctx := context.Background()
	srv := testServer(t)
	child := startServe(t, srv.ClientURL(), "a", "--node-ttl", "1s")
	// Started after the child: the streams keep this node's 1 s window.
	store := transport.StoreConfig{DuplicateWindow: time.Second, NodeTTL: time.Second}
	// The node that takes the counter over logs how it restored it.
	w := newLogWatch()
	b := startNodeCfg(t, srv, node.Config{Name: "b", Store: store, Logger: slog.New(w)})
	c := newClient(t, srv)
	spawnCounter(t, c, "counter-1", "a")
	spawnSendTrapOn(t, c, "sender", "counter-1", "b")
	js := natsJS(t, connect(t, srv))
	bucket := transport.Layout{}.RestoreBucket()
	kv, err := js.KeyValue(ctx, bucket)
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	replied := 0
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := c.Request(rctx, "sender", []byte{0x01}, wire.Msgpack)
			cancel()
			if err == nil {
				mu.Lock()
				replied++
				mu.Unlock()
			}
		}
	}()
	// The counter's points: after init, then every 100 handled sends.
	var prev, last jetstream.KeyValueEntry
	checkFor(t, 60*time.Second, func() error {
		e, err := kv.Get(ctx, "counter-1")
		if err != nil {
			return err
		}
		if last == nil || e.Revision() != last.Revision() {
			prev, last = last, e
		}
		seq, err := node.PointSeq(ctx, js, bucket, "counter-1")
		if err != nil || seq < 200 || prev == nil {
			return fmt.Errorf("point at event %d, %v", seq, err)
		}
		return nil
	})
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	close(stop)
	wg.Wait()
	if when == "before-point" {
		if _, err := kv.Put(ctx, "counter-1", prev.Value()); err != nil {
			t.Fatal(err)
		}
	}
	waitDupWindowPassed(t, srv, "probe-"+when)

	b2 := startNodeCfg(t, srv, node.Config{Name: "b2", Store: store, Logger: slog.New(w)})
	hosts := []*node.Node{b, b2}
	waitHosted(t, &hosts, "counter-1")
	if w.count("restore read the chain from its restore point") == 0 || w.count("restore read the whole chain") != 0 {
		t.Fatalf("the taker's restore: %d from the point, %d of the whole chain",
			w.count("restore read the chain from its restore point"), w.count("restore read the whole chain"))
	}
	mu.Lock()
	total := replied
	mu.Unlock()
	waitStateFor(t, c, "counter-1", fmt.Sprint(total), 30*time.Second)

	// The sender again, from its whole chain: it republishes every send.
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := kv.Delete(ctx, "sender"); err != nil {
		t.Fatal(err)
	}
	waitDupWindowPassed(t, srv, "probe2-"+when)
	s := startNodeCfg(t, srv, node.Config{Name: "s", Store: store})
	hosts = append(hosts, s)
	waitHosted(t, &hosts, "sender")
	// Sends from one actor are handled in the order they were released,
	// republished ones first: once the next one is in, every duplicate
	// would have been handled before it.
	// Its reply waits behind the republished sends (hundreds of
	// publishes), slow under the race detector on a loaded machine.
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if _, err := c.Request(rctx, "sender", []byte{0x01}, wire.Msgpack); err != nil {
		t.Fatal(err)
	}
	waitStateFor(t, c, "counter-1", fmt.Sprint(total+1), 30*time.Second)
	got := map[string]int{}
	for _, e := range chainOf(t, connect(t, srv), "counter-1") {
		if h, ok := e.Body.(*chain.Handled); ok && h.Call == chain.CallSend {
			if got[h.MsgID]++; got[h.MsgID] > 1 {
				t.Fatalf("the counter handled send %s twice", h.MsgID)
			}
		}
	}
	if len(got) != total+1 {
		t.Fatalf("the counter handled %d sends, want %d", len(got), total+1)
	}
	t.Logf("%s: %d sends, the counter restored from its point", when, total)
}
