package node_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/chainstore"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// TestForgedSnapshotRefused: a snapshot appended to a chain with correct
// links and headers, but a state the events before it never reached, is
// refused by the restore (which replays from the last snapshot and would
// otherwise take its state unchecked) and reported by verify.
func TestForgedSnapshotRefused(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	store := transport.StoreConfig{NodeTTL: time.Second}
	a := startNodeCfg(t, srv, node.Config{Name: "a", Store: store})
	c := newClient(t, srv)
	spawnCounter(t, c, "counter-1", "")
	if _, err := requestAdd(ctx, c, "counter-1", 5); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}

	nc := connect(t, srv)
	js := natsJS(t, nc)
	st, err := chainstore.New(ctx, js, transport.Layout{})
	if err != nil {
		t.Fatal(err)
	}
	head, err := st.Head(ctx, "counter-1")
	if err != nil {
		t.Fatal(err)
	}
	forged, err := chain.Seal(head.Head.Next("counter-1", &chain.Snapshot{State: []byte{0xcd, 0x03, 0xe8}})) // u32 1000
	if err != nil {
		t.Fatal(err)
	}
	m := &nats.Msg{Subject: transport.Layout{}.ChainSubject("counter-1"), Data: forged.Payload, Header: forged.Header()}
	m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, fmt.Sprint(head.StreamSeq))
	if _, err := js.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	rep, err := st.Verify(ctx, "counter-1", chain.Head{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Seq != forged.Event.Seq || rep.Findings[0].Problem != chain.Inconsistent {
		t.Fatalf("verify: %v, want one inconsistent finding at event %d", rep.Findings, forged.Event.Seq)
	}

	b := startNodeCfg(t, srv, node.Config{Name: "b", Store: store})
	if node.Hosts(b, "counter-1") { // adoption at start is done when Start returns
		st, err := c.State(ctx, "counter-1", wire.JSON)
		t.Fatalf("node b resumed counter-1 from the forged snapshot: state %s, %v", st, err)
	}
}
