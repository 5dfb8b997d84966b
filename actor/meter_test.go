package actor_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/manifest"
)

// spinGuest builds the spinning actor of testdata/spin in one language
// (wat is committed: testdata/guests/loop.wasm), skipping when its
// toolchain is missing.
func spinGuest(t testing.TB, lang string) []byte {
	t.Helper()
	var cmd *exec.Cmd
	out := filepath.Join(t.TempDir(), "spin.wasm")
	switch lang {
	case "wat":
		return hostile(t, "loop")
	case "go":
		return goGuest(t, "actor/testdata/spin/go")
	case "c":
		cmd = exec.Command("clang", "--target=wasm32-wasi", "--sysroot=/usr", "-mexec-model=reactor", "-std=c11",
			"-O2", "-Wall", "-Wextra", "-Werror", "-Wl,--strip-all", "-I", "../../../guest/c",
			"-o", out, "spin.c", "../../../guest/c/theater.c")
		cmd.Dir = "testdata/spin/c"
	case "assemblyscript":
		asc, err := filepath.Abs("guest/assemblyscript/node_modules/.bin/asc")
		if err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command(asc, "spin.ts", "-o", out, "-O3", "--noAssert", "--runtime", "stub", "--use", "abort=")
		cmd.Dir = "testdata/spin/assemblyscript"
	default:
		t.Fatalf("no spin guest in %s", lang)
	}
	if _, err := exec.LookPath(cmd.Path); err != nil {
		t.Skipf("%s toolchain missing (scripts/install-toolchains): %v", lang, err)
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s spin guest: %v\n%s", lang, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// failureOf returns the Failure err is, failing the test when it is not
// one of kind.
func failureOf(t *testing.T, err error, kind actor.FailureKind) actor.Failure {
	t.Helper()
	var f actor.Failure
	if !errors.As(err, &f) || f.Kind != kind {
		t.Fatalf("%v, want a %v failure", err, kind)
	}
	return f
}

// TestSpinInEachLanguage: a handler that loops without calling anything,
// compiled from each guest language, is stopped within twice its
// deadline, with no goroutine watching it, while another actor keeps
// answering; the same guest under a fuel limit stops as out of fuel,
// after the same fuel on two runtimes.
func TestSpinInEachLanguage(t *testing.T) {
	const deadline = 200 * time.Millisecond
	ctx := context.Background()
	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			wasm := spinGuest(t, lang)
			rt := newRuntime(t)
			c, err := rt.Spawn(ctx, actor.Spec{ID: "healthy", Module: counter(t, "wat"), Capabilities: []string{"log"}})
			if err != nil {
				t.Fatal(err)
			}
			a, err := rt.Spawn(ctx, actor.Spec{ID: "spin", Module: wasm, Limits: actor.Limits{HandlerTimeout: deadline},
				FailurePolicy: actor.RecreateOnFailure})
			if err != nil {
				t.Fatal(err)
			}
			stop := make(chan struct{})
			answered := healthy(t, c, stop)
			for _, request := range []bool{true, false} {
				began := time.Now()
				var err error
				if request {
					_, err = a.Request(ctx, []byte{0})
				} else {
					_, err = a.Deliver(ctx, []byte{0})
				}
				took := time.Since(began)
				failureOf(t, err, actor.Deadline)
				if took > 2*deadline {
					t.Errorf("request %v: stopped after %v, deadline %v", request, took, deadline)
				}
				t.Logf("request %v: stopped after %v", request, took)
			}
			close(stop)
			if <-answered == 0 {
				t.Error("the healthy counter did not answer while the guest spun")
			}

			var spent []uint64
			var msgs []string
			for range 2 {
				rt := newRuntime(t)
				a, err := rt.Spawn(ctx, actor.Spec{ID: "spin", Module: wasm, Limits: actor.Limits{Fuel: 3_000_000}})
				if err != nil {
					t.Fatal(err)
				}
				_, err = a.Request(ctx, []byte{0})
				f := failureOf(t, err, actor.OutOfFuel)
				if !errors.Is(err, actor.ErrOutOfFuel) || f.Fuel <= 3_000_000 {
					t.Fatalf("%v with %d fuel, want out of fuel past 3000000", err, f.Fuel)
				}
				spent, msgs = append(spent, f.Fuel), append(msgs, f.Error())
				<-a.Done() // the failure ended it (EndOnFailure)
			}
			if spent[0] != spent[1] || msgs[0] != msgs[1] {
				t.Errorf("two runtimes stopped at %v: %q", spent, msgs)
			}
		})
	}
}

// TestLoopWhileInstantiating: a start function or an _initialize that
// never returns is stopped at the spec's deadline, and the module is
// refused; the runtime goes on serving.
func TestLoopWhileInstantiating(t *testing.T) {
	deadline := 200 * time.Millisecond
	if raceEnabled {
		deadline = 2 * time.Second // instantiating a Go guest alone takes ~0.7 s under the race detector
	}
	ctx := context.Background()
	guests := map[string]func(testing.TB) []byte{
		"wat start":       func(t testing.TB) []byte { return hostile(t, "startloop") },
		"wat _initialize": func(t testing.TB) []byte { return hostile(t, "initloop") },
		"go _initialize":  func(t testing.TB) []byte { return goGuest(t, "actor/testdata/spin/goinit") },
	}
	for name, wasm := range guests {
		t.Run(name, func(t *testing.T) {
			wasm := wasm(t)
			rt := newRuntime(t)
			spec := actor.Spec{ID: "l", Module: wasm, Limits: actor.Limits{HandlerTimeout: deadline}}
			// The first spawn compiles (or reads the compilation cache);
			// the second times the loop, from the cache.
			for i := range 2 {
				began := time.Now()
				_, err := rt.Spawn(ctx, spec)
				took := time.Since(began)
				if !errors.Is(err, actor.ErrRefused) || !errors.Is(err, actor.ErrDeadline) {
					t.Fatalf("spawn: %v, want refused at the deadline", err)
				}
				if i == 1 && took > 2*deadline {
					t.Errorf("refused after %v, deadline %v", took, deadline)
				}
				t.Logf("spawn %d refused after %v", i, took)
			}
			c, err := rt.Spawn(ctx, actor.Spec{ID: "c", Module: counter(t, "wat"), Capabilities: []string{"log"}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Request(ctx, u64(t, 1)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestKillStopsTightLoop: Kill aborts a handler that loops without
// calling anything, long before its deadline.
func TestKillStopsTightLoop(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	a, err := rt.Spawn(ctx, actor.Spec{ID: "spin", Module: hostile(t, "loop"), Limits: actor.Limits{HandlerTimeout: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := a.Request(ctx, []byte{0})
		errc <- err
	}()
	// Poll until the handler runs: the request has left the mailbox and
	// the actor is live.
	for deadline := time.Now().Add(10 * time.Second); actor.QueueLen(a) > 0 || !a.Live(); {
		if time.Now().After(deadline) {
			t.Fatal("the request never started")
		}
		time.Sleep(time.Millisecond)
	}
	began := time.Now()
	kctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := a.Kill(kctx); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, actor.ErrKilled) {
		t.Errorf("request: %v, want killed", err)
	}
	if took := time.Since(began); took > time.Second {
		t.Errorf("kill took %v", took)
	}
	if x, _ := a.Exit(); x.Reason != actor.Killed {
		t.Errorf("exit %v", x)
	}
}

// TestMoreHostileGuests: deep recursion traps, and a flood of host calls
// (log.write in a loop) stops within twice its deadline; both discard the
// instance and leave the state as it was.
func TestMoreHostileGuests(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		guest    string
		deadline time.Duration
		kind     actor.FailureKind
	}{
		// Overflowing wazero's call stack takes ~0.1 s, longer under the
		// race detector: it must trap well before the deadline.
		{"recurse", 10 * time.Second, actor.Trap},
		{"flood", 200 * time.Millisecond, actor.Deadline},
	} {
		t.Run(tc.guest, func(t *testing.T) {
			deadline := tc.deadline
			rt := newRuntime(t)
			h, err := rt.Spawn(ctx, actor.Spec{ID: "h", Module: hostile(t, tc.guest), State: []byte{0x90},
				Capabilities: []string{"log"}, Limits: actor.Limits{HandlerTimeout: deadline},
				FailurePolicy: actor.RecreateOnFailure})
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				began := time.Now()
				_, err := h.Request(ctx, []byte{0})
				failureOf(t, err, tc.kind)
				if took := time.Since(began); took > 2*deadline {
					t.Errorf("failed after %v, deadline %v", took, deadline)
				}
				if h.Live() || !bytes.Equal(h.State(), []byte{0x90}) {
					t.Errorf("live %v, state %x", h.Live(), h.State())
				}
			}
		})
	}
}

// workMsg is work.wasm's message: loop n times.
func workMsg(n uint32) []byte { return binary.LittleEndian.AppendUint32(nil, n) }

// TestFuel: a fuel limit stops a call deterministically at the same
// point whatever the instance's history (live, woken, on another
// runtime), a call within it succeeds, and a limit of its own fails no
// other call.
func TestFuel(t *testing.T) {
	ctx := context.Background()
	// work.wat's loop body is 17 instructions; 100 000 iterations need
	// about 1.7 M units.
	spawn := func(rt *actor.Runtime, id string) *actor.Actor {
		a, err := rt.Spawn(ctx, actor.Spec{ID: id, Module: hostile(t, "work"), Limits: actor.Limits{Fuel: 1_000_000},
			FailurePolicy: actor.RecreateOnFailure})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	rt1, rt2 := newRuntime(t), newRuntime(t)
	a, b := spawn(rt1, "a"), spawn(rt2, "b")
	var outcomes []string
	for i, x := range []*actor.Actor{a, b, a, b} {
		if i == 2 {
			if err := a.Hibernate(ctx); err != nil {
				t.Fatal(err)
			}
		}
		r, err := x.Request(ctx, workMsg(1000))
		if err != nil || len(r) != 8 {
			t.Fatalf("within the limit: %x, %v", r, err)
		}
		_, err = x.Request(ctx, workMsg(100_000))
		f := failureOf(t, err, actor.OutOfFuel)
		outcomes = append(outcomes, fmt.Sprintf("%x %d %s %v", r, f.Fuel, f.Handler, f.Err))
		if !strings.Contains(f.Error(), "limit of 1000000 units") {
			t.Errorf("failure does not name the limit: %v", f)
		}
	}
	for _, o := range outcomes[1:] {
		if o != outcomes[0] {
			t.Errorf("outcomes differ:\n%s", strings.Join(outcomes, "\n"))
			break
		}
	}
	// No limit: the same call completes.
	c, err := rt1.Spawn(ctx, actor.Spec{ID: "c", Module: hostile(t, "work")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Request(ctx, workMsg(100_000)); err != nil {
		t.Fatal(err)
	}
}

// TestFuelFromManifest: [limits] fuel reaches the spec, and a negative
// one is refused with its position.
func TestFuelFromManifest(t *testing.T) {
	src := "name = \"w\"\nmodule = \"w.wasm\"\n[limits]\nfuel = 1000000\n"
	m, err := manifest.Parse("w.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := actor.SpecFromManifest("w", m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Limits.Fuel != 1_000_000 {
		t.Errorf("fuel %d, want 1000000", spec.Limits.Fuel)
	}
	_, err = manifest.Parse("w.toml", []byte(strings.Replace(src, "1000000", "-1", 1)))
	if err == nil || !strings.Contains(err.Error(), "w.toml:4:8: limits.fuel: -1 is negative") {
		t.Errorf("negative fuel: %v", err)
	}
}
