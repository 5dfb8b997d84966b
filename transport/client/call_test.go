package client_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/natstest"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

// counterWith writes a manifest for the WAT counter whose add (send and
// request) and total (reply) types are the given WIT types.
func counterWith(t *testing.T, add, total string) string {
	t.Helper()
	wasm, err := filepath.Abs(filepath.Join("..", "..", "examples", "counter", "wat", "counter.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	witSrc := "package example:counter@0.1.0;\ninterface api {\n type state = u64;\n type add = " + add + ";\n type total = " + total + ";\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "c.wit"), []byte(witSrc), 0o644); err != nil {
		t.Fatal(err)
	}
	m := `name = "counter"
module = "` + wasm + `"
wit = "c.wit"
[types]
send = "api.add"
request = "api.add"
reply = "api.total"
state = "api.state"
[capabilities.log]
level = "info"
`
	p := filepath.Join(dir, "c.toml")
	if err := os.WriteFile(p, []byte(m), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// respawn stops actor id with one client and spawns it again from
// manifest with another, so the calling client's cache knows nothing
// of it.
func respawn(t *testing.T, other *client.Client, id, manifest string) {
	t.Helper()
	ctx := natstest.Context(t)
	if _, err := other.Stop(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := other.SpawnFile(ctx, manifest, client.SpawnOptions{ID: id}); err != nil {
		t.Fatal(err)
	}
}

func state(t *testing.T, c *client.Client, id string) string {
	t.Helper()
	st, err := c.State(natstest.Context(t), id, wire.JSON)
	if err != nil {
		t.Fatal(err)
	}
	return string(st)
}

// TestCallAfterRespawnWiderRequest: the actor is spawned again under the
// same id with a wider request type (u8 to u32) by another client; a
// value only the new type holds goes through on the first Call, since a
// refusal by the cached type makes Call look the types up again.
func TestCallAfterRespawnWiderRequest(t *testing.T) {
	srv := natstest.RunServer(t)
	natstest.StartNode(t, srv.ClientURL(), node.Config{Name: "a"})
	c, other := natstest.NewClient(t, srv.ClientURL()), natstest.NewClient(t, srv.ClientURL())
	ctx := natstest.Context(t)
	if _, err := c.SpawnFile(ctx, counterWith(t, "u8", "u64"), client.SpawnOptions{ID: "k"}); err != nil {
		t.Fatal(err)
	}
	var total uint64
	if err := c.Call(ctx, "k", uint8(1), &total); err != nil || total != 1 {
		t.Fatalf("Call(1) = %d, %v", total, err)
	}
	respawn(t, other, "k", counterWith(t, "u32", "u64"))
	if err := c.Call(ctx, "k", uint32(1000), &total); err != nil || total != 1000 {
		t.Fatalf("Call(1000) after respawn = %d, %v; want 1000 (a new actor starts from 0)", total, err)
	}
	// A value no type holds is still refused, and nothing ran.
	if err := c.Call(ctx, "k", uint64(1)<<40, &total); !errors.Is(err, wire.ErrBadType) {
		t.Fatalf("Call(2^40): %v, want ErrBadType", err)
	}
	if got := state(t, c, "k"); got != "1000" {
		t.Fatalf("state %s, want 1000", got)
	}
}

// TestCallAfterRespawnNarrowerRequest: the other way round (u32 to u8),
// the node refuses the stale encoding before running anything; Call
// looks again and refuses 1000 itself.
func TestCallAfterRespawnNarrowerRequest(t *testing.T) {
	srv := natstest.RunServer(t)
	natstest.StartNode(t, srv.ClientURL(), node.Config{Name: "a"})
	c, other := natstest.NewClient(t, srv.ClientURL()), natstest.NewClient(t, srv.ClientURL())
	ctx := natstest.Context(t)
	if _, err := c.SpawnFile(ctx, counterWith(t, "u32", "u64"), client.SpawnOptions{ID: "k"}); err != nil {
		t.Fatal(err)
	}
	var total uint64
	if err := c.Call(ctx, "k", uint32(1), &total); err != nil {
		t.Fatal(err)
	}
	respawn(t, other, "k", counterWith(t, "u8", "u64"))
	err := c.Call(ctx, "k", uint32(1000), &total)
	var re *wire.RemoteError
	if !errors.Is(err, wire.ErrBadType) || errors.As(err, &re) || !strings.Contains(err.Error(), "expected u8") {
		t.Fatalf("Call(1000) under u8: %v; want the client's own ErrBadType under the new type", err)
	}
	if err := c.Call(ctx, "k", uint32(5), &total); err != nil || total != 5 {
		t.Fatalf("Call(5) = %d, %v; want 5", total, err)
	}
}

// TestCallAfterRespawnWiderReply: the reply type widens (u8 to u64) while
// the request type stays. The respawning client's own cache is dropped
// by its Stop and Spawn, so its Calls decode under the new type; another
// client whose cached reply type is stale is refused by the node with
// ErrTypesChanged before anything runs, and Call retries under the new
// types: the request runs once.
func TestCallAfterRespawnWiderReply(t *testing.T) {
	srv := natstest.RunServer(t)
	natstest.StartNode(t, srv.ClientURL(), node.Config{Name: "a"})
	c, other := natstest.NewClient(t, srv.ClientURL()), natstest.NewClient(t, srv.ClientURL())
	third := natstest.NewClient(t, srv.ClientURL())
	ctx := natstest.Context(t)
	if _, err := c.SpawnFile(ctx, counterWith(t, "u32", "u8"), client.SpawnOptions{ID: "k"}); err != nil {
		t.Fatal(err)
	}
	var total uint64
	for _, cl := range []*client.Client{c, other, third} {
		if err := cl.Call(ctx, "k", uint32(1), &total); err != nil {
			t.Fatal(err)
		}
	}
	respawn(t, c, "k", counterWith(t, "u32", "u64"))
	if err := c.Call(ctx, "k", uint32(300), &total); err != nil || total != 300 {
		t.Fatalf("respawning client: Call(300) = %d, %v; want 300", total, err)
	}
	// The stale client's request carries the old types' tag: the node
	// refuses it before running anything, and Call looks again and
	// retries once under the new types.
	if err := other.Call(ctx, "k", uint32(300), &total); err != nil || total != 600 {
		t.Fatalf("stale client: Call(300) = %d, %v; want 600 (run once, decoded under the new reply type)", total, err)
	}
	if err := other.Call(ctx, "k", uint32(1), &total); err != nil || total != 601 {
		t.Fatalf("stale client, next Call(1) = %d, %v; want 601", total, err)
	}
	// Types reads the registry and Call uses what it read.
	if ts, err := third.Types(ctx, "k"); err != nil || wit.Underlying(ts.Reply) != wit.U64 {
		t.Fatalf("Types: reply %v, %v; want u64", ts.Reply, err)
	}
	if err := third.Call(ctx, "k", uint32(300), &total); err != nil || total != 901 {
		t.Fatalf("client that read Types: Call(300) = %d, %v; want 901", total, err)
	}
}

// TestCallBadInputs: Go values that cannot be the counter's u32 request
// fail in the client with ErrBadType, without a panic and without
// reaching the actor.
func TestCallBadInputs(t *testing.T) {
	c := system(t)
	ctx := natstest.Context(t)
	var total uint64
	type rec struct{ A int }
	for _, in := range []any{nil, "5", -1, uint64(1) << 33, 1.5, rec{1}, make([]byte, 8<<20), map[string]int{"a": 1}, make(chan int)} {
		var re *wire.RemoteError
		if err := c.Call(ctx, "counter", in, &total); !errors.Is(err, wire.ErrBadType) || errors.As(err, &re) {
			t.Errorf("Call(%T): %.200v; want the client's ErrBadType", in, err)
		}
	}
	if got := state(t, c, "counter"); got != "0" {
		t.Fatalf("state after refused inputs: %s, want 0", got)
	}
}

// TestCallRefusesOutBeforeSending: an out that is not a non-nil pointer,
// or whose Go type can never hold the reply type, is refused before
// anything is published, with an error about out; the actor's state is
// untouched. A narrower Go number is accepted, and a reply it cannot
// hold is an error, never a wrapped number.
func TestCallRefusesOutBeforeSending(t *testing.T) {
	c := system(t)
	ctx := natstest.Context(t)
	var total uint64
	var s string
	for _, out := range []any{&s, total, (*uint64)(nil), new(bool), &struct{ A int }{}} {
		err := c.Call(ctx, "counter", uint32(1), out)
		if !errors.Is(err, wire.ErrBadType) || !errors.Is(err, codec.ErrGoType) || !strings.Contains(err.Error(), "out ") {
			t.Errorf("out %T: %v; want ErrBadType and codec.ErrGoType about out", out, err)
		}
	}
	if got := state(t, c, "counter"); got != "0" {
		t.Fatalf("state after refused outs: %s, want 0", got)
	}
	var small uint8
	if err := c.Call(ctx, "counter", uint32(200), &small); err != nil || small != 200 {
		t.Fatalf("Call(200) into uint8 = %d, %v", small, err)
	}
	err := c.Call(ctx, "counter", uint32(100), &small)
	if !errors.Is(err, codec.ErrGoType) || !strings.Contains(err.Error(), "u64 300 does not fit Go type uint8") || small != 200 {
		t.Fatalf("Call(100) into uint8 (total 300): %d, %v", small, err)
	}
}

// TestCallTooLarge: a request over the actor's max_message_bytes, over
// the server's max_payload, or over the codec's MaxBytes is ErrTooLarge,
// found in the client before anything is published; a raw Request over
// max_payload is ErrTooLarge too. A stale cached limit is read again.
func TestCallTooLarge(t *testing.T) {
	srv := natstest.RunServer(t)
	natstest.StartNode(t, srv.ClientURL(), node.Config{Name: "a"})
	c := natstest.NewClient(t, srv.ClientURL())
	ctx := natstest.Context(t)
	wasm, err := os.ReadFile(filepath.Join("..", "..", "examples", "echo", "wat", "echo.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	m := &manifest.Manifest{Name: "echo", Module: "echo.wasm", Types: manifest.Types{Request: "list<u8>", Reply: "list<u8>"},
		Limits: manifest.Limits{MaxMessageBytes: 64 << 10}}
	if _, err := c.Spawn(ctx, m, wasm, nil, client.SpawnOptions{ID: "echo"}); err != nil {
		t.Fatal(err)
	}
	var out []byte
	if err := c.Call(ctx, "echo", []byte("hi"), &out); err != nil || string(out) != "hi" {
		t.Fatalf("Call(hi) = %q, %v", out, err)
	}
	for _, n := range []int{100 << 10, 2 << 20, 20 << 20} {
		err := c.Call(ctx, "echo", make([]byte, n), &out)
		var re *wire.RemoteError
		if !errors.Is(err, wire.ErrTooLarge) || errors.As(err, &re) {
			t.Errorf("Call with %d bytes: %.200v; want the client's ErrTooLarge", n, err)
		}
	}
	if _, err := c.Request(ctx, "echo", make([]byte, 2<<20), wire.Msgpack); !errors.Is(err, wire.ErrTooLarge) {
		t.Errorf("Request over max_payload: %.200v; want ErrTooLarge", err)
	}
	// Spawned again by another client with a larger limit, the actor
	// takes 100 KiB: the cached limit is read again.
	other := natstest.NewClient(t, srv.ClientURL())
	if _, err := other.Stop(ctx, "echo"); err != nil {
		t.Fatal(err)
	}
	m.Limits.MaxMessageBytes = 512 << 10
	if _, err := other.Spawn(ctx, m, wasm, nil, client.SpawnOptions{ID: "echo"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Call(ctx, "echo", make([]byte, 100<<10), &out); err != nil || len(out) != 100<<10 {
		t.Errorf("Call with 100 KiB under a 512 KiB limit: %d bytes, %.200v", len(out), err)
	}
}

// TestRequestWithStaleTypesTagIsRefused: a request whose types tag is not
// the hosted actor's is refused with ErrTypesChanged and does not run.
func TestRequestWithStaleTypesTagIsRefused(t *testing.T) {
	srv := natstest.RunServer(t)
	natstest.StartNode(t, srv.ClientURL(), node.Config{Name: "a"})
	c := natstest.NewClient(t, srv.ClientURL())
	nc := natstest.Connect(t, srv.ClientURL())
	ctx := natstest.Context(t)
	if _, err := c.SpawnFile(ctx, counterWith(t, "u32", "u64"), client.SpawnOptions{ID: "k"}); err != nil {
		t.Fatal(err)
	}
	m := nats.NewMsg("theater.actor.k.req")
	m.Data = []byte{5}
	m.Header.Set(wire.TypesHeader, "0000000000000000")
	_, err := wire.Request(ctx, nc, m, 5*time.Second)
	if !errors.Is(err, wire.ErrTypesChanged) {
		t.Fatalf("request with a stale tag: %v, want ErrTypesChanged", err)
	}
	e, err := c.Entry(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	m.Header.Set(wire.TypesHeader, wire.TypesTag(&e.Manifest))
	reply, err := wire.Request(ctx, nc, m, 5*time.Second)
	if err != nil || len(reply.Data) != 1 || reply.Data[0] != 5 {
		t.Fatalf("request with the actor's tag: %v, %v; want total 5 (the refused one never ran)", reply, err)
	}
}
