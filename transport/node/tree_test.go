package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/supervisor"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// failureKind is one way faulty.wat fails on command.
type failureKind struct {
	name string
	cmd  []byte
	fuel int // the manifest's fuel limit (0: none)
	// ends says whether it ends the instance (a guest error is an
	// answer); normal whether that is a normal exit (proc_exit(0)).
	ends, normal bool
}

var failureKinds = []failureKind{
	{"trap", cmdTrap, 0, true, false},
	{"deadline", cmdLoop, 0, true, false},
	{"memory", cmdBomb, 0, true, false},
	{"fuel", cmdLoop, 5_000_000, true, false},
	{"guest_error", cmdError, 0, false, false},
	{"normal_exit", cmdExit, 0, true, true},
}

// treeActorTOML is an inline faulty actor of a tree file.
func treeActorTOML(id string, restart supervisor.Restart, fuel int) string {
	return treeActorAt("children", id, restart, fuel)
}

// treeActorAt is an inline faulty actor in the array of tables at.
func treeActorAt(at, id string, restart supervisor.Restart, fuel int) string {
	module, _ := filepath.Abs(faultyModule)
	return fmt.Sprintf(`
[[%[1]s]]
id = %[2]q
restart = %[3]q
[%[1]s.actor]
module = %[4]q
[%[1]s.actor.types]
send = "u32"
request = "u32"
reply = "u32"
[%[1]s.actor.limits]
handler_deadline = "300ms"
memory_pages = 4
max_message_bytes = 4096
fuel = %[5]d
`, at, id, restart, module, fuel)
}

// writeTree writes a tree file and returns its path.
func writeTree(t testing.TB, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tree.toml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// eventLog records the node events of supervision (restarted,
// supervisor_stopped, gave_up, exited) as "kind actor", in the order published.
type eventLog struct {
	mu   sync.Mutex
	list []string
}

func watchEvents(t testing.TB, nc *nats.Conn) *eventLog {
	t.Helper()
	l := &eventLog{}
	sub, err := nc.Subscribe("theater.events.>", func(m *nats.Msg) {
		var ev wire.Event
		if json.Unmarshal(m.Data, &ev) != nil {
			return
		}
		switch ev.Kind {
		case wire.EventRestarted, wire.EventSupervisorStopped, wire.EventGaveUp, wire.EventExited:
			l.mu.Lock()
			l.list = append(l.list, ev.Kind+" "+ev.Actor)
			l.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return l
}

// of returns the events of the actors whose id starts with prefix.
func (l *eventLog) of(prefix string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, e := range l.list {
		if _, id, _ := strings.Cut(e, " "); strings.HasPrefix(id, prefix) {
			out = append(out, e)
		}
	}
	return out
}

// waitEvents polls until the events of prefix are want.
func (l *eventLog) wait(t testing.TB, prefix string, want []string) {
	t.Helper()
	checkFor(t, 15*time.Second, func() error {
		if got := l.of(prefix); !slices.Equal(got, want) {
			return fmt.Errorf("events %q, want %q", got, want)
		}
		return nil
	})
}

// TestStrategyTable runs a tree of three faulty actors, a, b and c, for
// every strategy × b's restart type × failure kind, makes b fail once,
// and checks exactly which actors restart and in which order (OTP:
// one_for_one restarts b; one_for_all stops the others in reverse order
// and starts all in order; rest_for_one stops and restarts those after
// b), that a temporary b is never restarted and its sibling untouched,
// and that a guest error (an answer, not a crash) restarts nothing. A
// normal exit (proc_exit(0)) restarts a permanent b like a failure, a
// transient one not at all (it stays down, siblings untouched), and ends
// a temporary one (stopped, not given up). Each
// actor then answers, the restarted ones from their last state.
func TestStrategyTable(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	log := watchEvents(t, connect(t, srv))
	strategies := []supervisor.Strategy{supervisor.OneForOne, supervisor.OneForAll, supervisor.RestForOne}
	restarts := []supervisor.Restart{supervisor.Permanent, supervisor.Transient, supervisor.Temporary}
	i := 0
	for _, strategy := range strategies {
		for _, restart := range restarts {
			for _, kind := range failureKinds {
				i++
				name := fmt.Sprintf("t%d", i)
				t.Run(fmt.Sprintf("%s/%s/%s", strategy, restart, kind.name), func(t *testing.T) {
					a, b, cc := name+"-a", name+"-b", name+"-c"
					body := fmt.Sprintf("name = %q\nstrategy = %q\nintensity = 5\nperiod = \"1m\"\n", name, strategy) +
						treeActorTOML(a, supervisor.Permanent, 0) + treeActorTOML(b, restart, kind.fuel) + treeActorTOML(cc, supervisor.Permanent, 0)
					infos, err := c.SpawnTree(ctx, writeTree(t, body), client.SpawnOptions{})
					if err != nil {
						t.Fatal(err)
					}
					if len(infos) != 3 || infos[0].ID != a || infos[2].ID != cc {
						t.Fatalf("spawned %+v", infos)
					}
					for _, id := range []string{a, b, cc} {
						add(t, c, id)
					}
					if _, err := c.Request(ctx, b, kind.cmd, wire.Msgpack); !errors.Is(err, wire.ErrFailed) {
						t.Fatalf("b's %s answered %v, want failed", kind.name, err)
					}
					var want []string
					switch {
					case !kind.ends:
					case kind.normal && restart == supervisor.Transient:
						// Kept down: a normal exit restarts only a
						// permanent child (until a sibling's restart).
					case kind.normal && restart == supervisor.Temporary:
						want = []string{"exited " + b}
					case restart == supervisor.Temporary:
						want = []string{"gave_up " + b}
					case strategy == supervisor.OneForOne:
						want = []string{"restarted " + b}
					case strategy == supervisor.OneForAll:
						want = []string{"supervisor_stopped " + cc, "supervisor_stopped " + a, "restarted " + a, "restarted " + b, "restarted " + cc}
					case strategy == supervisor.RestForOne:
						want = []string{"supervisor_stopped " + cc, "restarted " + b, "restarted " + cc}
					}
					log.wait(t, name+"-", want)
					for _, id := range []string{a, b, cc} {
						switch {
						case id == b && kind.normal && restart == supervisor.Transient:
							rctx, cancel := context.WithTimeout(ctx, time.Second)
							_, err := c.Request(rctx, id, cmdAdd, wire.Msgpack)
							cancel()
							if !errors.Is(err, wire.ErrUnavailable) && !errors.Is(err, context.DeadlineExceeded) {
								t.Errorf("transient b after its normal exit answered %v, want no answer (down)", err)
							}
							continue
						case id == b && kind.normal && restart == supervisor.Temporary:
							if _, err := c.Request(ctx, id, cmdAdd, wire.Msgpack); !errors.Is(err, wire.ErrStopped) {
								t.Errorf("temporary b after its normal exit answered %v, want stopped", err)
							}
							continue
						}
						if id == b && kind.ends && restart == supervisor.Temporary {
							if _, err := c.Request(ctx, id, cmdAdd, wire.Msgpack); !errors.Is(err, wire.ErrGaveUp) {
								t.Errorf("temporary b answered %v, want gave_up", err)
							}
							continue
						}
						if n := add(t, c, id); n != 2 {
							t.Errorf("%s counts %d, want 2 (restarted from its last state)", id, n)
						}
					}
					log.wait(t, name+"-", want)
				})
			}
		}
	}
}

// TestEscalation: a nested supervisor past its intensity stops its
// children in reverse order and fails upward; its parent restarts it
// (its children start afresh, in order) and leaves the sibling alone.
// When the top supervisor is past its intensity too, it stops all its
// children in reverse order and every actor of the tree is given up.
func TestEscalation(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	log := watchEvents(t, connect(t, srv))
	body := "name = \"esc\"\nstrategy = \"one_for_one\"\nintensity = 1\nperiod = \"1m\"\n" +
		treeActorTOML("esc-z", supervisor.Permanent, 0) + `
[[children]]
id = "inner"
[children.supervisor]
strategy = "one_for_all"
intensity = 0
period = "1m"
` + treeActorAt("children.supervisor.children", "esc-x", supervisor.Permanent, 0) +
		treeActorAt("children.supervisor.children", "esc-y", supervisor.Permanent, 0)
	infos, err := c.SpawnTree(ctx, writeTree(t, body), client.SpawnOptions{})
	if err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	if len(infos) != 3 {
		t.Fatalf("spawned %+v", infos)
	}
	for _, id := range []string{"esc-z", "esc-x", "esc-y"} {
		add(t, c, id)
	}
	// y traps: inner may not restart anything, so it stops x and fails;
	// the top restarts inner, which starts x and y again.
	if _, err := c.Request(ctx, "esc-y", cmdTrap, wire.Msgpack); err == nil {
		t.Fatal("the trap succeeded")
	}
	first := []string{"supervisor_stopped esc-x", "restarted esc-x", "restarted esc-y"}
	log.wait(t, "esc-", first)
	for _, id := range []string{"esc-x", "esc-y", "esc-z"} {
		if n := add(t, c, id); n != 2 {
			t.Errorf("%s counts %d, want 2", id, n)
		}
	}
	trees, err := c.Tree(ctx, "tree/esc")
	if err != nil || len(trees) != 1 {
		t.Fatalf("tree: %+v, %v", trees, err)
	}
	inner := trees[0].Children[1]
	if inner.ID != "inner" || inner.Restarts != 1 || len(inner.Children) != 2 || inner.Children[1].Restarts != 1 {
		t.Errorf("inner in the tree: %+v", inner)
	}
	// Again: inner fails upward, and the top may not restart it twice in
	// its period: it stops z and fails, and the whole tree is given up.
	if _, err := c.Request(ctx, "esc-x", cmdTrap, wire.Msgpack); err == nil {
		t.Fatal("the trap succeeded")
	}
	checkFor(t, 15*time.Second, func() error {
		got := log.of("esc-")[len(first):]
		if len(got) < 5 {
			return fmt.Errorf("events %q", got)
		}
		return nil
	})
	got := log.of("esc-")[len(first):]
	if want := []string{"supervisor_stopped esc-y", "supervisor_stopped esc-z"}; !slices.Equal(got[:2], want) {
		t.Errorf("the escalations stopped %q, want %q (reverse order)", got[:2], want)
	}
	gave := slices.Clone(got[2:])
	slices.Sort(gave)
	if want := []string{"gave_up esc-x", "gave_up esc-y", "gave_up esc-z"}; !slices.Equal(gave, want) {
		t.Errorf("after the top's escalation %q, want %q", gave, want)
	}
	for _, id := range []string{"esc-x", "esc-y", "esc-z"} {
		gaveUp(t, c, id)
	}
}

// TestTreeSurvivesKill: a tree runs on a real `theater serve` process,
// which is killed with SIGKILL; the node that takes its actors over
// rebuilds the tree from the declaration their entries name, with the
// same children, and its strategy holds there: a trap of one actor
// restarts both (one_for_all), from their last states.
func TestTreeSurvivesKill(t *testing.T) {
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
	log := watchEvents(t, connect(t, srv))
	body := "name = \"kt\"\nstrategy = \"one_for_all\"\nintensity = 5\nperiod = \"1m\"\n" +
		treeActorTOML("kt-a", supervisor.Permanent, 0) + treeActorTOML("kt-b", supervisor.Permanent, 0)
	if _, err := c.SpawnTree(ctx, writeTree(t, body), client.SpawnOptions{Node: "doomed"}); err != nil {
		t.Fatal(err)
	}
	add(t, c, "kt-a")
	add(t, c, "kt-b")
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	checkFor(t, 20*time.Second, func() error {
		trees, err := c.Tree(ctx, "tree/kt")
		if err != nil {
			return err
		}
		if len(trees) != 1 || trees[0].Node != "survivor" || len(trees[0].Children) != 2 ||
			trees[0].Children[0].ID != "kt-a" || trees[0].Children[1].ID != "kt-b" || trees[0].Children[1].Status != "running" {
			return fmt.Errorf("tree %+v", trees)
		}
		return nil
	})
	if _, err := c.Request(ctx, "kt-b", cmdTrap, wire.Msgpack); err == nil {
		t.Fatal("the trap succeeded")
	}
	log.wait(t, "kt-", []string{"supervisor_stopped kt-a", "restarted kt-a", "restarted kt-b"})
	if n := add(t, c, "kt-a"); n != 2 {
		t.Errorf("kt-a counts %d, want 2", n)
	}
	if n := add(t, c, "kt-b"); n != 2 {
		t.Errorf("kt-b counts %d, want 2", n)
	}
}

// TestSpawnTreeRollsBack: a tree whose second actor cannot start (its id
// runs already) leaves nothing running: the first actor is stopped again,
// the tree is not listed, the error says exists, and the actor that had
// the id is untouched.
func TestSpawnTreeRollsBack(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	spawnModule(t, c, faultyManifest(manifest.Supervision{}), faultyModule, "rb-b", "")
	body := "name = \"rb\"\n" + treeActorTOML("rb-a", supervisor.Permanent, 0) + treeActorTOML("rb-b", supervisor.Permanent, 0)
	if _, err := c.SpawnTree(ctx, writeTree(t, body), client.SpawnOptions{}); !errors.Is(err, wire.ErrExists) {
		t.Fatalf("spawn of the tree: %v, want exists", err)
	}
	if e, err := c.Entry(ctx, "rb-a"); err != nil || e.Status != wire.StatusStopped {
		t.Errorf("rb-a: %+v, %v; want stopped", e, err)
	}
	if _, err := c.Tree(ctx, "tree/rb"); !errors.Is(err, wire.ErrUnknownActor) {
		t.Errorf("tree/rb is listed: %v", err)
	}
	if n := add(t, c, "rb-b"); n != 1 {
		t.Errorf("rb-b counts %d, want 1", n)
	}
}
