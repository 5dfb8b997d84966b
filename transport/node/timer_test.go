package node_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/guest"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/actor/replay"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

var timerWasm = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "timer")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "timer.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, "./examples/timer-agent/guest")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, errors.New(string(msg))
	}
	return os.ReadFile(out)
})

const timerManifest = `name = "timer"
module = "timer.wasm"
[types]
request = "tuple<string, string, u32, u32, string>"
reply = "string"
send = "string"
state = "tuple<u64, string>"
[capabilities.timer]
`

func spawnTimer(t testing.TB, c *client.Client, id, on string) {
	t.Helper()
	mod, err := timerWasm()
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Parse("timer.toml", []byte(timerManifest))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), goSpawnTimeout)
	defer cancel()
	if _, err := c.Spawn(ctx, m, mod, nil, client.SpawnOptions{ID: id, Node: on}); err != nil {
		t.Fatal(err)
	}
}

func timerMsg(op, id string, delay, interval uint32, payload string) []byte {
	b := guest.AppendArrayHeader(nil, 5)
	b = guest.AppendString(guest.AppendString(b, op), id)
	b = guest.AppendUint(guest.AppendUint(b, uint64(delay)), uint64(interval))
	return guest.AppendString(b, payload)
}

func timerAsk(t testing.TB, c *client.Client, id string, msg []byte) (string, error) {
	t.Helper()
	r, err := c.Request(context.Background(), id, msg, wire.Msgpack)
	if err != nil {
		return "", err
	}
	s, _, _ := guest.ReadString(r)
	return s, nil
}

func timerCount(t *testing.T, c *client.Client, id string) string {
	t.Helper()
	s, err := timerAsk(t, c, id, timerMsg("count", "", 0, 0, ""))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// cancelQuiet cancels actor id's timer and checks that it fires no more
// (one fire may be on its way while the cancel lands); it returns the
// actor's count after.
func cancelQuiet(t *testing.T, c *client.Client, id, timer string) string {
	t.Helper()
	if got, err := timerAsk(t, c, id, timerMsg("cancel", timer, 0, 0, "")); err != nil || got != "ok" {
		t.Fatalf("cancel: %q %v", got, err)
	}
	time.Sleep(1200 * time.Millisecond) // the absence of fires is what is tested
	after := timerCount(t, c, id)
	time.Sleep(2500 * time.Millisecond)
	if got := timerCount(t, c, id); got != after {
		t.Fatalf("fired after cancel: %q, then %q", after, got)
	}
	return after
}

// TestTimers: a one-shot timer fires once into the actor's own mailbox,
// an interval timer fires until it is cancelled, a timer set again is
// replaced, and bad arguments are refused; the lateness of one-shot
// timers is measured (docs/BENCHMARKS.md).
func TestTimers(t *testing.T) {
	srv := testServer(t)
	startGoNode(t, srv, "a")
	c := newClient(t, srv)
	spawnTimer(t, c, "tim", "a")
	for msg, want := range map[string]string{
		string(timerMsg("set", "a.b", 0, 0, "x")):    `theater: timer: invalid: timer id "a.b"`,
		string(timerMsg("set", "fast", 0, 500, "x")): "theater: timer: invalid: interval 500ms is under 1s",
	} {
		if got, err := timerAsk(t, c, "tim", []byte(msg)); err != nil || !strings.HasPrefix(got, want) {
			t.Errorf("%q: %q %v", want, got, err)
		}
	}
	// One-shot, and its lateness.
	var late []time.Duration
	for k := range 8 {
		set := time.Now()
		if got, err := timerAsk(t, c, "tim", timerMsg("set", "once", 200, 0, fmt.Sprint("p", k))); err != nil || got != "ok" {
			t.Fatalf("set: %q %v", got, err)
		}
		want := fmt.Sprintf("%d p%d", k+1, k)
		checkFor(t, 10*time.Second, func() error {
			if got := timerCount(t, c, "tim"); got != want {
				return fmt.Errorf("count %q, want %q", got, want)
			}
			return nil
		})
		late = append(late, time.Since(set)-200*time.Millisecond)
	}
	slices.Sort(late)
	t.Logf("one-shot 200ms timer lateness over %d (set reply to fired message handled, polled): median %v, max %v; all %v", len(late), late[len(late)/2], late[len(late)-1], late)
	// Replaced before it fires: only the second payload arrives.
	timerAsk(t, c, "tim", timerMsg("set", "r", 1500, 0, "first"))
	timerAsk(t, c, "tim", timerMsg("set", "r", 200, 0, "second"))
	checkFor(t, 10*time.Second, func() error {
		if got := timerCount(t, c, "tim"); got != "9 second" {
			return fmt.Errorf("count %q", got)
		}
		return nil
	})
	// Interval, then cancel.
	if got, _ := timerAsk(t, c, "tim", timerMsg("set", "tick", 0, 1000, "tick")); got != "ok" {
		t.Fatalf("set interval: %q", got)
	}
	checkFor(t, 10*time.Second, func() error {
		if got := timerCount(t, c, "tim"); got < "11 tick" || !strings.HasSuffix(got, " tick") {
			return fmt.Errorf("count %q", got)
		}
		return nil
	})
	after := cancelQuiet(t, c, "tim", "tick")
	// "first" never arrived.
	if strings.Contains(after, "first") {
		t.Fatalf("replaced timer fired: %q", after)
	}
}

// TestTimerSurvivesMove: a timer set on one node fires once after that
// node has stopped and another has taken the actor over.
func TestTimerSurvivesMove(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	a, err := node.Start(ctx, node.Config{Conn: connect(t, srv), Runtime: newRuntime(t), Name: "a", Logger: quiet, SpawnTimeout: goSpawnTimeout})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, srv)
	spawnTimer(t, c, "mover", "a")
	if got, err := timerAsk(t, c, "mover", timerMsg("set", "later", 3000, 0, "woke")); err != nil || got != "ok" {
		t.Fatalf("set: %q %v", got, err)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	startNode(t, srv, "b")
	checkFor(t, 30*time.Second, func() error {
		r, err := c.Request(ctx, "mover", timerMsg("count", "", 0, 0, ""), wire.Msgpack)
		if err != nil {
			return err
		}
		if s, _, _ := guest.ReadString(r); s != "1 woke" {
			return fmt.Errorf("count %q", s)
		}
		return nil
	})
	time.Sleep(time.Second) // a second delivery is what is tested against
	if got := timerCount(t, c, "mover"); got != "1 woke" {
		t.Fatalf("after the move: %q", got)
	}
}

// TestTimerAfterKill: timers set on a `theater serve` process fire once
// after it is killed with SIGKILL and a node of the same name restarts,
// and an interval timer keeps firing there.
func TestTimerAfterKill(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	child := startServe(t, srv.ClientURL(), "victim")
	c := newClient(t, srv)
	spawnTimer(t, c, "sleeper", "victim")
	if got, err := timerAsk(t, c, "sleeper", timerMsg("set", "later", 2500, 0, "woke")); err != nil || got != "ok" {
		t.Fatalf("set: %q %v", got, err)
	}
	if got, err := timerAsk(t, c, "sleeper", timerMsg("set", "beat", 0, 1000, "beat")); err != nil || got != "ok" {
		t.Fatalf("set: %q %v", got, err)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	time.Sleep(3 * time.Second) // both timers fire while no node hosts the actor
	victim := startGoNode(t, srv, "victim")
	var first string
	checkFor(t, 30*time.Second, func() error {
		r, err := c.Request(ctx, "sleeper", timerMsg("count", "", 0, 0, ""), wire.Msgpack)
		if err != nil {
			return err
		}
		first, _, _ = guest.ReadString(r)
		if n, _ := strconv.Atoi(strings.Fields(first + " 0")[0]); n < 3 { // "woke" and two beats
			return fmt.Errorf("count %q", first)
		}
		return nil
	})
	evs := chainOf(t, connect(t, srv), "sleeper")
	woke := 0
	for _, e := range evs {
		if h, ok := e.Body.(*chain.Handled); ok && h.Call == chain.CallSend && string(h.Payload) == string(guest.AppendString(nil, "woke")) {
			woke++
			if h.From != "sleeper" {
				t.Fatalf("a timer message from %q", h.From)
			}
		}
	}
	if woke != 1 {
		t.Fatalf("the one-shot timer was handled %d times", woke)
	}
	checkFor(t, 10*time.Second, func() error {
		if got := timerCount(t, c, "sleeper"); got == first {
			return fmt.Errorf("the interval timer does not fire after the restart (%q)", got)
		}
		return nil
	})
	// The chain replays with the server gone: the timer ops are inputs.
	if _, err := timerAsk(t, c, "sleeper", timerMsg("cancel", "beat", 0, 0, "")); err != nil {
		t.Fatal(err)
	}
	evs = chainOf(t, connect(t, srv), "sleeper")
	m, _ := manifest.Parse("timer.toml", []byte(timerManifest))
	spec, err := actor.SpecFromManifest("sleeper", m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Module, err = timerWasm(); err != nil {
		t.Fatal(err)
	}
	if err := victim.Close(ctx); err != nil { // before the server goes: its Close would wait on it
		t.Fatal(err)
	}
	srv.Shutdown(ctx)
	rep, err := replay.Replay(ctx, newRuntime(t), spec, evs)
	if err != nil || !rep.OK() {
		t.Fatalf("replay: %v %v", &rep, err)
	}
}
