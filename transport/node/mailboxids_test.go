package node_test

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/wire"
)

// TestMailboxIDsAreStreamWide pins what docs/NATS.md ("Who may publish
// where") warns of: the mailbox stream's duplicate window is one for
// every actor, so a publisher allowed to send to actor x only, which
// uses the id another actor's next send to y will carry (chain-derived,
// predictable), makes the stream drop that send to y.
func TestMailboxIDsAreStreamWide(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	spawnCounter(t, c, "x", "a")
	spawnCounter(t, c, "y", "a")
	js, err := jetstream.New(connect(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	l := transport.Layout{}
	id := chain.MessageID("z", 5, 0) // z's first send in its event 5
	send := func(to string) *jetstream.PubAck {
		m := nats.NewMsg(l.SendSubject(to))
		m.Data = []byte{7} // u32 7, msgpack
		m.Header.Set(wire.FromHeader, "z")
		ack, err := js.PublishMsg(ctx, m, jetstream.WithMsgID(id))
		if err != nil {
			t.Fatal(err)
		}
		return ack
	}
	if ack := send("x"); ack.Duplicate {
		t.Fatal("the first send under the id is a duplicate")
	}
	if ack := send("y"); !ack.Duplicate {
		t.Fatal("the send to y under x's id was stored: the duplicate window is per subject now; update docs/NATS.md")
	}
	waitState(t, c, "x", "7")
	if s := stateJSON(t, c, "y"); s != "0" {
		t.Fatalf("y's state %s, want 0 (its send dropped)", s)
	}
}
