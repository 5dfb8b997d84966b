package node_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// BenchmarkRequestMetrics measures the request rate to an echo actor on
// a node with metrics (and a scrape every 100 ms) against one on a node
// without, on the same server, alternating chunks of 1,000 requests from
// 32 requesters; it reports both rates and their ratio.
func BenchmarkRequestMetrics(b *testing.B) {
	ctx := context.Background()
	srv := testServer(b)
	reg := prometheus.NewRegistry()
	startNode(b, srv, "plain")
	startNodeCfg(b, srv, node.Config{Name: "metered", Metrics: reg})
	c := newClient(b, srv)
	m, err := manifest.Parse("echo.toml", []byte(echoManifest))
	if err != nil {
		b.Fatal(err)
	}
	wasm := readFile(b, filepath.Join("..", "..", "examples", "echo", "wat", "echo.wasm"))
	for id, on := range map[string]string{"off": "plain", "on": "metered"} {
		if _, err := c.Spawn(ctx, m, wasm, nil, client.SpawnOptions{ID: id, Node: on}); err != nil {
			b.Fatal(err)
		}
	}
	req := func(id string) func() error {
		return func() error {
			_, err := c.Request(ctx, id, payload64, wire.Msgpack)
			return err
		}
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				_, _ = reg.Gather()
			case <-stop:
				return
			}
		}
	}()
	const chunk, k = 1000, 32
	var offT, onT time.Duration
	b.ResetTimer()
	for b.Loop() {
		offT += timed(b, chunk, k, req("off"))
		onT += timed(b, chunk, k, req("on"))
	}
	n := float64(b.N * chunk)
	b.ReportMetric(n/offT.Seconds(), "off-req/s")
	b.ReportMetric(n/onT.Seconds(), "on-req/s")
	b.ReportMetric(offT.Seconds()/onT.Seconds(), "on/off")
}
