package node_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport/wire"
)

// BenchmarkRestart measures a supervised restart on one node, chain on:
// each iteration asks faulty to trap (the request is answered with the
// failure), then to add one, which waits for the restarted instance. It
// reports the p50 and p99 of the time from the trap's request to the
// add's answer (trap-to-answer) and of the add alone (restart-to-answer),
// and, as the baseline of the same run, of a plain add request.
func BenchmarkRestart(b *testing.B) {
	ctx := context.Background()
	srv := testServer(b)
	startNode(b, srv, "bench")
	c := newClient(b, srv)
	m := faultyManifest(manifest.Supervision{Intensity: 1 << 30, Period: manifest.Duration(time.Hour)})
	spawnModule(b, c, m, faultyModule, "w", "")
	spawnModule(b, c, m, faultyModule, "plain", "")
	add(b, c, "w")
	add(b, c, "plain")
	var full, again, plain []time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if _, err := c.Request(ctx, "w", cmdTrap, wire.Msgpack); err == nil {
			b.Fatal("the trap succeeded")
		}
		t1 := time.Now()
		add(b, c, "w")
		t2 := time.Now()
		add(b, c, "plain")
		full, again, plain = append(full, t2.Sub(t0)), append(again, t2.Sub(t1)), append(plain, time.Since(t2))
	}
	b.StopTimer()
	report := func(name string, d []time.Duration) {
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, name+"-p50-ms")
		b.ReportMetric(float64(d[len(d)*99/100].Microseconds())/1000, name+"-p99-ms")
	}
	report("trap-to-answer", full)
	report("restart-to-answer", again)
	report("plain-request", plain)
}
