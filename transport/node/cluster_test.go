package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// msgpack spellings of the counter's values.
var (
	mp3   = []byte{0x03}                // u32 3
	mp4   = []byte{0x04}                // u32 4
	mpTen = []byte{0xa3, 't', 'e', 'n'} // str "ten"
	mpBad = []byte{0xc1}                // never used by msgpack
)

// TestTwoNodes: the counter runs on node b and the relay (a guest using
// the message capability, examples/relay) on node a; a client reaches
// the counter through the relay by id, in msgpack and in JSON. The relay's
// manifest gives it the counter's types, so its node checks and transcodes
// at the edge and only msgpack travels between the actors.
func TestTwoNodes(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	a := startNode(t, srv, "a")
	startNode(t, srv, "b")
	c := newClient(t, srv)
	if info := spawnCounter(t, c, "counter-1", "b"); info.Node != "b" {
		t.Fatalf("counter spawned on %s, want b", info.Node)
	}
	// The example manifest as it is: its state names counter-1.
	if info := spawnRelay(t, c, "relay-1", "a", ""); info.Node != "a" {
		t.Fatalf("relay spawned on %s, want a", info.Node)
	}

	if err := c.Send(ctx, "relay-1", mp3, wire.Msgpack); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "counter-1", "3")
	reply, err := c.Request(ctx, "relay-1", mp4, wire.Msgpack)
	if err != nil || string(reply) != "\x07" {
		t.Fatalf("msgpack request through the relay: %x, %v", reply, err)
	}
	if err := c.Send(ctx, "relay-1", []byte("10"), wire.JSON); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "counter-1", "17")
	reply, err = c.Request(ctx, "relay-1", []byte("1"), wire.JSON)
	if err != nil || string(reply) != "18" {
		t.Fatalf("JSON request through the relay: %s, %v", reply, err)
	}
	// The relay's types are checked on its own node: a bad message never
	// reaches it or the counter.
	if _, err := c.Request(ctx, "relay-1", mpTen, wire.Msgpack); !errors.Is(err, wire.ErrBadType) {
		t.Fatalf("wrong type through the relay: %v, want wire.ErrBadType", err)
	}
	if _, err := c.Request(ctx, "relay-1", []byte(`"ten"`), wire.JSON); !errors.Is(err, wire.ErrBadType) {
		t.Fatalf("wrong JSON type through the relay: %v, want wire.ErrBadType", err)
	}
	if got := stateJSON(t, c, "counter-1"); got != "18" {
		t.Fatalf("counter state %s after refused messages, want 18", got)
	}
	// The relay's untyped state, the target's id, round-trips unchanged.
	if st, err := c.State(ctx, "relay-1", wire.Msgpack); err != nil || string(st) != "counter-1" {
		t.Fatalf("relay state %q, %v; want \"counter-1\"", st, err)
	}

	// The Router directly: an id no node hosts is unavailable at once.
	if _, err := a.Router().Request(ctx, "relay-1", "nobody", mp3, time.Second); !errors.Is(err, wire.ErrUnavailable) {
		t.Fatalf("router request to an unknown actor: %v", err)
	}
	checkFor(t, 5*time.Second, func() error {
		nodes, err := c.Nodes(ctx)
		if err != nil || len(nodes) != 2 || nodes[0].Node != "a" || nodes[1].Node != "b" ||
			nodes[0].Actors != 1 || nodes[1].Actors != 1 {
			return fmt.Errorf("nodes: %+v, %v", nodes, err)
		}
		return nil
	})
}

// TestBadInput sends every kind of bad input through the server: each
// gets its documented error, nothing reaches the actor, and the actor
// keeps answering.
func TestBadInput(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	nc := connect(t, srv)

	m, err := manifest.Load(counterManifest)
	if err != nil {
		t.Fatal(err)
	}
	m.Limits.MaxMessageBytes = 64
	if _, err := c.SpawnFile(ctx, counterManifest, client.SpawnOptions{ID: "gone"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Stop(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	spawnSmall(t, c, m, "small")
	if err := c.Send(ctx, "small", []byte("5"), wire.JSON); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "small", "5")
	big := make([]byte, 100)

	for _, tc := range []struct {
		name    string
		id      string
		payload []byte
		json    bool
		code    string
		want    error
	}{
		{"malformed msgpack", "small", mpBad, false, wire.CodeBadMsgpack, wire.ErrBadMsgpack},
		{"wrong type", "small", mpTen, false, wire.CodeBadType, wire.ErrBadType},
		{"wrong type JSON", "small", []byte(`"ten"`), true, wire.CodeBadType, wire.ErrBadType},
		{"bad JSON", "small", []byte(`{"amount":`), true, wire.CodeBadJSON, wire.ErrBadJSON},
		{"oversize", "small", big, false, wire.CodeTooLarge, wire.ErrTooLarge},
		{"unknown actor", "nobody", mp3, false, "", wire.ErrUnknownActor},
		{"invalid id", "a.b", mp3, false, "", wire.ErrInvalidID},
		{"stopped actor", "gone", mp3, false, "", wire.ErrStopped},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Request(ctx, tc.id, tc.payload, encOf(tc.json))
			if !errors.Is(err, tc.want) {
				t.Errorf("request: %v, want %v", err, tc.want)
			}
			if err := c.Send(ctx, tc.id, tc.payload, encOf(tc.json)); !errors.Is(err, tc.want) {
				t.Errorf("send: %v, want %v", err, tc.want)
			}
			if tc.code != "" {
				// The same through plain NATS: the code is in the header.
				msg := nats.NewMsg("theater.actor." + tc.id + ".req")
				msg.Data = tc.payload
				if tc.json {
					msg.Header.Set(wire.ContentTypeHeader, wire.ContentJSON)
				}
				reply, err := nc.RequestMsg(msg, time.Second)
				if err != nil {
					t.Fatal(err)
				}
				if got := reply.Header.Get(wire.ErrorHeader); got != tc.code || !strings.HasPrefix(string(reply.Data), "theater: ") {
					t.Errorf("nats request: header %q body %q, want code %q", got, reply.Data, tc.code)
				}
			}
			if got := stateJSON(t, c, "small"); got != "5" {
				t.Fatalf("state changed to %s", got)
			}
		})
	}

	// Control requests check ids the same way.
	for subject, body := range map[string]string{
		"theater.ctl.spawn":   `{"id": "a.b", "manifest": {"name": "x", "module": "sha256:00"}}`,
		"theater.node.a.stop": `{"id": "a*"}`,
	} {
		reply, err := nc.Request(subject, []byte(body), time.Second)
		if err != nil || reply.Header.Get(wire.ErrorHeader) != wire.CodeInvalidID {
			t.Errorf("%s: %v, header %v", subject, err, reply.Header)
		}
	}

	// Invalid sends stored by a publisher that skipped the checks are
	// reported and skipped by the node; the next good send is handled.
	js := natsJS(t, nc)
	for _, p := range [][]byte{mpBad, mpTen, big} {
		if _, err := js.Publish(ctx, "theater.actor.small.send", p); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Send(ctx, "small", mp3, wire.Msgpack); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "small", "8")
	reply, err := c.Request(ctx, "small", []byte("0"), wire.JSON)
	if err != nil || string(reply) != "8" {
		t.Fatalf("actor stopped answering: %s, %v", reply, err)
	}
}

func natsJS(t testing.TB, nc *nats.Conn) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// spawnSmall spawns the counter from a modified manifest.
func spawnSmall(t testing.TB, c *client.Client, m *manifest.Manifest, id string) {
	t.Helper()
	if _, err := c.Spawn(context.Background(), m, readFile(t, m.Module), readFile(t, m.WIT), client.SpawnOptions{ID: id}); err != nil {
		t.Fatal(err)
	}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFencedNodeLetsGo: when an actor's lease is taken from under its
// node (another incarnation holds it), the node's next renewal fails on
// the revision and it lets the actor go at once: it stops answering,
// appends nothing more and does not give the lease back.
func TestFencedNodeLetsGo(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNodeCfg(t, srv, node.Config{Name: "a", Store: transport.StoreConfig{NodeTTL: time.Second}})
	c := newClient(t, srv)
	spawnCounter(t, c, "contested", "a")
	nc := connect(t, srv)
	kv, err := natsJS(t, nc).KeyValue(ctx, "theater_leases")
	if err != nil {
		t.Fatal(err)
	}
	// The taker is a live node: a lease held by a node without a
	// heartbeat is an orphan, and a's next sweep (every TTL) takes it back.
	nodes, err := natsJS(t, nc).KeyValue(ctx, "theater_nodes")
	if err != nil {
		t.Fatal(err)
	}
	beating, stopBeating := context.WithCancel(ctx)
	beaten := make(chan struct{})
	t.Cleanup(func() { stopBeating(); <-beaten })
	beat := func() error {
		b, _ := json.Marshal(wire.Heartbeat{Node: "elsewhere", Beat: time.Now().UTC()})
		_, err := nodes.Put(beating, "elsewhere", b)
		return err
	}
	if err := beat(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(beaten)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-beating.Done():
				return
			case <-tick.C:
				_ = beat()
			}
		}
	}()
	taken := `{"node":"elsewhere","incarnation":"stolen"}`
	checkFor(t, 10*time.Second, func() error { // a renewal may land between the read and the update
		kve, err := kv.Get(ctx, "contested")
		if err != nil {
			return err
		}
		_, err = kv.Update(ctx, "contested", []byte(taken), kve.Revision())
		return err
	})
	checkFor(t, 30*time.Second, func() error {
		// A try that reached node a while it let go gets no answer: it
		// must not use up the wait.
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err := c.Request(rctx, "contested", []byte("1"), wire.JSON)
		if !errors.Is(err, wire.ErrUnavailable) {
			return fmt.Errorf("request: %v, want wire.ErrUnavailable once node a let go", err)
		}
		return nil
	})
	// Requests answered before the renewal failed were a's to answer (its
	// lease was valid by its clock); from the let-go on it writes nothing.
	before := len(chainOf(t, nc, "contested"))
	if err := c.Send(ctx, "contested", []byte("1"), wire.JSON); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Request(ctx, "contested", []byte("1"), wire.JSON); !errors.Is(err, wire.ErrUnavailable) {
		t.Fatalf("request after the let-go: %v", err)
	}
	if after := chainOf(t, nc, "contested"); len(after) != before {
		t.Fatalf("node a appended after losing its lease: %v", kinds(after[before:]))
	}
	if kve, err := kv.Get(ctx, "contested"); err != nil || string(kve.Value()) != taken {
		t.Fatalf("lease after a let go: %v", err)
	}
}
