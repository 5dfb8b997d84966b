package node_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// TestRestorePointInFrame: a snapshot appended in one group commit with
// other events shares their message (a frame); the restore point names
// its stream sequence, and a restore from the point finds the snapshot
// inside the frame instead of reading the whole chain.
func TestRestorePointInFrame(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	a := startNodeCfg(t, srv, node.Config{Name: "a", SnapshotEvery: 10})
	c := newClient(t, srv)
	spawnCounter(t, c, "counter-1", "")
	spawnSendTrap(t, c, "sender", "counter-1")
	js := natsJS(t, connect(t, srv))
	kv, err := js.KeyValue(ctx, transport.Layout{}.RestoreBucket())
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(ctx, transport.Layout{}.ChainStream())
	if err != nil {
		t.Fatal(err)
	}
	// inFrame reports whether the current point's snapshot is in a frame.
	inFrame := func() (bool, error) {
		e, err := kv.Get(ctx, "counter-1")
		if err != nil {
			return false, err
		}
		var p struct {
			StreamSeq uint64 `msgpack:"stream_seq"`
		}
		if err := msgpack.Unmarshal(e.Value(), &p); err != nil {
			return false, err
		}
		m, err := stream.GetMsg(ctx, p.StreamSeq)
		if err != nil {
			return false, err
		}
		return chain.IsFrame(m.Data), nil
	}
	// Concurrent senders keep counter-1's handled events queued behind
	// each append, so its group commits hold several events.
	total := 0
	checkFor(t, 60*time.Second, func() error {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Go(func() {
				for range 10 {
					if _, err := c.Request(ctx, "sender", []byte{0x01}, wire.Msgpack); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		total += 80
		waitState(t, c, "counter-1", fmt.Sprint(total))
		ok, err := inFrame()
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("the point's snapshot is a message of its own")
		}
		return nil
	})
	point, full := sameRestore(t, ctx, a, "counter-1")
	if !point.FromPoint || point.Read >= full.Read {
		t.Fatalf("from a point in a frame: from the point %v, %d of %d events read", point.FromPoint, point.Read, full.Read)
	}
}
