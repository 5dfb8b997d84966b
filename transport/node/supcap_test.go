package node_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/guest"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/actor/replay"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/embedded"
	"github.com/theater-go/theater/transport/natstest"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// supGuests are the supervisor example's boss and worker, built once.
var supGuests = sync.OnceValues(func() ([2][]byte, error) {
	var out [2][]byte
	dir, err := os.MkdirTemp("", "supcap")
	if err != nil {
		return out, err
	}
	defer os.RemoveAll(dir)
	for i, pkg := range []string{"boss", "worker"} {
		file := filepath.Join(dir, pkg+".wasm")
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", file, "./examples/supervisor/"+pkg)
		cmd.Dir = filepath.Join("..", "..")
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
		if msg, err := cmd.CombinedOutput(); err != nil {
			return out, errors.New(string(msg))
		}
		if out[i], err = os.ReadFile(file); err != nil {
			return out, err
		}
	}
	return out, nil
})

var supDir = filepath.Join("..", "..", "examples", "supervisor")

// supCache is the compiled-module cache the nodes of these tests share:
// a Go guest compiles cold for tens of seconds under the race detector.
var supCache = sync.OnceValues(func() (string, error) { return os.MkdirTemp("", "supcap-cache") })

// startSupNode starts node name with both guests compiled in its runtime
// already, so that a spawn's time limit measures the spawn.
func startSupNode(t *testing.T, srv *embedded.Server, name string, logger *slog.Logger) *node.Node {
	t.Helper()
	return startNodeCfg(t, srv, node.Config{Name: name, Runtime: supRuntime(t), Logger: logger})
}

func supRuntime(t testing.TB) *actor.Runtime {
	t.Helper()
	g, err := supGuests()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := supCache()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt, err := actor.NewRuntime(ctx, actor.WithLogger(quiet), actor.WithCacheDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close(context.Background()) })
	for _, mod := range g {
		if _, err := rt.Compile(ctx, mod); err != nil {
			t.Fatal(err)
		}
	}
	return rt
}

// spawnBoss stores the worker's manifest under its name and spawns the
// boss as id on node on (any node when "").
func spawnBoss(t *testing.T, c *client.Client, id, on string) {
	t.Helper()
	spawnBossWith(t, c, id, on, func(*manifest.Manifest) {})
}

// spawnBossWith is spawnBoss with the boss's manifest changed by edit.
func spawnBossWith(t *testing.T, c *client.Client, id, on string, edit func(*manifest.Manifest)) {
	t.Helper()
	g, err := supGuests()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	wm, err := manifest.Load(filepath.Join(supDir, "worker.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.PutManifest(ctx, wm, g[1], nil); err != nil {
		t.Fatal(err)
	}
	bm, err := manifest.Load(filepath.Join(supDir, "boss.toml"))
	if err != nil {
		t.Fatal(err)
	}
	edit(bm)
	if _, err := c.Spawn(ctx, bm, g[0], nil, client.SpawnOptions{ID: id, Node: on}); err != nil {
		t.Fatal(err)
	}
}

// bossAsk sends the boss a command and returns its answer.
func bossAsk(t *testing.T, c *client.Client, id string, args ...string) []string {
	t.Helper()
	r, err := c.Request(context.Background(), id, strList(args...), wire.Msgpack)
	if err != nil {
		t.Fatalf("%s %q: %v", id, args, err)
	}
	return readStrList(t, r)
}

func strList(args ...string) []byte {
	b := guest.AppendArrayHeader(nil, len(args))
	for _, a := range args {
		b = guest.AppendString(b, a)
	}
	return b
}

func readStrList(t *testing.T, b []byte) []string {
	t.Helper()
	n, rest, err := guest.ReadArrayHeader(b)
	if err != nil {
		t.Fatalf("%x: %v", b, err)
	}
	out := make([]string, n)
	for i := range out {
		if out[i], rest, err = guest.ReadString(rest); err != nil {
			t.Fatalf("%x: %v", b, err)
		}
	}
	return out
}

// waitDecisions polls the boss's log until it is want; the boss may be
// down (a takeover) meanwhile.
func waitDecisions(t *testing.T, c *client.Client, id string, want []string) {
	t.Helper()
	checkFor(t, 30*time.Second, func() error {
		r, err := c.Request(context.Background(), id, strList("log"), wire.Msgpack)
		if err != nil {
			return err
		}
		if got := readStrList(t, r); !slices.Equal(got, want) {
			return fmt.Errorf("decisions %q\nwant %q", got, want)
		}
		return nil
	})
}

// waitWorker polls until a worker of the boss runs that is not the one
// of entry prev (by its update time) and returns its entry.
func waitWorker(t *testing.T, c *client.Client, boss string, prev time.Time) wire.Entry {
	t.Helper()
	var e wire.Entry
	checkFor(t, 30*time.Second, func() error {
		var err error
		if e, err = c.Entry(context.Background(), "worker"); err != nil {
			return err
		}
		if e.Status != wire.StatusRunning || e.Parent != boss || !e.Updated.After(prev) {
			return fmt.Errorf("worker entry: %s on %s, parent %q, updated %v", e.Status, e.Node, e.Parent, e.Updated)
		}
		if c := bossAsk(t, c, boss, "children"); !slices.Equal(c, []string{"worker:temporary:true:0"}) {
			return fmt.Errorf("children %q", c)
		}
		return nil
	})
	return e
}

func workerSend(t *testing.T, c *client.Client, cmd string) {
	t.Helper()
	if err := c.Send(context.Background(), "worker", guest.AppendString(nil, cmd), wire.Msgpack); err != nil {
		t.Fatal(err)
	}
}

// waitWorkerCount polls the worker's count until it is want (sends are handled
// after they are acknowledged) and fails the test if it never is.
func waitWorkerCount(t *testing.T, c *client.Client, want uint64, what string) {
	t.Helper()
	checkFor(t, 30*time.Second, func() error {
		r, err := c.Request(context.Background(), "worker", strList(), wire.Msgpack)
		if err != nil {
			return err
		}
		n, _, err := guest.ReadUint(r)
		if err == nil && n != want {
			err = fmt.Errorf("%s: the worker counts %d, want %d", what, n, want)
		}
		return err
	})
}

// supervisorInputs are the supervisor calls a chain records, as
// "op id -> outcome" lines.
func supervisorInputs(t *testing.T, evs []chain.Event) []string {
	t.Helper()
	var out []string
	for _, e := range evs {
		h, ok := e.Body.(*chain.Handled)
		if !ok {
			continue
		}
		for _, in := range h.Inputs {
			if in.Call != replay.CallSupervisor {
				continue
			}
			var m struct {
				Op  string `msgpack:"op"`
				ID  string `msgpack:"id"`
				Err string `msgpack:"err"`
			}
			if err := msgpack.Unmarshal(in.Data, &m); err != nil {
				t.Fatal(err)
			}
			out = append(out, strings.TrimSpace(m.Op+" "+m.ID+" "+m.Err))
		}
	}
	return out
}

// childEvents are the sends the boss handled from the worker, by id.
func childEvents(evs []chain.Event) []string {
	var ids []string
	for _, e := range evs {
		if h, ok := e.Body.(*chain.Handled); ok && h.Call == chain.CallSend && h.From == "worker" {
			ids = append(ids, h.MsgID)
		}
	}
	return ids
}

// workerExits are the ids derived from the worker's chain for the
// events that ended a worker (its stop events).
func workerExits(evs []chain.Event) []string {
	var ids []string
	for _, e := range evs {
		if _, ok := e.Body.(*chain.Stop); ok {
			ids = append(ids, chain.MessageID("worker", e.Seq, 0))
		}
	}
	return ids
}

// theaterReplay runs `theater replay id` against url.
func theaterReplay(t *testing.T, url, id string) string {
	t.Helper()
	out, err := exec.Command(theaterBin, "replay", id, "--server", url).CombinedOutput()
	if err != nil {
		t.Fatalf("theater replay %s: %v\n%s", id, err, out)
	}
	return string(out)
}

// TestSupervisorAgentOnNode runs the supervisor example on a node: the
// boss spawns the worker as a temporary child through the capability;
// each trap reaches the boss as a child event in its durable mailbox, and
// the boss spawns the worker again after 10, 20 and 40 ms from its last
// state, then gives up. The boss's chain records every capability
// outcome, `theater replay` of it passes with no worker running, and the
// worker's chain names its parent.
func TestSupervisorAgentOnNode(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startSupNode(t, srv, "a", nil)
	c := newClient(t, srv)
	spawnBoss(t, c, "boss", "")
	want := []string{"spawned worker"}
	waitDecisions(t, c, "boss", want)
	e := waitWorker(t, c, "boss", time.Time{})
	workerSend(t, c, "add")
	workerSend(t, c, "add")
	waitWorkerCount(t, c, 2, "two adds")
	for try, delay := range []int{10, 20, 40} {
		crashed := time.Now()
		workerSend(t, c, "crash")
		want = append(want, fmt.Sprintf("restart worker (try %d) in %dms from last after trap", try+1, delay))
		waitDecisions(t, c, "boss", want)
		e = waitWorker(t, c, "boss", e.Updated)
		if waited := e.Updated.Sub(crashed); waited < time.Duration(delay)*time.Millisecond {
			t.Errorf("try %d: the worker was spawned again %v after the crash, before its %dms backoff", try+1, waited, delay)
		}
		waitWorkerCount(t, c, uint64(2+try), fmt.Sprintf("try %d, from its last state", try+1))
		workerSend(t, c, "add")
	}
	workerSend(t, c, "crash")
	want = append(want, "gave up on worker after 3 tries: trap")
	waitDecisions(t, c, "boss", want)
	if got := bossAsk(t, c, "boss", "children"); len(got) != 0 {
		t.Errorf("children after giving up %q, want none", got)
	}
	checkFor(t, 10*time.Second, func() error {
		e, err := c.Entry(ctx, "worker")
		if err != nil || e.Status != wire.StatusFailed {
			return fmt.Errorf("worker %+v, %v; want failed", e.Status, err)
		}
		return nil
	})
	st := bossAsk(t, c, "boss", "state", "worker")
	if raw, err := hex.DecodeString(st[0]); err != nil || len(raw) == 0 || raw[0] != 5 {
		t.Errorf("the last worker's state %q, want 5", st)
	}

	nc := connect(t, srv)
	boss := chainOf(t, nc, "boss")
	calls := supervisorInputs(t, boss)
	var spawns []string
	for _, c := range calls {
		if strings.HasPrefix(c, "spawn ") {
			spawns = append(spawns, c)
		}
	}
	if len(spawns) != 4 || slices.ContainsFunc(spawns, func(s string) bool { return s != "spawn worker" }) {
		t.Errorf("the boss's chain records the spawns %q (all calls %q), want 4 that succeeded", spawns, calls)
	}
	worker := chainOf(t, nc, "worker")
	if got, want := childEvents(boss), workerExits(worker); !slices.Equal(got, want) || len(got) != 4 {
		t.Errorf("the boss handled the child events %q, want one per worker stop %q", got, want)
	}
	var parents int
	for _, ev := range worker {
		if l, ok := ev.Body.(*chain.Lifecycle); ok && l.What == "spawned_by" && l.Fields["parent"] == "boss" {
			parents++
		}
	}
	if parents != 4 {
		t.Errorf("the worker's chain names its parent %d times, want once per spawn (4)", parents)
	}
	// The workers are gone: replay answers the boss's calls from its chain.
	if out := theaterReplay(t, srv.ClientURL(), "boss"); !strings.Contains(out, "all states equal") {
		t.Errorf("theater replay boss: %s", out)
	}
}

// placeWorker stops and spawns the boss's worker again until it runs on
// node on: children go where the shared spawn endpoint puts them.
func placeWorker(t *testing.T, c *client.Client, boss, on string) wire.Entry {
	t.Helper()
	e := waitWorker(t, c, boss, time.Time{})
	for try := 0; e.Node != on; try++ {
		if try == 30 {
			t.Fatalf("the worker never landed on %s", on)
		}
		if r := bossAsk(t, c, boss, "stop", "worker"); !slices.Equal(r, []string{"ok"}) {
			t.Fatalf("stop: %q", r)
		}
		if r := bossAsk(t, c, boss, "spawn", "worker", "worker", "temporary", "0"); !slices.Equal(r, []string{"ok"}) {
			t.Fatalf("spawn: %q", r)
		}
		e = waitWorker(t, c, boss, e.Updated)
	}
	return e
}

// TestSupervisorAgentAcrossNodes: the boss on node a, its worker on node
// b. A trap on b reaches the boss on a through its mailbox, and the boss
// restarts the worker wherever placement puts it; a stop the boss asks
// for is in the worker's chain and not reported back to it; stopping the
// boss stops its worker.
func TestSupervisorAgentAcrossNodes(t *testing.T) {
	srv := testServer(t)
	startSupNode(t, srv, "a", nil)
	startSupNode(t, srv, "b", nil)
	c := newClient(t, srv)
	spawnBoss(t, c, "boss", "a")
	e := placeWorker(t, c, "boss", "b")
	workerSend(t, c, "add")
	waitWorkerCount(t, c, 1, "one add")
	workerSend(t, c, "crash")
	waitDecisions(t, c, "boss", []string{"spawned worker", "restart worker (try 1) in 10ms from last after trap"})
	waitWorker(t, c, "boss", e.Updated)
	waitWorkerCount(t, c, 1, "restarted from its last state on b")
	// The boss stops the worker: the worker's chain says so, the boss is
	// not told. Then a boss that is stopped ends its (new) worker.
	nc := connect(t, srv)
	if r := bossAsk(t, c, "boss", "stop", "worker"); !slices.Equal(r, []string{"ok"}) {
		t.Fatalf("stop: %q", r)
	}
	if err := endsWithParentStop(chainOf(t, nc, "worker")); err != nil {
		t.Error(err)
	}
	if got := bossAsk(t, c, "boss", "children"); len(got) != 0 {
		t.Errorf("children after the stop %q, want none", got)
	}
	if r := bossAsk(t, c, "boss", "spawn", "worker", "worker", "temporary", "0"); !slices.Equal(r, []string{"ok"}) {
		t.Fatalf("spawn: %q", r)
	}
	waitWorker(t, c, "boss", e.Updated)
	if got := childEvents(chainOf(t, nc, "boss")); len(got) != 1 {
		t.Errorf("the boss handled child events %q, want the one trap (stops it asked for are not reported)", got)
	}
	if _, err := c.Stop(context.Background(), "boss"); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 20*time.Second, func() error {
		w, err := c.Entry(context.Background(), "worker")
		if err != nil || w.Status != wire.StatusStopped {
			return fmt.Errorf("worker %s, %v; want stopped with its parent", w.Status, err)
		}
		return endsWithParentStop(chainOf(t, nc, "worker"))
	})
}

// endsWithParentStop checks that a child's chain ends with the
// lifecycle parent_stop and the stop.
func endsWithParentStop(evs []chain.Event) error {
	var last []chain.Body
	for _, e := range evs {
		if _, ok := e.Body.(*chain.Snapshot); !ok {
			last = append(last, e.Body)
		}
	}
	if len(last) >= 2 {
		l, ok := last[len(last)-2].(*chain.Lifecycle)
		_, stop := last[len(last)-1].(*chain.Stop)
		if ok && l.What == "parent_stop" && l.Fields["parent"] == "boss" && stop {
			return nil
		}
	}
	return fmt.Errorf("the worker's chain ends with %v, want a parent_stop lifecycle and a stop", kinds(evs[max(0, len(evs)-3):]))
}

// TestSupervisorAgentSurvivesKill: SIGKILL of the real `theater serve`
// hosting the boss. While the boss is down its worker traps on the
// surviving node; the survivor takes the boss over from its chain, with
// the same child, and the boss gets the exit that happened meanwhile
// once, and restarts the worker.
func TestSupervisorAgentSurvivesKill(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	// A node TTL of 3 s: the worker's failure must be recorded while the
	// boss is down, before the survivor notices, on a loaded machine too.
	doomed := startServe(t, srv.ClientURL(), "doomed", "--node-ttl", "3s")
	survivor, err := node.Start(ctx, node.Config{Conn: connect(t, srv), Runtime: supRuntime(t), Name: "survivor",
		Store: transport.StoreConfig{NodeTTL: 3 * time.Second}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = survivor.Close(context.Background()) })
	c := newClient(t, srv)
	spawnBoss(t, c, "boss", "doomed")
	e := placeWorker(t, c, "boss", "survivor")
	workerSend(t, c, "add")
	waitWorkerCount(t, c, 1, "one add")
	if err := doomed.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = doomed.Wait()
	workerSend(t, c, "crash")
	checkFor(t, 10*time.Second, func() error {
		w, err := c.Entry(ctx, "worker")
		if err != nil || w.Status != wire.StatusFailed {
			return fmt.Errorf("worker %s, %v; want failed", w.Status, err)
		}
		return nil
	})
	if b, err := c.Entry(ctx, "boss"); err != nil || b.Node != "doomed" {
		t.Fatalf("the boss is on %q (%v) when its worker failed; the test wants it down", b.Node, err)
	}
	waitDecisions(t, c, "boss", []string{"spawned worker", "restart worker (try 1) in 10ms from last after trap"})
	if b, err := c.Entry(ctx, "boss"); err != nil || b.Node != "survivor" {
		t.Errorf("the boss is on %q (%v), want survivor", b.Node, err)
	}
	waitWorker(t, c, "boss", e.Updated)
	waitWorkerCount(t, c, 1, "restarted from its last state")
	nc := connect(t, srv)
	if got, want := childEvents(chainOf(t, nc, "boss")), workerExits(chainOf(t, nc, "worker")); len(got) != 1 || got[0] != want[len(want)-1] {
		t.Errorf("the boss handled child events %q, want once the trap's %q", got, want[len(want)-1])
	}
}

// TestChildEventNoParent: a child whose parent the registry no longer
// knows fails; its node drops the event with a log and the child's give-up
// completes. A child event sent to an actor that is not a supervisor, or
// one that is not a child-event, is refused and the mailbox goes on.
func TestChildEventNoParent(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	logger, logs := natstest.CapturingLogger(slog.LevelWarn)
	startSupNode(t, srv, "a", logger)
	c := newClient(t, srv)
	g, err := supGuests()
	if err != nil {
		t.Fatal(err)
	}
	wm, err := manifest.Load(filepath.Join(supDir, "worker.toml"))
	if err != nil {
		t.Fatal(err)
	}
	wm.Supervision.Restart = "temporary"
	nc := connect(t, srv)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	obs, err := js.ObjectStore(ctx, transport.Layout{}.ModulesStore())
	if err != nil {
		t.Fatal(err)
	}
	if wm.Module, err = wire.PutObject(ctx, obs, g[1]); err != nil {
		t.Fatal(err)
	}
	// The parent is an agent node a hosts, which the registry then
	// forgets (an operator's `nats kv del`).
	ghost := faultyManifest(manifest.Supervision{})
	ghost.Capabilities.Supervisor = &manifest.SupervisorConfig{}
	spawnModule(t, c, ghost, faultyModule, "ghost", "")
	if err := spawnRaw(ctx, nc, transport.Layout{}.ChildSpawnSubject(), "worker", "ghost", "a", *wm); err != nil {
		t.Fatal(err)
	}
	actors, err := js.KeyValue(ctx, transport.Layout{}.ActorsBucket())
	if err != nil {
		t.Fatal(err)
	}
	if err := actors.Delete(ctx, "ghost"); err != nil {
		t.Fatal(err)
	}
	workerSend(t, c, "crash")
	checkFor(t, 10*time.Second, func() error {
		if !logs.Contains("dropping a child event: its parent is unknown") {
			return errors.New("no log of the dropped event")
		}
		if e, err := c.Entry(ctx, "worker"); err != nil || e.Status != wire.StatusFailed {
			return fmt.Errorf("worker %s, %v; want failed", e.Status, err)
		}
		return nil
	})

	// A forged child event to the counter, which is not a supervisor, and
	// a malformed one to a boss: both refused, both mailboxes go on.
	spawnModule(t, c, faultyManifest(manifest.Supervision{}), faultyModule, "ctr", "")
	spawnBoss(t, c, "boss", "")
	waitDecisions(t, c, "boss", []string{"spawned worker"})
	for _, to := range []string{"ctr", "boss"} {
		f := nats.NewMsg(transport.Layout{}.SendSubject(to))
		f.Data = guest.AppendString(nil, "not a child event")
		f.Header.Set(wire.FromHeader, "worker")
		f.Header.Set(wire.ChildEventHeader, "1")
		if err := wire.PublishSend(ctx, js, f, ""); err != nil {
			t.Fatal(err)
		}
	}
	send(t, c, "ctr", cmdAdd)
	workerSend(t, c, "crash")
	waitDecisions(t, c, "boss", []string{"spawned worker", "restart worker (try 1) in 10ms from last after trap"})
	for _, id := range []string{"ctr", "boss"} {
		checkFor(t, 10*time.Second, func() error {
			rejected := false
			for _, e := range chainOf(t, nc, id) {
				switch b := e.Body.(type) {
				case *chain.Failure:
					rejected = rejected || b.Reason == "rejected"
				case *chain.Handled:
					if rejected && b.Call == chain.CallSend {
						return nil // the send after the forged event
					}
				}
			}
			return fmt.Errorf("%s: rejected %v, and no send handled after it", id, rejected)
		})
	}
}

// TestGaveUpAnswersAtOnce: requests that arrive while the node is giving
// a temporary actor up (its chain, registry and lease being written), and
// those in flight when it ends the actor's request subscription, are
// answered with gave_up, or find no responder once it is gone: none is
// left to time out. This is the window in which a supervisor agent's
// clients poll for its child's successor.
func TestGaveUpAnswersAtOnce(t *testing.T) {
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	for cycle := range 10 {
		id := fmt.Sprintf("tmp%d", cycle)
		spawnModule(t, c, faultyManifest(manifest.Supervision{Restart: "temporary"}), faultyModule, id, "")
		add(t, c, id)
		send(t, c, id, cmdTrap)
		// Poll as a client waiting for a successor does, until well after
		// the give-up (the registry then answers gave_up for the node).
		var gaveUp time.Time
		for i := 0; gaveUp.IsZero() || time.Since(gaveUp) < 300*time.Millisecond; i++ {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, err := c.Request(ctx, id, cmdAdd, wire.Msgpack)
			cancel()
			switch {
			case err == nil: // before the trap
			case errors.Is(err, wire.ErrGaveUp):
				if gaveUp.IsZero() {
					gaveUp = time.Now()
				}
			case errors.Is(err, context.DeadlineExceeded):
				t.Fatalf("%s: request %d after the trap went unanswered: %v", id, i, err)
			default:
				t.Fatalf("%s: request %d after the trap: %v", id, i, err)
			}
		}
	}
}
