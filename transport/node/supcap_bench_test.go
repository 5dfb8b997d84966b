package node_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/theater-go/theater/actor/guest"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// BenchmarkAgentRestart measures a restart decided by a supervisor agent
// on one node, chain on: the worker (a Go guest) counts one add, traps,
// its node gives the temporary child up and sends the boss its child
// event, the boss spawns it again at once from its initial state through
// the capability, and the new worker answers. As the baseline of the
// same run, the same worker spawned on its own with a permanent
// [supervision] from its initial state, restarted by the node. It
// reports the p50 and p99 of the time from the crash's send to the
// restarted worker's first answer.
func BenchmarkAgentRestart(b *testing.B) {
	ctx := context.Background()
	srv := testServer(b)
	startNodeCfg(b, srv, node0(b))
	c := newClient(b, srv)
	g, err := supGuests()
	if err != nil {
		b.Fatal(err)
	}
	wm, err := manifest.Load(filepath.Join(supDir, "worker.toml"))
	if err != nil {
		b.Fatal(err)
	}
	if err := c.PutManifest(ctx, wm, g[1], nil); err != nil {
		b.Fatal(err)
	}
	bm, err := manifest.Load(filepath.Join(supDir, "boss.toml"))
	if err != nil {
		b.Fatal(err)
	}
	// [max_tries, base_ms, from, tries, log]: no backoff, never gives up.
	st := guest.AppendUint(guest.AppendArrayHeader(nil, 5), 1<<30)
	st = guest.AppendString(guest.AppendUint(st, 0), "initial")
	bm.State.InitialMsgpack = guest.AppendArrayHeader(guest.AppendUint(st, 0), 0)
	if _, err := c.Spawn(ctx, bm, g[0], nil, client.SpawnOptions{ID: "boss"}); err != nil {
		b.Fatal(err)
	}
	own := *wm
	own.Supervision = manifest.Supervision{Restart: "permanent", StartFrom: "initial", Intensity: 1 << 30, Period: manifest.Duration(time.Hour)}
	if _, err := c.Spawn(ctx, &own, g[1], nil, client.SpawnOptions{ID: "alone"}); err != nil {
		b.Fatal(err)
	}
	// cycle adds one, waits for it, crashes the worker and waits for the
	// restarted one (from its initial state: count 0) to answer.
	cycle := func(id string) time.Duration {
		if err := c.Send(ctx, id, guest.AppendString(nil, "add"), wire.Msgpack); err != nil {
			b.Fatal(err)
		}
		waitFor(b, c, id, 1)
		t0 := time.Now()
		if err := c.Send(ctx, id, guest.AppendString(nil, "crash"), wire.Msgpack); err != nil {
			b.Fatal(err)
		}
		waitFor(b, c, id, 0)
		return time.Since(t0)
	}
	waitFor(b, c, "worker", 0)
	var agent, alone []time.Duration
	b.ResetTimer()
	for b.Loop() {
		agent = append(agent, cycle("worker"))
		alone = append(alone, cycle("alone"))
	}
	b.StopTimer()
	report := func(name string, d []time.Duration) {
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, name+"-p50-ms")
		b.ReportMetric(float64(d[len(d)*99/100].Microseconds())/1000, name+"-p99-ms")
	}
	report("agent-restart", agent)
	report("node-restart", alone)
}

// node0 is the benchmark's node, its guests compiled already.
func node0(b *testing.B) node.Config {
	return node.Config{Name: "bench", Runtime: supRuntime(b), Logger: quiet}
}

// waitFor polls worker id until it counts want; a request between the
// crash and the restart fails (gave up, or unavailable) and is retried.
func waitFor(b *testing.B, c *client.Client, id string, want uint64) {
	deadline := time.Now().Add(time.Minute)
	for {
		r, err := c.Request(context.Background(), id, strList(), wire.Msgpack)
		if err == nil {
			if n, _, err := guest.ReadUint(r); err == nil && n == want {
				return
			}
		}
		if time.Now().After(deadline) {
			b.Fatal(fmt.Sprintf("%s never counted %d: %v", id, want, err))
		}
		time.Sleep(200 * time.Microsecond)
	}
}
