package actor_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

func str(t testing.TB, s string) []byte {
	t.Helper()
	b, err := codec.Marshal(wit.String, s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type patternEntropy struct{}

func (patternEntropy) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i)
	}
	return len(p), nil
}

// TestCapabilities drives every capability from a Go guest
// (testdata/host/relay) against real actors routed by a LocalRouter.
func TestCapabilities(t *testing.T) {
	ctx := context.Background()
	relay := goGuest(t, "actor/testdata/host/relay")
	now := time.Date(2031, 5, 6, 7, 8, 9, 10, time.UTC)
	spawn := func(rt *actor.Runtime) *actor.Actor {
		t.Helper()
		a, err := rt.Spawn(ctx, actor.Spec{ID: "relay", Module: relay,
			Capabilities: []string{"runtime", "message", "clock", "random"},
			Router:       actor.NewLocalRouter(rt),
			AllowTarget:  func(id string) bool { return id == "peer" || id == "nobody" },
			Clock:        fixedClock(now), Entropy: patternEntropy{}})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	rt := newRuntime(t)
	peer, err := rt.Spawn(ctx, actor.Spec{ID: "peer", Module: counter(t, "wat"), Capabilities: []string{"log"}})
	if err != nil {
		t.Fatal(err)
	}
	a := spawn(rt)
	ask := func(a *actor.Actor, cmd string) []byte {
		t.Helper()
		r, err := a.Request(ctx, str(t, cmd))
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		return r
	}
	for _, tc := range []struct {
		cmd  string
		want []byte
	}{
		{"self", str(t, "relay")},
		{"send:peer", str(t, "ok")},
		{"ask:peer", u64(t, 3)}, // the send's 1, then 2
		{"send:secret", str(t, "err:denied")},
		{"ask:nobody", str(t, "err:unknown-actor")},
		{"now", u64(t, uint64(now.UnixNano()))},
		{"rand", []byte{0xc4, 16, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}},
	} {
		if got := ask(a, tc.cmd); !bytes.Equal(got, tc.want) {
			t.Errorf("%s: %x, want %x", tc.cmd, got, tc.want)
		}
	}
	if r, err := peer.Request(ctx, u64(t, 0)); err != nil || !bytes.Equal(r, u64(t, 3)) {
		t.Errorf("peer state: %x, %v", r, err)
	}
	// The Go runtime's own clock and randomness come from WASI: the same
	// on another runtime (another node), and from the virtual epoch.
	w1 := ask(a, "wasi")
	w2 := ask(spawn(newRuntime(t)), "wasi")
	if !bytes.Equal(w1, w2) {
		t.Errorf("WASI time and randomness differ: %x vs %x", w1, w2)
	}
	v, err := codec.Unmarshal(&wit.TypeDef{Kind: &wit.Tuple{Types: []wit.Type{wit.S64, &wit.TypeDef{Kind: &wit.List{Elem: wit.U8}}}}}, w1)
	if err != nil {
		t.Fatal(err)
	}
	ns, _ := v.([]any)[0].(int64)
	if epoch := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC); ns < epoch.UnixNano() || ns > epoch.Add(time.Hour).UnixNano() {
		t.Errorf("WASI time %v is not virtual", time.Unix(0, ns).UTC())
	}
}
