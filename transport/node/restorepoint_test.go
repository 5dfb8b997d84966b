package node_test

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// sendAdds makes the sender (sendtrap) send 1 to counter-1 n times, by
// requests.
func sendAdds(t *testing.T, c requester, n int) {
	t.Helper()
	for range n {
		if _, err := c.Request(context.Background(), "sender", []byte{0x01}, wire.Msgpack); err != nil {
			t.Fatal(err)
		}
	}
}

type requester interface {
	Request(context.Context, string, []byte, wire.Encoding) ([]byte, error)
}

// sameRestore fails unless a restore from the point rebuilds what one
// from the chain's start does: the head, the state, the mailbox
// position, the handled-send ids in order with their senders' marks, and
// the events replay runs. The point's restore does again the effects of
// the events after its snapshot only: every effect before it was
// released before the point was written.
func sameRestore(t *testing.T, ctx context.Context, n *node.Node, id string) (point, full node.RestoreView) {
	t.Helper()
	var err error
	if point, err = node.RestoreOf(ctx, n, id, true); err != nil {
		t.Fatal(err)
	}
	if full, err = node.RestoreOf(ctx, n, id, false); err != nil {
		t.Fatal(err)
	}
	if full.FromPoint || full.Read != int(full.Head) {
		t.Fatalf("the full restore read %d of %d events", full.Read, full.Head)
	}
	if point.Head != full.Head || point.State != full.State || point.Mbox != full.Mbox || point.Replay != full.Replay ||
		!slices.Equal(point.Seen, full.Seen) || !reflect.DeepEqual(point.Tops, full.Tops) {
		t.Fatalf("from the point: head %d state %s mbox %d replay from %d, %d seen ids %v\nfrom the start: head %d state %s mbox %d replay from %d, %d seen ids %v",
			point.Head, point.State, point.Mbox, point.Replay, len(point.Seen), point.Tops, full.Head, full.State, full.Mbox, full.Replay, len(full.Seen), full.Tops)
	}
	for _, s := range point.Recent {
		if !slices.Contains(full.Recent, s) || s <= point.Replay {
			t.Fatalf("the point's restore does the effects of event %d again (its snapshot is %d; the full restore's: %v)", s, point.Replay, full.Recent)
		}
	}
	return point, full
}

// TestRestorePoint: a restore from the actor's restore point reads only
// the events after its snapshot and rebuilds exactly what a restore from
// the chain's start does (state, mailbox position, handled-send ids);
// a point that is stale (an older snapshot), missing, unreadable or that
// names another event is only slower: the restore is the same.
func TestRestorePoint(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	cfg := node.Config{Name: "a", SnapshotEvery: 10}
	a := startNodeCfg(t, srv, cfg)
	c := newClient(t, srv)
	spawnCounter(t, c, "counter-1", "")
	spawnSendTrap(t, c, "sender", "counter-1")
	js := natsJS(t, connect(t, srv))
	kv, err := js.KeyValue(ctx, transport.Layout{}.RestoreBucket())
	if err != nil {
		t.Fatal(err)
	}
	sendAdds(t, c, 25)
	waitState(t, c, "counter-1", "25")
	var stale jetstream.KeyValueEntry
	checkFor(t, 10*time.Second, func() error {
		e, err := kv.Get(ctx, "counter-1")
		if err != nil {
			return err
		}
		stale = e
		return nil
	})
	sendAdds(t, c, 32)
	waitState(t, c, "counter-1", "57")
	point, full := sameRestore(t, ctx, a, "counter-1")
	t.Logf("live: %d events; from the point %d read, replay from %d; %d seen ids", full.Head, point.Read, point.Replay, len(point.Seen))
	if !point.FromPoint || point.Read > 12 || len(point.Seen) != 57 {
		t.Fatalf("from the point: %d of %d events read, %d seen ids", point.Read, full.Head, len(point.Seen))
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	cfg.Name = "b"
	b := startNodeCfg(t, srv, cfg)
	point, full = sameRestore(t, ctx, b, "counter-1")
	if !point.FromPoint || point.Read > 3 {
		t.Fatalf("after a restart: %d of %d events read", point.Read, full.Head)
	}
	current, err := kv.Get(ctx, "counter-1")
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func() error{
		"stale":      func() error { _, err := kv.Put(ctx, "counter-1", stale.Value()); return err },
		"missing":    func() error { return kv.Delete(ctx, "counter-1") },
		"unreadable": func() error { _, err := kv.Put(ctx, "counter-1", []byte{0xc1}); return err },
		"another event": func() error {
			var p map[string]any
			if err := msgpack.Unmarshal(current.Value(), &p); err != nil {
				return err
			}
			p["hash"].([]byte)[0] ^= 1
			b, err := msgpack.Marshal(p)
			if err == nil {
				_, err = kv.Put(ctx, "counter-1", b)
			}
			return err
		},
	} {
		if err := edit(); err != nil {
			t.Fatal(err)
		}
		p, f := sameRestore(t, ctx, b, "counter-1")
		t.Logf("%s point: %d of %d events read", name, p.Read, f.Head)
		if name == "stale" && (!p.FromPoint || p.Read <= point.Read) || name != "stale" && p.Read != f.Read {
			t.Fatalf("%s point: %d events read, from the point: %v", name, p.Read, p.FromPoint)
		}
	}
	if _, err := c.Request(ctx, "sender", []byte{0x01}, wire.Msgpack); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "counter-1", "58")
}
