package node_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/node"
)

// timerHandled counts, by mailbox id, the timer sends actor id's chain
// records as handled.
func timerHandled(t *testing.T, evs []chain.Event) map[string]int {
	t.Helper()
	ids := map[string]int{}
	for _, ev := range evs {
		if h, ok := ev.Body.(*chain.Handled); ok && strings.HasPrefix(h.MsgID, "timer:") {
			ids[h.MsgID]++
		}
	}
	return ids
}

// TestHostile10TimerResetStorm: with a one-second mailbox duplicate
// window, many one-shots of 0 ms set at once, each set again at once
// with another payload, and a few cancelled right after: every set that
// is handled is handled once, and a timer set again before it was due
// delivers its last payload.
func TestHostile10TimerResetStorm(t *testing.T) {
	srv := testServer(t)
	startNodeCfg(t, srv, node.Config{Name: "a", SpawnTimeout: goSpawnTimeout, Store: transport.StoreConfig{DuplicateWindow: time.Second}})
	c := newClient(t, srv)
	spawnTimer(t, c, "storm", "a")
	const n = 30
	for i := range n {
		for _, p := range []string{"first", "last"} {
			delay := uint32(300)
			if p == "last" {
				delay = uint32(i % 3 * 100) // 0, 100 or 200 ms
			}
			if r, err := timerAsk(t, c, "storm", timerMsg("set", fmt.Sprint("t", i), delay, 0, fmt.Sprint(p, i))); err != nil || r != "ok" {
				t.Fatalf("set: %q, %v", r, err)
			}
		}
	}
	checkFor(t, 10*time.Second, func() error {
		if got := timerCount(t, c, "storm"); !strings.HasPrefix(got, fmt.Sprint(n, " ")) {
			return fmt.Errorf("count %q, want %d", got, n)
		}
		return nil
	})
	time.Sleep(2 * time.Second) // past the server's firings and the duplicate window: more deliveries are what is tested
	if got := timerCount(t, c, "storm"); !strings.HasPrefix(got, fmt.Sprint(n, " ")) {
		t.Fatalf("count %q, want %d", got, n)
	}
	evs := chainOf(t, connect(t, srv), "storm")
	for mid, k := range timerHandled(t, evs) {
		if k != 1 {
			t.Errorf("%s handled %d times", mid, k)
		}
	}
	for _, ev := range evs {
		if h, ok := ev.Body.(*chain.Handled); ok && strings.HasPrefix(h.MsgID, "timer:") && strings.Contains(string(h.Payload), "first") {
			t.Errorf("a replaced payload was handled: %s", h.MsgID)
		}
	}
}
