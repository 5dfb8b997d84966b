package node_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// spawnSendTrap spawns testdata/sendtrap.wat: a request sends its message
// to target and is answered with it; a send sends it, then traps.
func spawnSendTrap(t testing.TB, c *client.Client, id, target string) {
	t.Helper()
	m := &manifest.Manifest{Name: "sendtrap", Module: "sendtrap.wasm",
		Types:        manifest.Types{Send: "u32", Request: "u32", Reply: "u32"},
		State:        manifest.State{InitialMsgpack: manifest.Msgpack(target)},
		Capabilities: manifest.Capabilities{Message: &manifest.MessageConfig{Allow: []string{target}}}}
	spawnModule(t, c, m, filepath.Join("testdata", "sendtrap.wasm"), id, "")
}

// TestTrappedHandlerReleasesNothing: a guest sends, then its handler
// traps: the send is not delivered, and the chain records a failure with
// no sends. A handler that succeeds has its send delivered, under the id
// derived from its event (also for a request, which has no mailbox
// sequence to name it).
func TestTrappedHandlerReleasesNothing(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	spawnCounter(t, c, "counter-1", "")
	spawnSendTrap(t, c, "trapper", "counter-1")
	if err := c.Send(ctx, "trapper", mp3, wire.Msgpack); err != nil {
		t.Fatal(err)
	}
	nc := connect(t, srv)
	checkFor(t, 10*time.Second, func() error {
		if countKind(chainOf(t, nc, "trapper"), chain.KindFailure) != 1 {
			return errors.New("the trap is not in the chain yet")
		}
		return nil
	})
	// Releases are in chain order: once the request's send arrived, the
	// trapped handler's would have come first.
	if reply, err := c.Request(ctx, "trapper", mp4, wire.Msgpack); err != nil || string(reply) != string(mp4) {
		t.Fatalf("request: %x, %v", reply, err)
	}
	waitState(t, c, "counter-1", "4")
	evs := chainOf(t, nc, "trapper")
	var reqSeq uint64
	for _, e := range evs {
		switch b := e.Body.(type) {
		case *chain.Failure:
			if b.Reason != "trap" || b.MailboxSeq == 0 {
				t.Fatalf("failure %+v", b)
			}
		case *chain.Handled:
			if b.Call == chain.CallRequest {
				reqSeq = e.Seq
				if len(b.Out) != 1 || b.Out[0].To != "counter-1" {
					t.Fatalf("request event's sends: %+v", b.Out)
				}
			}
		}
	}
	s, err := natsJS(t, nc).Stream(ctx, "theater_mailbox")
	if err != nil {
		t.Fatal(err)
	}
	msg, err := s.GetLastMsgForSubject(ctx, "theater.actor.counter-1.send")
	if err != nil {
		t.Fatal(err)
	}
	if id, want := msg.Header.Get(nats.MsgIdHdr), chain.MessageID("trapper", reqSeq, 0); id != want {
		t.Fatalf("the request's send has id %q, want %q", id, want)
	}
}

// TestNoConsumers: reading mailboxes creates no server-side consumer, for
// a live, a hibernated or a stopped actor.
func TestNoConsumers(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	for i := range 5 {
		id := fmt.Sprintf("quiet-%d", i)
		spawnCounter(t, c, id, "")
		if err := c.Send(ctx, id, []byte("1"), wire.JSON); err != nil {
			t.Fatal(err)
		}
		waitState(t, c, id, "1")
	}
	if _, err := c.Stop(ctx, "quiet-0"); err != nil {
		t.Fatal(err)
	}
	js := natsJS(t, connect(t, srv))
	for _, name := range []string{"theater_mailbox", "theater_chain"} {
		s, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Consumers != 0 {
			t.Fatalf("%s has %d consumers, want none", name, info.State.Consumers)
		}
	}
}

// TestSmallDepthTrimsNothing: a node started with a smaller mailbox depth
// than the stream has does not lower it (which would delete acknowledged,
// unhandled sends); a node whose stream is shallow keeps handling sends
// past its depth (handled sends are purged), and a full mailbox answers
// mailbox_full.
func TestSmallDepthTrimsNothing(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	spawnCounter(t, c, "waiting", "")
	js := natsJS(t, connect(t, srv))
	// Sends to an id nobody hosts wait in its mailbox.
	for range 20 {
		m := nats.NewMsg("theater.actor.nobody.send")
		m.Data = mp3
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	startNodeCfg(t, srv, node.Config{Name: "b", Store: transport.StoreConfig{MailboxDepth: 5}})
	s, err := js.Stream(ctx, "theater_mailbox")
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter("theater.actor.nobody.send"))
	if err != nil {
		t.Fatal(err)
	}
	if n := info.State.Subjects["theater.actor.nobody.send"]; n != 20 {
		t.Fatalf("%d sends left of 20", n)
	}

	// A shallow mailbox of its own: depth 8.
	srv2 := testServer(t)
	startNodeCfg(t, srv2, node.Config{Name: "c", Store: transport.StoreConfig{MailboxDepth: 8}})
	c2 := newClient(t, srv2)
	spawnCounter(t, c2, "shallow", "")
	for i := range 20 {
		if err := c2.Send(ctx, "shallow", []byte("1"), wire.JSON); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		waitState(t, c2, "shallow", fmt.Sprint(i+1))
	}
	js2 := natsJS(t, connect(t, srv2))
	for range 8 {
		m := nats.NewMsg("theater.actor.nobody.send")
		m.Data = mp3
		if _, err := js2.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	m := nats.NewMsg("theater.actor.nobody.send")
	m.Data = mp3
	if err := wire.PublishSend(ctx, js2, m, ""); !errors.Is(err, wire.ErrMailboxFull) {
		t.Fatalf("send to a full mailbox: %v, want wire.ErrMailboxFull", err)
	}
}
