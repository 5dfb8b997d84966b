package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/theater-go/theater/transport/wire"
)

// BenchmarkCall compares the typed Call (msgpack/v5 encoding and
// canonicalisation under the WIT type, then decoding the reply into a Go
// value) with a raw Request of the same bytes, on the same counter actor
// in the same run.
func BenchmarkCall(b *testing.B) {
	c := system(b)
	ctx := context.Background()
	b.Run("request", func(b *testing.B) {
		payload := []byte{0x01} // u32 1
		for b.Loop() {
			if _, err := c.Request(ctx, "counter", payload, wire.Msgpack); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("call", func(b *testing.B) {
		var total uint64
		for b.Loop() {
			if err := c.Call(ctx, "counter", uint32(1), &total); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCallRatio alternates Call and Request on the same actor, one
// of each per iteration, and reports the time of a Call over that of a
// Request: on a shared machine the load weighs on both alike.
func BenchmarkCallRatio(b *testing.B) {
	c := system(b)
	ctx := context.Background()
	payload := []byte{0x01}
	var total uint64
	var reqT, callT time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := c.Request(ctx, "counter", payload, wire.Msgpack); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := c.Call(ctx, "counter", uint32(1), &total); err != nil {
			b.Fatal(err)
		}
		reqT += t1.Sub(t0)
		callT += time.Since(t1)
	}
	b.ReportMetric(float64(reqT.Nanoseconds())/float64(b.N), "request-ns/op")
	b.ReportMetric(float64(callT.Nanoseconds())/float64(b.N), "call-ns/op")
	b.ReportMetric(callT.Seconds()/reqT.Seconds(), "call/request")
}

// BenchmarkEntryRatio alternates a registry read (Client.Entry, one KV
// get) and a Request on the same actor: what checking the registry before
// every Call would add to it.
func BenchmarkEntryRatio(b *testing.B) {
	c := system(b)
	ctx := context.Background()
	payload := []byte{0x01}
	var reqT, entryT time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := c.Request(ctx, "counter", payload, wire.Msgpack); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := c.Entry(ctx, "counter"); err != nil {
			b.Fatal(err)
		}
		reqT += t1.Sub(t0)
		entryT += time.Since(t1)
	}
	b.ReportMetric(float64(reqT.Nanoseconds())/float64(b.N), "request-ns/op")
	b.ReportMetric(float64(entryT.Nanoseconds())/float64(b.N), "entry-ns/op")
	b.ReportMetric(entryT.Seconds()/reqT.Seconds(), "entry/request")
}
