package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/supervisor"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// spawnBossOf spawns a boss that may have four children and spawn them
// from the modules digests name besides the worker's manifest.
func spawnBossOf(t *testing.T, c *client.Client, id, on string, digests ...string) {
	t.Helper()
	spawnBossWith(t, c, id, on, func(m *manifest.Manifest) {
		m.Capabilities.Supervisor.MaxChildren = 4
		m.Capabilities.Supervisor.Modules = digests
	})
}

// spawnRaw publishes a spawn request as a client (or a node) could, on
// subject, with node in its Theater-Node header when not empty.
func spawnRaw(ctx context.Context, nc *nats.Conn, subject, id, parent, node string, m manifest.Manifest) error {
	b, err := json.Marshal(wire.SpawnRequest{ID: id, Manifest: m, Parent: parent})
	if err != nil {
		return err
	}
	msg := nats.NewMsg(subject)
	msg.Data = b
	if node != "" {
		msg.Header.Set(wire.NodeHeader, node)
	}
	_, err = wire.Request(ctx, nc, msg, time.Minute)
	return err
}

// TestForgedParent: a spawn that names a parent is refused (denied) on
// the public spawn endpoints, and on the nodes' own subject unless the
// parent is hosted by the node the request says it comes from and, once
// registered, is granted supervisor. Nothing refused is registered; the
// node's own request spawns the child with its parent.
func TestForgedParent(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	spawnModule(t, c, faultyManifest(manifest.Supervision{}), faultyModule, "ctr", "")
	agent := faultyManifest(manifest.Supervision{})
	agent.Capabilities.Supervisor = &manifest.SupervisorConfig{}
	spawnModule(t, c, agent, faultyModule, "agent", "")
	e, err := c.Entry(ctx, "ctr")
	if err != nil {
		t.Fatal(err)
	}
	m := e.Manifest
	nc := connect(t, srv)
	l := transport.Layout{}
	for i, tc := range []struct{ name, subject, parent, node string }{
		{"client spawn naming a parent", l.ControlSubject(wire.OpSpawn), "agent", "a"},
		{"node spawn naming a parent", l.NodeSubject("a", wire.OpSpawn), "agent", "a"},
		{"unknown parent", l.ChildSpawnSubject(), "ghost", "a"},
		{"parent hosted by another node", l.ChildSpawnSubject(), "agent", "b"},
		{"no node header", l.ChildSpawnSubject(), "agent", ""},
		{"parent not granted supervisor", l.ChildSpawnSubject(), "ctr", "a"},
	} {
		id := fmt.Sprintf("kid%d", i)
		if err := spawnRaw(ctx, nc, tc.subject, id, tc.parent, tc.node, m); !errors.Is(err, wire.ErrDenied) {
			t.Errorf("%s: %v, want denied", tc.name, err)
		}
		if _, err := c.Entry(ctx, id); !errors.Is(err, wire.ErrUnknownActor) {
			t.Errorf("%s: the refused child is registered (%v)", tc.name, err)
		}
	}
	if err := spawnRaw(ctx, nc, l.ChildSpawnSubject(), "kid", "agent", "a", m); err != nil {
		t.Fatalf("the hosting node's spawn of a child: %v", err)
	}
	if e, err := c.Entry(ctx, "kid"); err != nil || e.Parent != "agent" || e.Status != wire.StatusRunning {
		t.Fatalf("kid: %s, parent %q, %v; want running, parent agent", e.Status, e.Parent, err)
	}
	// A stopped parent is hosted nowhere: its lease is given back.
	if _, err := c.Stop(ctx, "agent"); err != nil {
		t.Fatal(err)
	}
	if err := spawnRaw(ctx, nc, l.ChildSpawnSubject(), "kid-late", "agent", "a", m); !errors.Is(err, wire.ErrDenied) {
		t.Errorf("a child of a stopped parent: %v, want denied", err)
	}
}

// slowStopTOML is the manifest of testdata/slowstop.wat as a boss spawns
// it by digest: its on-stop handler loops until its 30 s deadline.
const slowStopTOML = "[limits]\nhandler_deadline = \"30s\"\n"

// TestChildShutdownBound: a supervisor agent's stop of a child whose
// on-stop handler never returns is bounded by the shutdown its child
// spec gives: past it the child is killed (on-stop aborted, not
// recorded), its chain ends with the parent_stop and the stop, and the
// stop returns long before the handler's deadline. The children the boss
// lists come from the children index: a registry entry that claims the
// boss as its parent without being spawned by it is not listed, and the
// index of a boss that ends is cleared.
func TestChildShutdownBound(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startSupNode(t, srv, "a", nil)
	c := newClient(t, srv)
	nc := connect(t, srv)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	digest := putModule(t, js, "testdata/slowstop.wasm")
	spawnBossOf(t, c, "boss", "", digest)
	waitDecisions(t, c, "boss", []string{"spawned worker"})
	if r := bossAsk(t, c, "boss", "spawn-module", "slow", digest, slowStopTOML, "500"); !slices.Equal(r, []string{"ok"}) {
		t.Fatalf("spawn-module: %q", r)
	}
	// A registry entry naming the boss its parent, never spawned by it.
	actors, err := js.KeyValue(ctx, transport.Layout{}.ActorsBucket())
	if err != nil {
		t.Fatal(err)
	}
	fake, _ := json.Marshal(wire.Entry{Node: "a", Digest: digest, Status: wire.StatusRunning, Parent: "boss", Updated: time.Now().UTC()})
	if _, err := actors.Put(ctx, "stray", fake); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 30*time.Second, func() error {
		got := bossAsk(t, c, "boss", "children")
		if want := []string{"worker:temporary:true:0", "slow:permanent:true:0"}; !slices.Equal(got, want) {
			return fmt.Errorf("children %q, want %q", got, want)
		}
		return nil
	})
	if err := actors.Delete(ctx, "stray"); err != nil {
		t.Fatal(err)
	}
	// A second one without a shutdown gets supervisor.DefaultShutdown.
	if r := bossAsk(t, c, "boss", "spawn-module", "slow-default", digest, slowStopTOML); !slices.Equal(r, []string{"ok"}) {
		t.Fatalf("spawn-module: %q", r)
	}
	took := map[string]time.Duration{}
	for _, id := range []string{"slow", "slow-default"} {
		checkFor(t, 30*time.Second, func() error {
			e, err := c.Entry(ctx, id)
			if err == nil && e.Status != wire.StatusRunning {
				err = fmt.Errorf("%s is %s", id, e.Status)
			}
			return err
		})
		start := time.Now()
		if r := bossAsk(t, c, "boss", "stop", id); !slices.Equal(r, []string{"ok"}) {
			t.Fatalf("stop %s: %q", id, r)
		}
		took[id] = time.Since(start)
		evs := chainOf(t, nc, id)
		if err := endsWithParentStop(evs); err != nil {
			t.Errorf("%s: %v", id, err)
		}
		for _, e := range evs {
			if h, ok := e.Body.(*chain.Handled); ok && h.Call == chain.CallStop {
				t.Errorf("%s: event %d is an on-stop event; the shutdown should have killed it", id, e.Seq)
			}
		}
		if e, err := c.Entry(ctx, id); err != nil || e.Status != wire.StatusStopped {
			t.Errorf("%s: %s, %v; want stopped", id, e.Status, err)
		}
	}
	if d := took["slow"]; d < 500*time.Millisecond || d >= supervisor.DefaultShutdown {
		t.Errorf("the stop of slow took %v: want its 500ms shutdown, under the default %v", d, supervisor.DefaultShutdown)
	}
	if d := took["slow-default"]; d < supervisor.DefaultShutdown || d > 25*time.Second {
		t.Errorf("the stop of slow-default took %v: want the default shutdown %v, not the 30s on-stop deadline", d, supervisor.DefaultShutdown)
	}
	// The boss ends: its worker is stopped and its index cleared.
	if _, err := c.Stop(ctx, "boss"); err != nil {
		t.Fatal(err)
	}
	kids, err := js.KeyValue(ctx, transport.Layout{}.ChildrenBucket())
	if err != nil {
		t.Fatal(err)
	}
	checkFor(t, 20*time.Second, func() error {
		lister, err := kids.ListKeysFiltered(ctx, "boss.*")
		if err != nil {
			return err
		}
		var keys []string
		for k := range lister.Keys() {
			keys = append(keys, k)
		}
		if len(keys) > 0 {
			return fmt.Errorf("the ended boss's index holds %q", keys)
		}
		return nil
	})
}

// TestChildEventFromChain: a child's failure event is durable on its
// node (a real `theater serve`), but the child event cannot be stored
// in its parent's mailbox (the mailbox stream is full) when that node is
// killed with SIGKILL. The node that takes the child over republishes
// the exit from the child's chain under the failure event's id, and the
// parent, on another node, handles it once.
func TestChildEventFromChain(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	doomed := startServe(t, srv.ClientURL(), "doomed", "--node-ttl", "3s")
	survivor, err := node.Start(ctx, node.Config{Conn: connect(t, srv), Runtime: supRuntime(t), Name: "survivor",
		Store: transport.StoreConfig{NodeTTL: 3 * time.Second}, Logger: quiet, SpawnTimeout: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = survivor.Close(context.Background()) })
	c := newClient(t, srv)
	nc := connect(t, srv)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	digest := putModule(t, js, faultyModule)
	spawnBossOf(t, c, "boss", "survivor", digest)
	waitDecisions(t, c, "boss", []string{"spawned worker"})
	w2 := placeChild(t, c, "boss", "w2", digest, faultyTOML, "doomed")
	mb, err := js.Stream(ctx, transport.Layout{}.MailboxStream())
	if err != nil {
		t.Fatal(err)
	}
	// One stored message at least (a limit of zero is no limit): a send
	// to an actor no one hosts, which no node purges.
	if _, err := js.Publish(ctx, transport.Layout{}.SendSubject("nobody"), []byte{0}); err != nil {
		t.Fatal(err)
	}
	info, err := mb.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	full := info.Config
	full.MaxMsgs = int64(info.State.Msgs)
	if _, err := js.UpdateStream(ctx, full); err != nil {
		t.Fatal(err)
	}
	// The trap goes by request: a send could not be stored either.
	if _, err := c.Request(ctx, "w2", cmdTrap, wire.Msgpack); !errors.Is(err, wire.ErrFailed) {
		t.Fatalf("the trap: %v, want failed", err)
	}
	var failSeq uint64
	checkFor(t, 30*time.Second, func() error {
		for _, e := range chainOf(t, nc, "w2") {
			if f, ok := e.Body.(*chain.Failure); ok && f.Reason == "trap" {
				failSeq = e.Seq
				return nil
			}
		}
		return errors.New("no trap in w2's chain yet")
	})
	if err := doomed.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = doomed.Wait()
	if got := bossAsk(t, c, "boss", "log"); len(got) != 1 {
		t.Fatalf("the boss heard of the trap before the kill: %q", got)
	}
	full.MaxMsgs = info.Config.MaxMsgs
	if _, err := js.UpdateStream(ctx, full); err != nil {
		t.Fatal(err)
	}
	waitDecisions(t, c, "boss", []string{"spawned worker", "w2 ended: trap"})
	if e, err := c.Entry(ctx, "w2"); err != nil || e.Node != "survivor" || !e.Updated.After(w2.Updated) {
		t.Errorf("w2 on %q (%v): want it taken over by survivor", e.Node, err)
	}
	want := chain.MessageID("w2", failSeq, 0)
	var got []string
	for _, e := range chainOf(t, nc, "boss") {
		if h, ok := e.Body.(*chain.Handled); ok && h.Call == chain.CallSend && h.From == "w2" {
			got = append(got, h.MsgID)
		}
	}
	if len(got) != 1 || got[0] != want {
		t.Errorf("the boss handled child events %q from w2, want once %q", got, want)
	}
}

// putModule stores the module file in the object store; its digest.
func putModule(t *testing.T, js jetstream.JetStream, file string) string {
	t.Helper()
	obs, err := js.ObjectStore(context.Background(), transport.Layout{}.ModulesStore())
	if err != nil {
		t.Fatal(err)
	}
	digest, err := wire.PutObject(context.Background(), obs, readFile(t, file))
	if err != nil {
		t.Fatal(err)
	}
	return digest
}

// faultyTOML is testdata/faulty.wat's manifest as a boss spawns it by
// digest (faultyManifest's types and deadline).
const faultyTOML = "[types]\nsend = \"u32\"\nrequest = \"u32\"\nreply = \"u32\"\n[limits]\nhandler_deadline = \"5s\"\n"

// placeChild has the boss spawn a permanent child id from the module
// digest with the manifest fields toml, and spawns it again until it
// runs on node on.
func placeChild(t *testing.T, c *client.Client, boss, id, digest, toml, on string) wire.Entry {
	t.Helper()
	for try := 0; ; try++ {
		if try == 30 {
			t.Fatalf("%s never landed on %s", id, on)
		}
		if r := bossAsk(t, c, boss, "spawn-module", id, digest, toml); !slices.Equal(r, []string{"ok"}) {
			t.Fatalf("spawn %s: %q", id, r)
		}
		var e wire.Entry
		checkFor(t, 30*time.Second, func() error {
			var err error
			if e, err = c.Entry(context.Background(), id); err == nil && e.Status != wire.StatusRunning {
				err = fmt.Errorf("%s is %s", id, e.Status)
			}
			return err
		})
		if e.Node == on {
			return e
		}
		if r := bossAsk(t, c, boss, "stop", id); !slices.Equal(r, []string{"ok"}) {
			t.Fatalf("stop %s: %q", id, r)
		}
	}
}

// TestDelayedSpawnSurvivesKill: a supervisor agent on a real `theater
// serve` asks for a delayed spawn (a backoff), and the process is killed
// with SIGKILL before it fires. The schedule is on the timers stream: it
// fires anyway, and the node that takes the agent over spawns the child,
// once, with its parent.
func TestDelayedSpawnSurvivesKill(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	doomed := startServe(t, srv.ClientURL(), "doomed", "--node-ttl", "3s")
	survivor, err := node.Start(ctx, node.Config{Conn: connect(t, srv), Runtime: supRuntime(t), Name: "survivor",
		Store: transport.StoreConfig{NodeTTL: 3 * time.Second}, Logger: quiet, SpawnTimeout: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = survivor.Close(context.Background()) })
	c := newClient(t, srv)
	spawnBossOf(t, c, "boss", "doomed")
	waitDecisions(t, c, "boss", []string{"spawned worker"})
	if r := bossAsk(t, c, "boss", "spawn", "late", "worker", "temporary", "4000"); !slices.Equal(r, []string{"ok"}) {
		t.Fatalf("delayed spawn: %q", r)
	}
	if err := doomed.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = doomed.Wait()
	if _, err := c.Entry(ctx, "late"); !errors.Is(err, wire.ErrUnknownActor) {
		t.Fatalf("late exists before its delay passed (%v)", err)
	}
	var e wire.Entry
	checkFor(t, 60*time.Second, func() error {
		if e, err = c.Entry(ctx, "late"); err != nil {
			return err
		}
		if e.Status != wire.StatusRunning || e.Parent != "boss" || e.Node != "survivor" {
			return fmt.Errorf("late: %s on %s, parent %q", e.Status, e.Node, e.Parent)
		}
		if b, err := c.Entry(ctx, "boss"); err != nil || b.Node != "survivor" {
			return fmt.Errorf("boss on %q (%v), want survivor", b.Node, err)
		}
		return nil
	})
	nc := connect(t, srv)
	spawns := 0
	for _, ev := range chainOf(t, nc, "late") {
		if _, ok := ev.Body.(*chain.Spawn); ok {
			spawns++
		}
	}
	if spawns != 1 {
		t.Errorf("late's chain has %d spawn events, want 1", spawns)
	}
	if got := bossAsk(t, c, "boss", "children"); !slices.Contains(got, "late:temporary:true:0") {
		t.Errorf("the boss's children %q, want late running", got)
	}
}

// TestNormalExit: an actor supervised on its own by its manifest's
// [supervision] that exits normally (proc_exit(0)) is restarted when it
// is permanent, from its last state; a transient or temporary one ends:
// its chain ends with a lifecycle exited and a stop "exited", its entry
// says stopped, requests get stopped, and the exited event is published.
func TestNormalExit(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	nc := connect(t, srv)
	log := watchEvents(t, nc)
	for _, restart := range []supervisor.Restart{supervisor.Permanent, supervisor.Transient, supervisor.Temporary} {
		id := "exit-" + string(restart)
		spawnModule(t, c, faultyManifest(manifest.Supervision{Restart: restart}), faultyModule, id, "")
		add(t, c, id)
		if _, err := c.Request(ctx, id, cmdExit, wire.Msgpack); !errors.Is(err, wire.ErrFailed) {
			t.Fatalf("%s: the exit answered %v, want failed (no reply)", id, err)
		}
		if restart == supervisor.Permanent {
			log.wait(t, id, []string{"restarted " + id})
			if n := add(t, c, id); n != 2 {
				t.Errorf("%s counts %d after its restart, want 2", id, n)
			}
			continue
		}
		log.wait(t, id, []string{"exited " + id})
		if e, err := c.Entry(ctx, id); err != nil || e.Status != wire.StatusStopped {
			t.Errorf("%s: %s, %v; want stopped", id, e.Status, err)
		}
		if _, err := c.Request(ctx, id, cmdAdd, wire.Msgpack); !errors.Is(err, wire.ErrStopped) {
			t.Errorf("%s answered %v after its exit, want stopped", id, err)
		}
		evs := chainOf(t, nc, id)
		if len(evs) < 2 {
			t.Fatalf("%s: chain of %d events", id, len(evs))
		}
		l, ok := evs[len(evs)-2].Body.(*chain.Lifecycle)
		s, stop := evs[len(evs)-1].Body.(*chain.Stop)
		if !ok || l.What != "exited" || !stop || s.Reason != "exited" {
			t.Errorf("%s: the chain ends with %v, want a lifecycle exited and a stop exited", id, kinds(evs[len(evs)-2:]))
		}
	}
}
