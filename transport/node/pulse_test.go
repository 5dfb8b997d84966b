package node_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/actor/replay"
	"github.com/theater-go/theater/transport/client"
)

// TestPulseSDKs: the pulse example's C and AssemblyScript actors
// (examples/pulse, built by scripts/build-guests) use the timer and
// channel wrappers of their SDKs through a real node: bad timer ids and
// intervals and an ungranted topic are refused with the host's errors, a
// one-shot timer fires once, an interval timer fires until cancelled, a
// publication reaches both subscribers once; the timer-and-channel actor
// replays from its chain with the server stopped.
func TestPulseSDKs(t *testing.T) {
	for _, lang := range []string{"c", "assemblyscript"} {
		t.Run(lang, func(t *testing.T) { checkPulse(t, lang) })
	}
}

func checkPulse(t *testing.T, lang string) {
	ctx := context.Background()
	dir := filepath.Join("..", "..", "examples", "pulse")
	mod, err := os.ReadFile(filepath.Join(dir, lang, "pulse.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Load(filepath.Join(dir, "pulse.toml"))
	if err != nil {
		t.Fatal(err)
	}
	srv := testServer(t)
	n := startNode(t, srv, "a")
	c := newClient(t, srv)
	for _, id := range []string{"one", "two"} {
		if _, err := c.Spawn(ctx, m, mod, nil, client.SpawnOptions{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	ask := func(msg []byte) string {
		t.Helper()
		got, err := timerAsk(t, c, "one", msg)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	waitCount := func(id, want string) {
		t.Helper()
		checkFor(t, 10*time.Second, func() error {
			if got := timerCount(t, c, id); got != want {
				return fmt.Errorf("%s: count %q, want %q", id, got, want)
			}
			return nil
		})
	}
	for msg, want := range map[string]string{
		string(timerMsg("set", "a.b", 0, 0, "x")):         `theater: timer: invalid: timer id "a.b"`,
		string(timerMsg("set", "fast", 0, 500, "x")):      "theater: timer: invalid: interval 500ms is under 1s",
		string(timerMsg("publish", "weather", 0, 0, "x")): "theater: channel: denied: weather",
	} {
		if got := ask([]byte(msg)); !strings.HasPrefix(got, want) {
			t.Errorf("%q: got %q", want, got)
		}
	}
	if got := ask(timerMsg("set", "once", 100, 0, "x")); got != "ok" {
		t.Fatalf("set: %q", got)
	}
	waitCount("one", "1 x")
	if got := ask(timerMsg("publish", "pulse.a", 0, 0, "hello")); got != "ok" {
		t.Fatalf("publish: %q", got)
	}
	waitCount("one", "2 hello")
	waitCount("two", "1 hello")
	if got := ask(timerMsg("set", "tick", 0, 1000, "tick")); got != "ok" {
		t.Fatalf("set interval: %q", got)
	}
	waitCount("one", "4 tick")
	after := cancelQuiet(t, c, "one", "tick")
	fired, _ := strconv.Atoi(strings.Fields(after)[0])
	waitCount("two", "1 hello") // the ticks were one's own

	evs := chainOf(t, connect(t, srv), "one")
	if err := n.Close(ctx); err != nil {
		t.Fatal(err)
	}
	srv.Shutdown(ctx)
	spec, err := actor.SpecFromManifest("one", m, nil)
	if err != nil {
		t.Fatal(err)
	}
	spec.Module = mod
	rep, err := replay.Replay(ctx, newRuntime(t), spec, evs)
	if err != nil || !rep.OK() || rep.StatesEqual < fired {
		t.Fatalf("replay: %v %v", &rep, err)
	}
	t.Logf("%s: %d received; %s", lang, fired, rep.String())
}
