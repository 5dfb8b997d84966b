package node_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// BenchmarkWakeRequest measures a request to a hibernated actor (the
// instance is closed before each request, outside the timer): "woken"
// closes it as Actor.Hibernate does, so the node appends the wake event
// when the request comes; "idle" as the idle timer does, so the node has
// appended it before (new: on a tree without wake events, run it as
// woken). "warm" is
// the same request to a live instance, for scale; "counter" the C
// counter, whose state changes at every request, so every 100th request
// also writes a snapshot, after which the instance starts again.
func BenchmarkWakeRequest(b *testing.B) {
	ctx := context.Background()
	srv := testServer(b)
	n := startNode(b, srv, "bench")
	c := newClient(b, srv)
	spawnEcho(b, c, "echo")
	m, err := manifest.Load(counterManifest)
	if err != nil {
		b.Fatal(err)
	}
	m.Module = filepath.Join("..", "..", "examples", "counter", "c", "counter.wasm")
	if _, err := c.Spawn(ctx, m, readFile(b, m.Module), readFile(b, m.WIT), client.SpawnOptions{ID: "counter"}); err != nil {
		b.Fatal(err)
	}
	req := func(b *testing.B, id string, msg []byte) {
		if _, err := c.Request(ctx, id, msg, wire.Msgpack); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("echo/woken", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			if err := node.Hibernate(n, "echo"); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			req(b, "echo", payload64)
		}
	})
	b.Run("echo/idle", func(b *testing.B) {
		// As the idle timer hibernates it: the wake event is recorded
		// while the actor is idle, before the request comes.
		for b.Loop() {
			b.StopTimer()
			if err := node.HibernateIdle(n, "echo"); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			req(b, "echo", payload64)
		}
	})
	b.Run("echo/warm", func(b *testing.B) {
		for b.Loop() {
			req(b, "echo", payload64)
		}
	})
	b.Run("counter/woken", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			if err := node.Hibernate(n, "counter"); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			req(b, "counter", []byte{1})
		}
	})
	b.Run("counter/warm", func(b *testing.B) {
		for b.Loop() {
			req(b, "counter", []byte{1})
		}
	})
}
