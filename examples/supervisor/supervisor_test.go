package supervisor_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/guest"
	"github.com/theater-go/theater/actor/manifest"
)

// build compiles a Go guest of this example with the standard toolchain.
func build(t *testing.T, pkg string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), pkg+".wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, "./"+pkg)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// spec is what a node makes of a manifest, the supervisor grant included.
func spec(t *testing.T, path string, wasm []byte) actor.Spec {
	t.Helper()
	m, err := manifest.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := actor.SpecFromManifest(m.Name, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Module = wasm
	return s
}

// strs encodes a request of the boss: a msgpack array of strings.
func strs(args ...string) []byte {
	b := guest.AppendArrayHeader(nil, len(args))
	for _, a := range args {
		b = guest.AppendString(b, a)
	}
	return b
}

func decodeStrs(t *testing.T, b []byte) []string {
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

func bossLog(t *testing.T, boss *actor.Actor) []string {
	t.Helper()
	r, err := boss.Request(context.Background(), strs("log"))
	if err != nil {
		t.Fatal(err)
	}
	return decodeStrs(t, r)
}

// waitLog polls the boss's decisions until there are n of them.
func waitLog(t *testing.T, boss *actor.Actor, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		l := bossLog(t, boss)
		if len(l) >= n {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("the boss decided %q, want %d decisions", l, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitWorker polls the boss's children until the worker runs and returns
// it. Asking the boss, whose supervisor started the worker, rather than
// the runtime, orders the test after the worker's Spawn has returned.
func waitWorker(t *testing.T, rt *actor.Runtime, boss, prev *actor.Actor) *actor.Actor {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := boss.Request(context.Background(), strs("children"))
		if err != nil {
			t.Fatal(err)
		}
		if c := decodeStrs(t, r); slices.Equal(c, []string{"worker:temporary:true:0"}) {
			if w, ok := rt.Actor("worker"); ok && w != prev {
				return w
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no new worker")
		}
		time.Sleep(time.Millisecond)
	}
}

func count(t *testing.T, w *actor.Actor) uint64 {
	t.Helper()
	r, err := w.Request(context.Background(), strs())
	if err != nil {
		t.Fatal(err)
	}
	n, _, err := guest.ReadUint(r)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func send(t *testing.T, w *actor.Actor, cmd string) {
	t.Helper()
	if err := w.Send(context.Background(), guest.AppendString(nil, cmd)); err != nil {
		t.Fatal(err)
	}
}

// TestBossRestartsWorker drives the example with real Wasm: the worker
// counts, traps on "crash", and the boss restarts it after 10, 20 and
// 40 ms, from its last state or its initial one, and gives up on the
// fourth failure. Each decision is checked in order, and each restart
// comes no earlier than its delay.
func TestBossRestartsWorker(t *testing.T) {
	bossWasm, workerWasm := build(t, "boss"), build(t, "worker")
	cache := t.TempDir() // compiled modules, shared by the subtests
	for _, from := range []string{"last", "initial"} {
		t.Run(from, func(t *testing.T) {
			ctx := context.Background()
			rt, err := actor.NewRuntime(ctx, actor.WithCacheDir(cache), actor.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
			if err != nil {
				t.Fatal(err)
			}
			defer rt.Close(ctx)
			sv := actor.NewLocalSupervision(rt)
			// Compiled before the boss's init spawns it, so that compiling
			// a 2 MB Go module does not count against the init's deadline.
			ws := spec(t, "worker.toml", nil)
			if ws.Digest, err = rt.Compile(ctx, workerWasm); err != nil {
				t.Fatal(err)
			}
			sv.Register("worker", ws)
			bs := spec(t, "boss.toml", bossWasm)
			bs.Supervision = sv
			// [max_tries, base_ms, from, tries, log]
			bs.State = append(append(guest.AppendString([]byte{0x95, 3, 10}, from), 0), 0x90)
			defer sv.Release(ctx, "boss") // before rt.Close: stops the children
			boss, err := rt.Spawn(ctx, bs)
			if err != nil {
				t.Fatal(err)
			}

			want := []string{"spawned worker"}
			w := waitWorker(t, rt, boss, nil)
			send(t, w, "add")
			send(t, w, "add")
			if n := count(t, w); n != 2 {
				t.Fatalf("worker counted %d, want 2", n)
			}
			for try, delay := range []int{10, 20, 40} {
				crashed := time.Now()
				send(t, w, "crash")
				want = append(want, fmt.Sprintf("restart worker (try %d) in %dms from %s after trap", try+1, delay, from))
				if got := waitLog(t, boss, len(want)); !slices.Equal(got, want) {
					t.Fatalf("decisions %q\nwant %q", got, want)
				}
				prev := w
				w = waitWorker(t, rt, boss, prev)
				if waited := time.Since(crashed); waited < time.Duration(delay)*time.Millisecond {
					t.Errorf("try %d restarted after %v, before its %dms delay", try+1, waited, delay)
				}
				wantCount := uint64(2 + try)
				if from == "initial" {
					wantCount = 0
				}
				if n := count(t, w); n != wantCount {
					t.Errorf("try %d: the restarted worker counts %d, want %d (%s state)", try+1, n, wantCount, from)
				}
				send(t, w, "add")
			}
			send(t, w, "crash")
			want = append(want, "gave up on worker after 3 tries: trap")
			if got := waitLog(t, boss, len(want)); !slices.Equal(got, want) {
				t.Fatalf("decisions %q\nwant %q", got, want)
			}
			children, err := boss.Request(ctx, strs("children"))
			if err != nil {
				t.Fatal(err)
			}
			if c := decodeStrs(t, children); len(c) != 0 {
				t.Errorf("children after giving up %q, want none", c)
			}
			if _, ok := rt.Actor("worker"); ok {
				t.Error("a worker runs after the boss gave up")
			}
			// The last worker's state stays readable through the capability.
			st, err := boss.Request(ctx, strs("state", "worker"))
			if err != nil {
				t.Fatal(err)
			}
			ans := decodeStrs(t, st)
			raw, err := hex.DecodeString(ans[0])
			if err != nil || len(ans) != 1 {
				t.Fatalf("state answer %q: %v", ans, err)
			}
			wantLast := uint64(5)
			if from == "initial" {
				wantLast = 1
			}
			if n, _, err := guest.ReadUint(raw); err != nil || n != wantLast {
				t.Errorf("the last worker ended with %x, want %d", raw, wantLast)
			}
			if s := strings.Join(bossLog(t, boss), "\n"); strings.Count(s, "restart") != 3 {
				t.Errorf("log %s", s)
			}
		})
	}
}
