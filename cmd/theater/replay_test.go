package main

import (
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/actor/replay"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/chainstore"
	"github.com/theater-go/theater/transport/natstest"
	"github.com/theater-go/theater/transport/wire"
)

// appendChain runs a real actor from module under a Recorder, as a node
// does, and appends its chain to the store: spawn, init, then one handler
// per message (a request each), hibernating after the hibernate-th.
func appendChain(t *testing.T, js jetstream.JetStream, store *chainstore.Store, id, module string,
	caps manifest.Capabilities, msgs [][]byte, hibernate int) {
	t.Helper()
	ctx := natstest.Context(t)
	wasm, err := os.ReadFile(module)
	if err != nil {
		t.Fatal(err)
	}
	obs, err := js.ObjectStore(ctx, transport.Layout{}.ModulesStore())
	if err != nil {
		t.Fatal(err)
	}
	digest, err := wire.PutObject(ctx, obs, wasm)
	if err != nil {
		t.Fatal(err)
	}
	m := (&manifest.Manifest{Name: id, Module: digest, Capabilities: caps}).WithDefaults()
	mjson, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := actor.SpecFromManifest(id, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := actor.NewRuntime(ctx, actor.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	rec := replay.NewRecorder(nil, nil, nil)
	spec.Module, spec.Logger = wasm, slog.New(slog.DiscardHandler)
	spec.Clock, spec.Entropy, spec.Router = rec.Clock(), rec.Entropy(), rec.Router()

	app, err := store.Appender(id, chainstore.Head{})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close(ctx)
	var last *chainstore.Pending
	add := func(b chain.Body) {
		t.Helper()
		if last, err = app.Append(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	add(&chain.Spawn{Module: chain.Hash(spec.Digest), Manifest: mjson, State: spec.State})
	a, err := rt.Spawn(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	inputs, out := rec.Take()
	add(&chain.Handled{Call: chain.CallInit, Payload: spec.State, Inputs: inputs, State: chain.Sum(a.State()), Out: out})
	for i, msg := range msgs {
		reply, err := a.Request(ctx, msg)
		if err != nil {
			t.Fatal(err)
		}
		inputs, out := rec.Take()
		add(&chain.Handled{Call: chain.CallRequest, Payload: msg, Inputs: inputs, State: chain.Sum(a.State()), Reply: reply, Out: out})
		if i+1 == hibernate {
			if err := a.Hibernate(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := last.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestReplayCommand replays chains appended to a real JetStream server:
// the counter's replays equal (whole, and --to a sequence, in JSON), and
// the diverging guest's is reported at its event and host call, exit 1.
func TestReplayCommand(t *testing.T) {
	srv := natstest.RunServer(t)
	nc := natstest.Connect(t, srv.ClientURL())
	ctx := natstest.Context(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := (transport.Layout{}).Ensure(ctx, js, transport.StoreConfig{}); err != nil {
		t.Fatal(err)
	}
	store, err := chainstore.New(ctx, js, transport.Layout{})
	if err != nil {
		t.Fatal(err)
	}
	var adds [][]byte
	for i := 1; i <= 20; i++ {
		adds = append(adds, []byte{byte(i)})
	}
	appendChain(t, js, store, "counter-1", "../../examples/counter/wat/counter.wasm",
		manifest.Capabilities{Log: &manifest.LogConfig{}}, adds, 10)
	appendChain(t, js, store, "diverge-1", "../../actor/replay/testdata/diverge.wasm",
		manifest.Capabilities{Clock: &manifest.ClockConfig{}}, [][]byte{{0}, {0}, {0}, {0}}, 3)

	code, stdout, stderr := runCLI(t, "", "replay", "counter-1", "--server", srv.ClientURL())
	if code != 0 || !strings.Contains(stdout, "counter-1: 22 events replayed to seq 22, 21 handler outcomes, all states equal") {
		t.Errorf("replay counter-1: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}

	code, stdout, stderr = runCLI(t, "", "replay", "counter-1", "--to", "7", "--json", "--server", srv.ClientURL())
	var rep struct {
		Events      int    `json:"events"`
		StatesEqual int    `json:"states_equal"`
		Last        uint64 `json:"last_seq"`
		OK          bool   `json:"ok"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); code != 0 || err != nil || rep.Events != 7 || rep.Last != 7 || rep.StatesEqual != 6 || !rep.OK {
		t.Errorf("replay --to 7 --json: exit %d, %+v, %v\nstdout: %s\nstderr: %s", code, rep, err, stdout, stderr)
	}

	code, stdout, stderr = runCLI(t, "", "replay", "diverge-1", "--server", srv.ClientURL())
	want := "diverge-1: diverged at event 6: unrecorded host call (host call 0, clock)"
	if code != 1 || !strings.Contains(stdout, want) || !strings.Contains(stderr, "diverged at event 6") {
		t.Errorf("replay diverge-1: exit %d, want 1 and %q\nstdout: %s\nstderr: %s", code, want, stdout, stderr)
	}

	code, _, stderr = runCLI(t, "", "replay", "nobody", "--server", srv.ClientURL())
	if code != 1 || !strings.Contains(stderr, `"nobody" has no chain`) {
		t.Errorf("replay nobody: exit %d, stderr %s", code, stderr)
	}
}
