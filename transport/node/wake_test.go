package node_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/actor/replay"
	"github.com/theater-go/theater/supervisor"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
	"github.com/theater-go/theater/wit"
)

var (
	goCounterOnce sync.Once
	goCounterPath string
	goCounterErr  error
)

// goCounter builds the Go counter once per test binary and returns its
// path.
func goCounter(t testing.TB) string {
	t.Helper()
	goCounterOnce.Do(func() {
		dir, err := os.MkdirTemp("", "node-wake-")
		if err != nil {
			goCounterErr = err
			return
		}
		goCounterPath = filepath.Join(dir, "counter.wasm")
		build := exec.Command("go", "build", "-buildmode=c-shared", "-o", goCounterPath, "./examples/counter/go")
		build.Dir = filepath.Join("..", "..")
		build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
		if out, err := build.CombinedOutput(); err != nil {
			goCounterErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if goCounterErr != nil {
		t.Fatal(goCounterErr)
	}
	return goCounterPath
}

// fuelRun is one actor driven through wakes, restarts and a move, with
// the fuel of each successful request as the node measured it.
type fuelRun struct {
	t    *testing.T
	c    *client.Client
	nc   *nats.Conn
	id   string
	fuel []uint64 // of each successful request, in order
	oof  int      // requests that ran out of fuel
}

// request sends one request to the actor on n and records its fuel.
func (r *fuelRun) request(n *node.Node) error {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := r.c.Request(ctx, r.id, []byte{1}, wire.Msgpack)
	for errors.Is(err, wire.ErrUnavailable) && ctx.Err() == nil {
		// Not handled: no node serves the actor yet (right after a move)
		// or it is restarting. Nothing is in the chain; ask again.
		time.Sleep(10 * time.Millisecond)
		_, err = r.c.Request(ctx, r.id, []byte{1}, wire.Msgpack)
	}
	if err == nil {
		r.fuel = append(r.fuel, node.LastFuel(n, r.id))
	}
	return err
}

// wake waits until the actor on n hibernates, then sends it a request,
// which runs in a woken instance.
func (r *fuelRun) wake(n *node.Node) error {
	r.t.Helper()
	checkFor(r.t, 30*time.Second, func() error {
		if node.Live(n, r.id) {
			return errors.New("still live")
		}
		return nil
	})
	return r.request(n)
}

// restarted waits until n hosts the actor and its chain has the want-th
// restart event.
func (r *fuelRun) restarted(n *node.Node, want int) {
	r.t.Helper()
	checkFor(r.t, time.Minute, func() error {
		if !node.Hosts(n, r.id) {
			return errors.New("not hosted")
		}
		if got := countKind(chainOf(r.t, r.nc, r.id), chain.KindRestart); got < want {
			return fmt.Errorf("%d restart events, want %d", got, want)
		}
		return nil
	})
}

// TestFuelAcrossWakesOnNodes: an actor hibernates between calls (a short
// idle timeout), runs out of fuel, is restarted by its supervisor and
// moves to another node; the fuel of every call the node made is the
// fuel replay measures for its event, and replay fails the same calls
// out of fuel. The Go counter's limit lies above init and a warm call
// but below a woken call, so the first call after every wake and after
// the move runs out of fuel, its restart from the initial state runs
// init again, and the calls after it are warm. (The C counter's init
// costs more than its woken call, so no such limit exists for it: it
// runs without one.) Before wakes and owner changes started replay's
// instance again, replay ran those calls warm: the C counter's woken
// calls cost a quarter of the fuel, and the Go counter's did not run out
// of fuel.
func TestFuelAcrossWakesOnNodes(t *testing.T) {
	for _, lang := range []string{"c", "go"} {
		t.Run(lang, func(t *testing.T) { fuelAcrossWakes(t, lang) })
	}
}

func fuelAcrossWakes(t *testing.T, lang string) {
	ctx := context.Background()
	srv := testServer(t)
	nodeA := startNode(t, srv, "a")
	nodeB := startNode(t, srv, "b")
	c := newClient(t, srv)
	nc := connect(t, srv)
	m, err := manifest.Load(counterManifest)
	if err != nil {
		t.Fatal(err)
	}
	m.Module = filepath.Join("..", "..", "examples", "counter", "c", "counter.wasm")
	if lang == "go" {
		m.Module = goCounter(t)
	}
	module, witSrc := readFile(t, m.Module), readFile(t, m.WIT)
	m.Supervision.StartFrom, m.Supervision.Intensity, m.Supervision.Period = supervisor.StartInitial, 100, manifest.Duration(time.Minute)
	m.Limits.HandlerDeadline = manifest.Duration(time.Minute) // a Go guest under the race detector
	spawn := func(id string, m *manifest.Manifest) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 5*time.Minute) // a Go guest compiles slowly on a loaded machine
		defer cancel()
		if _, err := c.Spawn(sctx, m, module, witSrc, client.SpawnOptions{ID: id, Node: "a"}); err != nil {
			t.Fatal(err)
		}
	}
	id := "fuel-" + lang
	if lang == "go" {
		// The fuel of init, a warm call and a woken one, on this node.
		probe := &fuelRun{t: t, c: c, nc: nc, id: "probe"}
		spawn(probe.id, m)
		initFuel := node.LastFuel(nodeA, probe.id)
		if err := probe.request(nodeA); err != nil {
			t.Fatal(err)
		}
		if err := node.Hibernate(nodeA, probe.id); err != nil {
			t.Fatal(err)
		}
		if err := probe.request(nodeA); err != nil {
			t.Fatal(err)
		}
		warm, woken := probe.fuel[0], probe.fuel[1]
		limit := (max(initFuel, warm) + woken) / 2
		if limit <= max(initFuel, warm) || limit >= woken {
			t.Fatalf("init %d, warm %d, woken %d: no limit between", initFuel, warm, woken)
		}
		m.Limits.Fuel = int(limit)
	}
	m.Limits.Idle = manifest.Duration(200 * time.Millisecond)
	spawn(id, m)
	r := &fuelRun{t: t, c: c, nc: nc, id: id}
	// expect runs a call that the limit makes run out of fuel, and waits
	// for the restart after it; without a limit the call succeeds.
	restarts := 0
	expect := func(n *node.Node, call func(*node.Node) error) {
		t.Helper()
		err := call(n)
		if m.Limits.Fuel == 0 {
			if err != nil {
				t.Fatal(err)
			}
			return
		}
		for deadline := time.Now().Add(time.Minute); err != nil && !strings.Contains(err.Error(), "out of fuel"); {
			// Not handled at all (the move under the race detector: no
			// answer yet): nothing is in the chain; ask again.
			if time.Now().After(deadline) {
				t.Fatal(err)
			}
			err = r.request(n)
		}
		if err == nil {
			t.Fatalf("a woken call of %d fuel did not run out of fuel under %d", r.fuel[len(r.fuel)-1], m.Limits.Fuel)
		}
		r.oof++
		restarts++
		r.restarted(n, restarts)
	}
	// warm runs a call meant to run in a warm instance. On a loaded
	// machine the idle timer may have closed it meanwhile: then, under the
	// limit, it runs out of fuel like a woken call, which the chain and
	// replay must show all the same.
	warm := func(n *node.Node) {
		t.Helper()
		if err := r.request(n); err != nil {
			if m.Limits.Fuel == 0 {
				t.Fatal(err)
			}
			r.oof++
			restarts++
			r.restarted(n, restarts)
		}
	}
	for range 3 {
		warm(nodeA)
	}
	expect(nodeA, r.wake)
	for range 2 {
		warm(nodeA)
	}
	expect(nodeA, r.wake)
	warm(nodeA)
	// The move: a shutdown of a, and b takes the actor from its chain.
	if err := nodeA.Close(ctx); err != nil {
		t.Fatal(err)
	}
	checkFor(t, time.Minute, func() error {
		if !node.Hosts(nodeB, id) {
			return errors.New("b does not host it yet")
		}
		return nil
	})
	expect(nodeB, r.request) // a resumed actor's first call runs in a new instance
	for range 2 {
		warm(nodeB)
	}

	evs := chainOf(t, nc, id)
	wakes, failures := 0, 0
	for _, e := range evs {
		switch b := e.Body.(type) {
		case *chain.Lifecycle:
			if b.What == chain.Wake {
				wakes++
			}
		case *chain.Failure:
			if b.Reason != "out_of_fuel" {
				t.Fatalf("event %d: failure %s: %s", e.Seq, b.Reason, b.Detail)
			}
			failures++
		}
	}
	if wakes < 2 || failures != r.oof || countKind(evs, chain.KindOwner) < 2 {
		t.Fatalf("%d wakes, %d failures (want %d), owners: %v", wakes, failures, r.oof, kinds(evs))
	}

	model, err := wit.Parse(m.Name+".wit", witSrc)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := actor.SpecFromManifest(id, m.WithDefaults(), model)
	if err != nil {
		t.Fatal(err)
	}
	spec.Module = module
	rt := newRuntime(t)
	var replayed []uint64
	progress := func(done, _ int) {
		if h, ok := evs[done-1].Body.(*chain.Handled); ok && h.Call == chain.CallRequest {
			if a, ok := rt.Actor(id); ok {
				replayed = append(replayed, a.LastFuel())
			}
		}
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	rep, err := replay.Replay(rctx, rt, spec, evs, replay.WithProgress(progress))
	if err != nil || !rep.OK() {
		t.Fatalf("replay: %v, %v (chain %v)", err, rep.Divergence, kinds(evs))
	}
	if fmt.Sprint(replayed) != fmt.Sprint(r.fuel) {
		t.Fatalf("fuel of each request: replay %v, live %v", replayed, r.fuel)
	}
}

// TestRestoreAtInitKeepsFuel: a node is SIGKILLed after warm calls that
// follow init's snapshot, under a fuel limit above init and a warm call
// but below a woken one (the Go counter). A restore from that snapshot
// runs init again and the calls after it in init's instance, as the
// node ran them: they fit the limit, so the survivor takes the actor.
// Restored from the snapshot in a fresh instance, the first of them ran
// out of fuel and the chain did not replay: the actor was never hosted
// again.
func TestRestoreAtInitKeepsFuel(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	child := startServe(t, srv.ClientURL(), "doomed", "--node-ttl", "1s")
	c := newClient(t, srv)
	nc := connect(t, srv)
	m, err := manifest.Load(counterManifest)
	if err != nil {
		t.Fatal(err)
	}
	m.Module = goCounter(t)
	module, witSrc := readFile(t, m.Module), readFile(t, m.WIT)
	m.Limits.HandlerDeadline = manifest.Duration(time.Minute)
	// The limit from the fuel the Go counter takes in
	// TestFuelAcrossWakesOnNodes (init 236,000, a warm call 99,000-104,000,
	// a woken one 273,000-278,000); checked below against this run's.
	m.Limits.Fuel = 255_000
	sctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if _, err := c.Spawn(sctx, m, module, witSrc, client.SpawnOptions{ID: "kept", Node: "doomed"}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := c.Request(sctx, "kept", []byte{1}, wire.Msgpack); err != nil {
			t.Fatal(err)
		}
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	evs := chainOf(t, nc, "kept")
	if fmt.Sprint(kinds(evs)) != "[spawn owner handled snapshot handled handled handled]" {
		t.Fatalf("chain %v: not init's snapshot and warm calls", kinds(evs))
	}
	survivor := startNodeCfg(t, srv, node.Config{Name: "survivor", Store: transport.StoreConfig{NodeTTL: time.Second}})
	checkFor(t, 2*time.Minute, func() error {
		if !node.Hosts(survivor, "kept") {
			return errors.New("the survivor does not host it")
		}
		return nil
	})
	_, err = c.Request(sctx, "kept", []byte{0}, wire.Msgpack)
	for errors.Is(err, wire.ErrUnavailable) && sctx.Err() == nil {
		// Not handled: the survivor does not serve it yet. Ask again.
		time.Sleep(10 * time.Millisecond)
		_, err = c.Request(sctx, "kept", []byte{0}, wire.Msgpack)
	}
	// The limit lies between this run's costs: the first call in the
	// survivor's new instance ran out of fuel.
	var f *chain.Failure
	for _, e := range chainOf(t, nc, "kept") {
		if b, ok := e.Body.(*chain.Failure); ok && f == nil {
			f = b
		}
	}
	if err == nil || f == nil || f.Reason != "out_of_fuel" {
		t.Fatalf("the first call after the restore: %v, failure %+v; want out of fuel", err, f)
	}
}

// TestSnapshotStartsInstance: a restore starts from the last snapshot in
// a fresh instance, so the node starts one there too: the call after a
// periodic snapshot runs in a new instance (a wake event says so), and a
// replay from that snapshot, as a restore runs it, measures the fuel the
// node did for every call after it. Before, the node went on in its warm
// instance and the C counter's first call after the snapshot cost 4.3
// times as much in the restore.
func TestSnapshotStartsInstance(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	n := startNodeCfg(t, srv, node.Config{Name: "a", SnapshotEvery: 3})
	c := newClient(t, srv)
	nc := connect(t, srv)
	m, err := manifest.Load(counterManifest)
	if err != nil {
		t.Fatal(err)
	}
	m.Module = filepath.Join("..", "..", "examples", "counter", "c", "counter.wasm")
	module, witSrc := readFile(t, m.Module), readFile(t, m.WIT)
	if _, err := c.Spawn(ctx, m, module, witSrc, client.SpawnOptions{ID: "snap"}); err != nil {
		t.Fatal(err)
	}
	r := &fuelRun{t: t, c: c, nc: nc, id: "snap"}
	for range 5 {
		if err := r.request(n); err != nil {
			t.Fatal(err)
		}
	}
	var evs []chain.Event
	checkFor(t, 10*time.Second, func() error {
		evs = chainOf(t, nc, "snap")
		calls := 0
		for _, e := range evs {
			if h, ok := e.Body.(*chain.Handled); ok && h.Call == chain.CallRequest {
				calls++
			}
		}
		if calls < 5 {
			return fmt.Errorf("chain %v", kinds(evs))
		}
		return nil
	})
	// spawn, owner, init, snapshot, three calls, snapshot, wake, two calls
	last := 0
	for i, e := range evs {
		if e.Kind() == chain.KindSnapshot {
			last = i
		}
	}
	if lc, ok := evs[last+1].Body.(*chain.Lifecycle); !ok || lc.What != chain.Wake {
		t.Fatalf("chain %v: no wake after the last snapshot", kinds(evs))
	}
	model, err := wit.Parse(m.Name+".wit", witSrc)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := actor.SpecFromManifest("snap", m.WithDefaults(), model)
	if err != nil {
		t.Fatal(err)
	}
	spec.Module = module
	rt := newRuntime(t)
	from := evs[last:]
	var replayed []uint64
	progress := func(done, _ int) {
		if h, ok := from[done-1].Body.(*chain.Handled); ok && h.Call == chain.CallRequest {
			if a, ok := rt.Actor("snap"); ok {
				replayed = append(replayed, a.LastFuel())
			}
		}
	}
	rep, err := replay.Replay(ctx, rt, spec, from, replay.WithProgress(progress))
	if err != nil || !rep.OK() {
		t.Fatalf("replay from the snapshot: %v, %v", err, rep.Divergence)
	}
	if want := r.fuel[3:]; fmt.Sprint(replayed) != fmt.Sprint(want) || want[0] < 2*want[1] {
		t.Fatalf("fuel after the snapshot: restore %v, live %v (all %v)", replayed, want, r.fuel)
	}
}
