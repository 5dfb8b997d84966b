package node_test

import (
	"context"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// spawnFlood spawns testdata/flood.wat as id, its target in its state,
// with limits l.
func spawnFlood(t testing.TB, c *client.Client, id, target string, l manifest.Limits) {
	t.Helper()
	m := &manifest.Manifest{Name: "flood", Module: "flood.wasm",
		Types:  manifest.Types{Send: "u32", Request: "u32", Reply: "u32"},
		State:  manifest.State{InitialMsgpack: manifest.Msgpack(target)},
		Limits: l,
		Capabilities: manifest.Capabilities{Log: &manifest.LogConfig{Level: manifest.LevelInfo},
			Message: &manifest.MessageConfig{Allow: []string{target}}}}
	spawnModule(t, c, m, filepath.Join("testdata", "flood.wasm"), id, "")
}

// lineWatch counts the 1 KiB lines of flood.wat and the budget warnings.
type lineWatch struct{ *logWatch }

func (w lineWatch) lines() int { return w.count(strings.Repeat("x", 1024)) }

const budgetWarning = "actor: log budget spent; dropping the rest of this handler call's lines"

// TestLogFlood: a handler that writes 10,000 lines of 1 KiB (10 MiB)
// reaches the node's log with its budget only (64 KiB of lines per
// call by default), and one warning per call.
func TestLogFlood(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	w := lineWatch{newLogWatch()}
	startNodeCfg(t, srv, node.Config{Name: "a", ActorLogger: slog.New(w)})
	c := newClient(t, srv)
	spawnFlood(t, c, "logger", "nobody", manifest.Limits{})
	for call := 1; call <= 2; call++ {
		reply, err := c.Request(ctx, "logger", []byte("1"), wire.JSON)
		if err != nil || string(reply) != "10000" {
			t.Fatalf("request: %s %v (every write answers ok, dropped or not)", reply, err)
		}
		if got, want := w.lines(), call*64; got != want {
			t.Errorf("after %d calls: %d lines logged, want %d (64 KiB per call)", call, got, want)
		}
		if got := w.count(budgetWarning); got != call {
			t.Errorf("after %d calls: %d warnings", call, got)
		}
	}
	// A budget of the manifest's own.
	spawnFlood(t, c, "quiet", "nobody", manifest.Limits{LogLinesPerCall: 3})
	before := w.lines()
	if _, err := c.Request(ctx, "quiet", []byte("1"), wire.JSON); err != nil {
		t.Fatal(err)
	}
	if got := w.lines() - before; got != 3 {
		t.Errorf("log_lines_per_call = 3: %d lines", got)
	}
}

// TestSendFlood: a handler that sends 10,000 messages has its
// sends_per_call stored and the rest refused to it; the target gets
// exactly those.
func TestSendFlood(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	spawnCounter(t, c, "sink", "")
	spawnFlood(t, c, "sender", "sink", manifest.Limits{SendsPerCall: 50})
	reply, err := c.Request(ctx, "sender", []byte("2"), wire.JSON)
	if err != nil || string(reply) != "50" {
		t.Fatalf("request: %s %v, want 50 sends accepted", reply, err)
	}
	waitState(t, c, "sink", "100") // 50 sends of 2
	// The refusals are the guest's own doing, counted per handler call:
	// a replay of its chain refuses the same sends and matches.
	out, err := exec.Command(theaterBin, "replay", "sender", "--server", srv.ClientURL()).CombinedOutput()
	if err != nil {
		t.Fatalf("theater replay sender: %v\n%s", err, out)
	}
	t.Logf("theater replay sender: %s", out)
}

// TestSelfRequest: a request an actor makes to itself from a handler
// fails at once; before, it waited out its timeout while the queued
// self-request could never run.
func TestSelfRequest(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	spawnFlood(t, c, "selfish", "selfish", manifest.Limits{})
	start := time.Now()
	reply, err := c.Request(ctx, "selfish", []byte("3"), wire.JSON)
	if err != nil || string(reply) != "0" {
		t.Fatalf("request: %s %v, want 0 (its request to itself refused)", reply, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the self-request took %v to fail", d)
	}
	// Nothing is left queued: the next request is answered at once too.
	start = time.Now()
	if _, err := c.Request(ctx, "selfish", []byte("3"), wire.JSON); err != nil || time.Since(start) > time.Second {
		t.Errorf("second request: %v after %v", err, time.Since(start))
	}
}
