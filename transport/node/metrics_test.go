package node_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/supervisor"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// metricValue is the value of the series of family name whose labels
// include want (a counter's or gauge's value, a histogram's count), and
// whether there is one.
func metricValue(t testing.TB, g prometheus.Gatherer, name string, want map[string]string) (float64, bool) {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if got[k] != v {
					continue series
				}
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				return m.GetCounter().GetValue(), true
			case dto.MetricType_GAUGE:
				return m.GetGauge().GetValue(), true
			case dto.MetricType_HISTOGRAM:
				return float64(m.GetHistogram().GetSampleCount()), true
			}
		}
	}
	return 0, false
}

// TestMetrics drives a counter and a flooding guest on a node with a
// registry and checks each family: by type and node, never by id.
func TestMetrics(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	reg := prometheus.NewRegistry()
	rt := newRuntime(t)
	nc := connect(t, srv)
	n, err := node.Start(ctx, node.Config{Conn: nc, Runtime: rt, Name: "m", Metrics: reg, Logger: quiet, ActorLogger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, srv)
	spawnCounter(t, c, "c1", "")
	spawnCounter(t, c, "c2", "")
	for i := range 5 {
		if _, err := c.Request(ctx, fmt.Sprint("c", i%2+1), []byte("1"), wire.JSON); err != nil {
			t.Fatal(err)
		}
	}
	spawnFlood(t, c, "f", "c1", manifest.Limits{SendsPerCall: 10})
	if _, err := c.Request(ctx, "f", []byte("2"), wire.JSON); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Request(ctx, "f", []byte("1"), wire.JSON); err != nil {
		t.Fatal(err)
	}
	js := natsJS(t, nc)
	if _, err := js.Publish(ctx, "theater.actor.c2.send", mpBad); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "c1", "23") // 3 requests of 1 and 10 sends of 2

	with := func(kv ...string) map[string]string {
		m := map[string]string{"node": "m"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	checkFor(t, 10*time.Second, func() error {
		for _, w := range []struct {
			name   string
			labels map[string]string
			want   float64
		}{
			{"theater_actor_messages_handled_total", with("type", "counter", "call", "request"), 5},
			{"theater_actor_messages_handled_total", with("type", "counter", "call", "send"), 10},
			{"theater_actor_handler_duration_seconds", with("type", "flood", "call", "request"), 2},
			{"theater_actor_limits_hit_total", with("type", "flood", "limit", "sends_refused"), 10000 - 10},
			{"theater_actor_limits_hit_total", with("type", "flood", "limit", "log_lines_dropped"), 10000 - 64},
			{"theater_actor_failures_total", with("type", "counter", "kind", "rejected"), 1},
			{"theater_spawn_duration_seconds", with("type", "counter"), 2},
			{"theater_compile_duration_seconds", with("type", "counter"), 1},
			{"theater_actors", with("type", "counter"), 2},
			{"theater_actors", with("type", "flood"), 1},
		} {
			if got, ok := metricValue(t, reg, w.name, w.labels); !ok || got != w.want {
				return fmt.Errorf("%s%v = %v (present %v), want %v", w.name, w.labels, got, ok, w.want)
			}
		}
		if _, ok := metricValue(t, reg, "theater_actor_mailbox_messages", with("type", "counter")); !ok {
			return fmt.Errorf("no mailbox gauge")
		}
		return nil
	})
	// No series is labelled with an actor id.
	fams, _ := reg.Gather()
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == "c1" || l.GetValue() == "f" {
					t.Errorf("%s has label %s=%s: an actor id", f.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}

	// Closed and started again under its name, the node resumes its
	// actors into the same registry: two resumes of type counter.
	if err := n.Close(ctx); err != nil {
		t.Fatal(err)
	}
	n2, err := node.Start(ctx, node.Config{Conn: nc, Runtime: rt, Name: "m", Metrics: reg, Logger: quiet, ActorLogger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n2.Close(context.Background()) })
	if got, _ := metricValue(t, reg, "theater_actor_resumes_total", with("type", "counter")); got != 2 {
		t.Errorf("resumes %v, want 2", got)
	}
}

// TestRestartMetric: a restart by the actor's supervisor counts in
// theater_actor_restarts_total (by the manifest's name); a resume from the
// chain does not.
func TestRestartMetric(t *testing.T) {
	srv := testServer(t)
	reg := prometheus.NewRegistry()
	startNodeCfg(t, srv, node.Config{Name: "m", Metrics: reg})
	c := newClient(t, srv)
	m := faultyManifest(manifest.Supervision{Restart: supervisor.Permanent, StartFrom: supervisor.StartLast,
		Intensity: 5, Period: manifest.Duration(time.Minute)})
	spawnModule(t, c, m, faultyModule, "w", "")
	add(t, c, "w")
	send(t, c, "w", cmdTrap)
	send(t, c, "w", cmdAdd)
	waitCount(t, c, "w", 2)
	if got, _ := metricValue(t, reg, "theater_actor_restarts_total", map[string]string{"type": m.Name}); got != 1 {
		t.Errorf("restarts %v, want 1", got)
	}
	if got, _ := metricValue(t, reg, "theater_actor_resumes_total", map[string]string{"type": m.Name}); got != 0 {
		t.Errorf("resumes %v, want 0", got)
	}
}
