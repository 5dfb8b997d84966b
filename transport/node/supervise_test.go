package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/actor/replay"
	"github.com/theater-go/theater/supervisor"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// The commands of testdata/faulty.wat, as msgpack fixints.
var (
	cmdAdd   = []byte{0}
	cmdTrap  = []byte{1}
	cmdLoop  = []byte{2}
	cmdBomb  = []byte{3}
	cmdError = []byte{4}
	cmdExit  = []byte{5} // proc_exit(0): a normal exit
)

const faultyModule = "testdata/faulty.wasm"

// faultyManifest is testdata/faulty.wat's manifest: a counter that fails
// on command, supervised as sv says.
func faultyManifest(sv manifest.Supervision) *manifest.Manifest {
	return &manifest.Manifest{Name: "faulty", Module: "faulty.wasm",
		Types:       manifest.Types{Send: "u32", Request: "u32", Reply: "u32"},
		Limits:      manifest.Limits{HandlerDeadline: manifest.Duration(300 * time.Millisecond), MemoryPages: 4, MaxMessageBytes: 4096, Fuel: 5_000_000},
		Supervision: sv}
}

// count decodes faulty's state or reply (ce + 4 bytes big-endian).
func count(b []byte) (int, error) {
	if len(b) != 5 || b[0] != 0xce {
		return 0, fmt.Errorf("not a faulty count: %x", b)
	}
	return int(b[1])<<24 | int(b[2])<<16 | int(b[3])<<8 | int(b[4]), nil
}

// add asks faulty to add one and returns the new count.
func add(t testing.TB, c *client.Client, id string) int {
	t.Helper()
	reply, err := c.Request(context.Background(), id, cmdAdd, wire.Msgpack)
	if err != nil {
		t.Fatalf("request to %s: %v", id, err)
	}
	n, err := count(reply)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func send(t testing.TB, c *client.Client, id string, cmd []byte) {
	t.Helper()
	if err := c.Send(context.Background(), id, cmd, wire.Msgpack); err != nil {
		t.Fatalf("send to %s: %v", id, err)
	}
}

// waitCount polls the actor's state until it is n.
func waitCount(t testing.TB, c *client.Client, id string, n int) {
	t.Helper()
	checkFor(t, 10*time.Second, func() error {
		st, err := c.State(context.Background(), id, wire.Msgpack)
		if err != nil {
			return err
		}
		got, err := count(st)
		if err != nil {
			return err
		}
		if got != n {
			return fmt.Errorf("count %d, want %d", got, n)
		}
		return nil
	})
}

// lifecycles returns the chain's lifecycle events named what, in order.
func lifecycles(evs []chain.Event, what string) []*chain.Lifecycle {
	var out []*chain.Lifecycle
	for _, e := range evs {
		if l, ok := e.Body.(*chain.Lifecycle); ok && l.What == what {
			out = append(out, l)
		}
	}
	return out
}

// seqOf is the chain sequence of the first event for which match holds (0: none).
func seqOf(evs []chain.Event, match func(chain.Body) bool) uint64 {
	for _, e := range evs {
		if match(e.Body) {
			return e.Seq
		}
	}
	return 0
}

// replayChain replays actor id's whole chain with faulty's module and
// fails the test unless it reproduces every state, reply and failure.
func replayChain(t testing.TB, nc *nats.Conn, id string, m *manifest.Manifest) replay.Report {
	t.Helper()
	ctx := context.Background()
	spec, err := actor.SpecFromManifest(id, m.WithDefaults(), nil)
	if err != nil {
		t.Fatal(err)
	}
	spec.Module = readFile(t, faultyModule)
	rep, err := replay.Replay(ctx, newRuntime(t), spec, chainOf(t, nc, id))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("the chain of %s does not replay: %v", id, rep.Divergence)
	}
	return rep
}

// gaveUp waits until the registry says the actor failed.
func gaveUp(t testing.TB, c *client.Client, id string) wire.Entry {
	t.Helper()
	var e wire.Entry
	checkFor(t, 10*time.Second, func() error {
		var err error
		if e, err = c.Entry(context.Background(), id); err != nil {
			return err
		}
		if e.Status != wire.StatusFailed {
			return fmt.Errorf("status %q, want failed", e.Status)
		}
		return nil
	})
	return e
}

// TestRestartFromLastState: a trap ends the instance; the actor's
// supervisor restarts it after its backoff from the last state its chain
// records; the sends that arrived meanwhile wait in the mailbox and are
// handled after the restart, each once; the restart is a lifecycle event
// (attempt, reason, start_from) and a restart event in the chain, which
// replays. Before supervision, the next message recreated the instance at
// once and the chain had no restart.
func TestRestartFromLastState(t *testing.T) {
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	nc := connect(t, srv)
	m := faultyManifest(manifest.Supervision{Restart: supervisor.Permanent, StartFrom: supervisor.StartLast,
		Intensity: 5, Period: manifest.Duration(time.Minute), Backoff: &supervisor.Backoff{Initial: manifest.Duration(300 * time.Millisecond)}})
	spawnModule(t, c, m, faultyModule, "w", "")
	add(t, c, "w")
	add(t, c, "w")
	send(t, c, "w", cmdTrap)
	for range 3 {
		send(t, c, "w", cmdAdd)
	}
	waitCount(t, c, "w", 5)
	if n := add(t, c, "w"); n != 6 {
		t.Fatalf("after the restart the count is %d, want 6", n)
	}
	evs := chainOf(t, nc, "w")
	restarts := lifecycles(evs, "restart")
	if len(restarts) != 1 {
		t.Fatalf("%d restart events, want 1: %v", len(restarts), kinds(evs))
	}
	f := restarts[0].Fields
	if f["attempt"] != "1" || f["reason"] != "trap" || f["start_from"] != "last" || f["delay"] != "300ms" {
		t.Errorf("restart fields %v", f)
	}
	if got := distinctSends(evs); fmt.Sprint(got) != "[1 2 3 4]" {
		t.Errorf("handled sends %v, want 1..4 once each", got)
	}
	restartAt := seqOf(evs, func(b chain.Body) bool { _, ok := b.(*chain.Restart); return ok })
	for _, e := range evs {
		if h, ok := e.Body.(*chain.Handled); ok && h.MailboxSeq > 1 && e.Seq < restartAt {
			t.Errorf("send %d was handled (event %d) before the restart (event %d)", h.MailboxSeq, e.Seq, restartAt)
		}
	}
	replayChain(t, nc, "w", m)
}

// TestRestartFromInitialState: start_from = "initial" runs init again on
// the spawn's state: the count starts over, and the chain replays.
func TestRestartFromInitialState(t *testing.T) {
	srv := testServer(t)
	a := startNode(t, srv, "a")
	c := newClient(t, srv)
	nc := connect(t, srv)
	m := faultyManifest(manifest.Supervision{StartFrom: supervisor.StartInitial, Intensity: 5, Period: manifest.Duration(time.Minute)})
	spawnModule(t, c, m, faultyModule, "w", "")
	add(t, c, "w")
	add(t, c, "w")
	if _, err := c.Request(context.Background(), "w", cmdTrap, wire.Msgpack); !errors.Is(err, wire.ErrFailed) {
		t.Fatalf("the trap answered %v, want failed", err)
	}
	if n := add(t, c, "w"); n != 1 {
		t.Fatalf("after a restart from the initial state the count is %d, want 1", n)
	}
	evs := chainOf(t, nc, "w")
	if r := lifecycles(evs, "restart"); len(r) != 1 || r[0].Fields["start_from"] != "initial" {
		t.Fatalf("restart events %+v", r)
	}
	replayChain(t, nc, "w", m)
	// Another node takes the actor from its chain, restart included.
	startNode(t, srv, "b")
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 10*time.Second, func() error {
		e, err := c.Entry(context.Background(), "w")
		if err != nil || e.Node != "b" {
			return fmt.Errorf("on %q, %v", e.Node, err)
		}
		return nil
	})
	if n := add(t, c, "w"); n != 2 {
		t.Fatalf("on the node that took it over the count is %d, want 2", n)
	}
}

// TestGuestErrorIsAnAnswer: a guest error does not end the instance, so
// nothing restarts and the state is kept.
func TestGuestErrorIsAnAnswer(t *testing.T) {
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	nc := connect(t, srv)
	spawnModule(t, c, faultyManifest(manifest.Supervision{Restart: supervisor.Temporary}), faultyModule, "w", "")
	add(t, c, "w")
	if _, err := c.Request(context.Background(), "w", cmdError, wire.Msgpack); !errors.Is(err, wire.ErrFailed) {
		t.Fatalf("the guest error answered %v, want failed", err)
	}
	if n := add(t, c, "w"); n != 2 {
		t.Fatalf("count %d, want 2", n)
	}
	if r := lifecycles(chainOf(t, nc, "w"), "restart"); len(r) != 0 {
		t.Fatalf("a guest error restarted the actor: %+v", r)
	}
}

// TestGiveUpIsFinal: a temporary actor that traps, and a permanent one
// past its intensity, end: status failed, requests and sends answer
// gave_up, the sends left in the mailbox stay there, the chain ends with
// the give-up; neither a node restart nor a node that finds the registry
// saying running (the give-up's registry write lost) brings it back.
func TestGiveUpIsFinal(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	a := startNode(t, srv, "a")
	c := newClient(t, srv)
	nc := connect(t, srv)
	temp := faultyManifest(manifest.Supervision{Restart: supervisor.Temporary})
	spawnModule(t, c, temp, faultyModule, "temp", "")
	perm := faultyManifest(manifest.Supervision{Intensity: 2, Period: manifest.Duration(time.Minute)})
	spawnModule(t, c, perm, faultyModule, "perm", "")

	add(t, c, "temp")
	// The loop holds the instance until it runs out of fuel: the sends
	// behind it are stored while it runs and are never handled. They go
	// straight into the mailbox, back to back: the client's own check of
	// the registry could find the give-up already (a loop of 5M fuel is
	// a few milliseconds).
	js := natsJS(t, nc)
	for _, cmd := range [][]byte{cmdLoop, cmdAdd, cmdAdd} {
		if err := wire.PublishSend(ctx, js, &nats.Msg{Subject: transport.Layout{}.SendSubject("temp"), Data: cmd}, ""); err != nil {
			t.Fatal(err)
		}
	}
	e := gaveUp(t, c, "temp")
	if n, err := count(e.State); err != nil || n != 1 {
		t.Errorf("failed entry's state %x (%v), want the count 1", e.State, err)
	}
	for range 3 {
		if _, err := c.Request(ctx, "perm", cmdTrap, wire.Msgpack); err == nil {
			t.Fatal("a trap succeeded")
		}
	}
	gaveUp(t, c, "perm")

	for _, id := range []string{"temp", "perm"} {
		_, err := c.Request(ctx, id, cmdAdd, wire.Msgpack)
		if !errors.Is(err, wire.ErrGaveUp) {
			t.Errorf("request to %s: %v, want gave_up", id, err)
		}
		if err := c.Send(ctx, id, cmdAdd, wire.Msgpack); !errors.Is(err, wire.ErrGaveUp) {
			t.Errorf("send to %s: %v, want gave_up", id, err)
		}
		evs := chainOf(t, nc, id)
		last := evs[len(evs)-1].Body
		if st, ok := last.(*chain.Stop); !ok || st.Reason != "failed" {
			t.Errorf("the chain of %s ends with %+v, want a failed stop", id, last)
		}
		if g := lifecycles(evs, "gave_up"); len(g) != 1 {
			t.Errorf("%s: gave_up events %+v", id, g)
		}
	}
	if g := lifecycles(chainOf(t, nc, "perm"), "gave_up"); g[0].Fields["restarts"] != "2" {
		t.Errorf("perm gave up after %s restarts, want 2", g[0].Fields["restarts"])
	}
	if r := lifecycles(chainOf(t, nc, "temp"), "restart"); len(r) != 0 {
		t.Errorf("the temporary actor was restarted: %+v", r)
	}
	if got := distinctSends(chainOf(t, nc, "temp")); len(got) != 1 {
		t.Errorf("temp handled sends %v, want only the loop", got)
	}
	s, err := natsJS(t, nc).Stream(ctx, "theater_mailbox")
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter("theater.actor.temp.send"))
	if err != nil {
		t.Fatal(err)
	}
	if n := info.State.Subjects["theater.actor.temp.send"]; n != 3 {
		t.Errorf("temp's mailbox holds %d sends, want 3 (left intact)", n)
	}
	ls, err := c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		if l.Status != wire.StatusFailed {
			t.Errorf("ls: %s is %s, want failed", l.ID, l.Status)
		}
	}

	// The registry write of a give-up lost (the node died before it):
	// the chain alone must keep the actor down, on another node too.
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	e.Status = wire.StatusRunning
	putEntry(t, nc, "temp", e)
	startNode(t, srv, "b") // takes every running actor nobody holds
	gaveUp(t, c, "temp")
	if _, err := c.Request(ctx, "perm", cmdAdd, wire.Msgpack); !errors.Is(err, wire.ErrGaveUp) {
		t.Errorf("after a node restart: %v, want gave_up", err)
	}
	if infos, err := c.Nodes(ctx); err != nil || len(infos) != 1 || infos[0].Actors != 0 {
		t.Errorf("nodes after restart: %+v, %v; want one node hosting nothing", infos, err)
	}

	// A spawn of a failed id starts it anew, after its old mailbox.
	spawnModule(t, c, temp, faultyModule, "temp", "")
	if n := add(t, c, "temp"); n != 1 {
		t.Errorf("re-spawned count %d, want 1", n)
	}
}

// putEntry overwrites actor id's registry entry.
func putEntry(t testing.TB, nc *nats.Conn, id string, e wire.Entry) {
	t.Helper()
	ctx := context.Background()
	kv, err := natsJS(t, nc).KeyValue(ctx, "theater_actors")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(e)
	if _, err := kv.Put(ctx, id, b); err != nil {
		t.Fatal(err)
	}
}

// distinctSends are the mailbox sequences the chain records as handled,
// a failed send's handled and failure events counted once.
func distinctSends(evs []chain.Event) []uint64 {
	var out []uint64
	for _, s := range handledSends(evs) {
		if len(out) > 0 && out[len(out)-1] == s {
			continue
		}
		out = append(out, s)
	}
	return out
}

// TestKillDuringBackoff: a real `theater serve` process hosts an actor
// that trapped and waits out a long backoff, with sends stored behind the
// trap; the process is killed with SIGKILL. The node that takes the actor
// over resumes it from its chain (the last state before the trap) and
// handles the waiting sends, each once; the restart on the new node is
// the takeover itself, and the actor's supervisor there starts afresh.
func TestKillDuringBackoff(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	child := startServe(t, srv.ClientURL(), "doomed", "--node-ttl", "1s")
	survivor, err := node.Start(ctx, node.Config{Conn: connect(t, srv), Runtime: newRuntime(t), Name: "survivor",
		Store: transport.StoreConfig{NodeTTL: time.Second}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = survivor.Close(context.Background()) })
	c := newClient(t, srv)
	nc := connect(t, srv)
	m := faultyManifest(manifest.Supervision{Intensity: 5, Period: manifest.Duration(time.Minute),
		Backoff: &supervisor.Backoff{Initial: manifest.Duration(time.Hour)}})
	spawnModule(t, c, m, faultyModule, "w", "doomed")
	add(t, c, "w")
	send(t, c, "w", cmdTrap)
	checkFor(t, 10*time.Second, func() error {
		if countKind(chainOf(t, nc, "w"), chain.KindFailure) != 1 {
			return errors.New("the trap is not in the chain yet")
		}
		return nil
	})
	send(t, c, "w", cmdAdd)
	send(t, c, "w", cmdAdd)
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	checkFor(t, 20*time.Second, func() error {
		e, err := c.Entry(ctx, "w")
		if err != nil || e.Node != "survivor" {
			return fmt.Errorf("entry on %s, %v", e.Node, err)
		}
		return nil
	})
	waitCount(t, c, "w", 3)
	evs := chainOf(t, nc, "w")
	if got := distinctSends(evs); fmt.Sprint(got) != "[1 2 3]" {
		t.Errorf("handled sends %v, want 1..3 once each", got)
	}
	if r := lifecycles(evs, "restart"); len(r) != 0 {
		t.Errorf("restart events %+v: the doomed node's backoff should not have run out", r)
	}
	replayChain(t, nc, "w", m)
}

// TestStopDuringBackoff: an actor stopped while its restart waits out a
// backoff stops at once, with the state it had before the failure; the
// send stored behind the failure stays unhandled, as after any stop.
func TestStopDuringBackoff(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	nc := connect(t, srv)
	m := faultyManifest(manifest.Supervision{Intensity: 5, Period: manifest.Duration(time.Minute),
		Backoff: &supervisor.Backoff{Initial: manifest.Duration(time.Hour)}})
	spawnModule(t, c, m, faultyModule, "w", "")
	add(t, c, "w")
	if _, err := c.Request(ctx, "w", cmdTrap, wire.Msgpack); err == nil {
		t.Fatal("the trap succeeded")
	}
	send(t, c, "w", cmdAdd)
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := c.Stop(sctx, "w"); err != nil {
		t.Fatalf("stop during the backoff: %v", err)
	}
	e, err := c.Entry(ctx, "w")
	if err != nil || e.Status != wire.StatusStopped {
		t.Fatalf("entry %+v, %v", e, err)
	}
	if n, err := count(e.State); err != nil || n != 1 {
		t.Errorf("stopped with state %x, want the count 1", e.State)
	}
	evs := chainOf(t, nc, "w")
	if st, ok := evs[len(evs)-1].Body.(*chain.Stop); !ok || st.Reason != "stopped" {
		t.Errorf("the chain ends with %+v", evs[len(evs)-1].Body)
	}
	if got := distinctSends(evs); len(got) != 0 {
		t.Errorf("handled sends %v, want none", got)
	}
}
