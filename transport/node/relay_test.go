package node_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/wire"
)

// relayManifest is the WAT relay: it forwards sends and requests to the
// actor whose id is its state, with the counter's types, and may reach
// counter-* only.
var relayManifest = filepath.Join("..", "..", "examples", "relay", "relay.toml")

// spawnRelay spawns the relay on node; a non-empty target replaces the
// manifest's state (the target's id as raw bytes).
func spawnRelay(t testing.TB, c *client.Client, id, on, target string) wire.ActorInfo {
	t.Helper()
	m, err := manifest.Load(relayManifest)
	if err != nil {
		t.Fatal(err)
	}
	if target != "" {
		m.State.InitialMsgpack = manifest.Msgpack(target)
	}
	info, err := c.Spawn(context.Background(), m, readFile(t, m.Module), readFile(t, m.WIT), client.SpawnOptions{ID: id, Node: on})
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// TestRelayDenied: the relay's manifest allows counter-* only. A relay
// pointed at an actor outside that gets err from message.request and
// message.send (the host refuses before anything is published); the
// requester gets the relay's error naming the denial, a send is reported
// as a failed event, and neither actor's state changes.
func TestRelayDenied(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNode(t, srv, "a")
	startNode(t, srv, "b")
	c := newClient(t, srv)
	spawnCounter(t, c, "stray", "b")
	spawnRelay(t, c, "relay-stray", "a", "stray")
	nc := connect(t, srv)
	events, err := nc.SubscribeSync("theater.events.relay-stray.failed")
	if err != nil {
		t.Fatal(err)
	}

	const denied = "relay: request failed with status 1 (denied)"
	_, err = c.Request(ctx, "relay-stray", mp3, wire.Msgpack)
	if !errors.Is(err, wire.ErrFailed) || !strings.Contains(err.Error(), denied) {
		t.Fatalf("request through the relay: %v, want wire.ErrFailed with %q", err, denied)
	}
	_, err = c.Request(ctx, "relay-stray", []byte("3"), wire.JSON)
	if !errors.Is(err, wire.ErrFailed) || !strings.Contains(err.Error(), denied) {
		t.Fatalf("JSON request through the relay: %v, want wire.ErrFailed with %q", err, denied)
	}

	if err := c.Send(ctx, "relay-stray", mp3, wire.Msgpack); err != nil {
		t.Fatalf("send to the relay: %v (the relay's mailbox takes it)", err)
	}
	// The failed requests were reported too; the send's event follows.
	const sendDenied = "relay: send failed with status 1 (denied)"
	for seen := []string{}; ; {
		m, err := events.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatalf("no failed event with %q: %v; saw %q", sendDenied, err, seen)
		}
		if strings.Contains(string(m.Data), sendDenied) {
			break
		}
		seen = append(seen, string(m.Data))
	}

	if got := stateJSON(t, c, "stray"); got != "0" {
		t.Fatalf("the denied target's state is %s, want 0", got)
	}
	if st, err := c.State(ctx, "relay-stray", wire.Msgpack); err != nil || string(st) != "stray" {
		t.Fatalf("relay state %q, %v; want \"stray\"", st, err)
	}
	// The relay still works for its node's other callers: a request that
	// does not fit is refused before it reaches the guest.
	if _, err := c.Request(ctx, "relay-stray", mpTen, wire.Msgpack); !errors.Is(err, wire.ErrBadType) {
		t.Fatalf("wrong type: %v, want wire.ErrBadType", err)
	}
}

// TestRelayUnknownTarget: a target the allow-list matches but no node
// hosts fails the relay's request with status 1 and the unknown-actor case
// of message.error.
func TestRelayUnknownTarget(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	spawnRelay(t, c, "relay-9", "a", "counter-9")
	const want = "relay: request failed with status 1 (unknown-actor)"
	_, err := c.Request(ctx, "relay-9", mp3, wire.Msgpack)
	if !errors.Is(err, wire.ErrFailed) || !strings.Contains(err.Error(), want) {
		t.Fatalf("request to a missing target: %v, want wire.ErrFailed with %q", err, want)
	}
}

// TestRelayNeedsTarget: the relay's init refuses empty state, so a relay
// without a target does not start.
func TestRelayNeedsTarget(t *testing.T) {
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	m, err := manifest.Load(relayManifest)
	if err != nil {
		t.Fatal(err)
	}
	m.State.InitialMsgpack = nil
	_, err = c.Spawn(context.Background(), m, readFile(t, m.Module), readFile(t, m.WIT), client.SpawnOptions{ID: "relay-none"})
	if err == nil || !strings.Contains(err.Error(), "relay: the state must be the target actor id") {
		t.Fatalf("spawn without a target: %v", err)
	}
}
