package node_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/actor/replay"
)

// TestOnStopRecorded: theater_on_stop is an event like any handler: the
// send it makes is recorded in the chain and released (delivered) only
// then, and replay of the chain runs on_stop and expects that send.
func TestOnStopRecorded(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	spawnCounter(t, c, "counter-1", "")
	spawnSendTrap(t, c, "stopper", "counter-1")
	if _, err := c.Stop(ctx, "stopper"); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "counter-1", "7")

	evs := chainOf(t, connect(t, srv), "stopper")
	var stop *chain.Handled
	for _, e := range evs {
		if h, ok := e.Body.(*chain.Handled); ok && h.Call == chain.CallStop {
			stop = h
		}
	}
	if stop == nil || len(stop.Out) != 1 || stop.Out[0].To != "counter-1" || string(stop.Out[0].Payload) != "\x07" {
		t.Fatalf("no handled stop event with the send in %v (%+v)", kinds(evs), stop)
	}
	if last := evs[len(evs)-1].Kind(); last != chain.KindStop {
		t.Fatalf("chain ends with %s, not stop: %v", last, kinds(evs))
	}

	m := &manifest.Manifest{Name: "sendtrap", Module: "sendtrap.wasm",
		Types:        manifest.Types{Send: "u32", Request: "u32", Reply: "u32"},
		State:        manifest.State{InitialMsgpack: manifest.Msgpack("counter-1")},
		Capabilities: manifest.Capabilities{Message: &manifest.MessageConfig{Allow: []string{"counter-1"}}}}
	spec, err := actor.SpecFromManifest("stopper", m, nil)
	if err != nil {
		t.Fatal(err)
	}
	spec.Module = readFile(t, filepath.Join("testdata", "sendtrap.wasm"))
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rep, err := replay.Replay(rctx, newRuntime(t), spec, evs)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("replay diverges: %v", rep.Divergence)
	}
	if rep.Handled < 2 {
		t.Fatalf("replay handled %d events, want init and stop", rep.Handled)
	}
}
