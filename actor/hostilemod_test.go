package actor_test

import (
	"bytes"
	"context"
	"errors"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/internal/wasm"
)

// rewrite decodes a committed guest, lets edit change it, and encodes it:
// a valid actor but for what edit adds.
func rewrite(t testing.TB, guest string, edit func(m *wasm.Module)) []byte {
	t.Helper()
	m, err := wasm.Decode(hostile(t, guest), wasm.Bounds{})
	if err != nil {
		t.Fatal(err)
	}
	edit(m)
	return m.Encode()
}

// rssGrowth returns how much the resident set grew since before, after
// two collections that return freed memory to the system: a pooled linear
// memory that no instance takes is dropped at the second.
func rssGrowth(before uint64) int64 {
	debug.FreeOSMemory()
	debug.FreeOSMemory()
	return int64(rssBytes()) - int64(before)
}

// checkRSS fails the test when the resident set grew by more than bound
// MiB since before. The race detector's shadow memory is never given
// back, so under it the growth is only logged.
func checkRSS(t *testing.T, what string, before uint64, bound int64) {
	t.Helper()
	g := rssGrowth(before)
	switch {
	case raceEnabled:
		t.Logf("%s: resident memory grew by %d MiB (not checked under the race detector)", what, g/mib)
	case g > bound*mib:
		t.Errorf("%s: resident memory grew by %d MiB, bound %d", what, g/mib, bound)
	}
}

func baseRSS() uint64 {
	debug.FreeOSMemory()
	return rssBytes()
}

const mib = 1 << 20

// TestHostileModules: modules that would cost the node gigabytes or
// minutes are refused by the module bounds before wazero compiles or
// instantiates them, in milliseconds, while the node's resident memory
// stays within the stated bound and another actor keeps answering.
func TestHostileModules(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name   string
		module func(t testing.TB) []byte
		says   string
	}{
		{"65536 memory pages", func(t testing.TB) []byte {
			return rewrite(t, "loop", func(m *wasm.Module) { m.Memories = []wasm.Limits{{Min: 65536}} })
		}, "memory starts at 65536 pages, limit is 1024"},
		{"64 MiB data segment", func(t testing.TB) []byte {
			return rewrite(t, "loop", func(m *wasm.Module) {
				m.Memories = []wasm.Limits{{Min: 1024}}
				m.Data = append(m.Data, wasm.Data{Offset: []byte{wasm.OpI32Const, 0, wasm.OpEnd}, Init: make([]byte, 64*mib)})
			})
		}, "module is 67109"},
		{"24 MiB data segment", func(t testing.TB) []byte {
			return rewrite(t, "loop", func(m *wasm.Module) {
				m.Memories = []wasm.Limits{{Min: 1024}}
				m.Data = append(m.Data, wasm.Data{Offset: []byte{wasm.OpI32Const, 0, wasm.OpEnd}, Init: make([]byte, 24*mib)})
			})
		}, "data"},
		{"100k nested blocks", func(t testing.TB) []byte {
			return rewrite(t, "loop", func(m *wasm.Module) {
				body := append(bytes.Repeat([]byte{wasm.OpBlock, 0x40}, 100_000), bytes.Repeat([]byte{wasm.OpEnd}, 100_001)...)
				m.Types = append(m.Types, wasm.FuncType{})
				m.Funcs = append(m.Funcs, uint32(len(m.Types)-1))
				m.Codes = append(m.Codes, wasm.Code{Locals: []byte{0}, Body: body})
			})
		}, "nest"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rt := newRuntime(t)
			c, err := rt.Spawn(ctx, actor.Spec{ID: "healthy", Module: counter(t, "wat"), Capabilities: []string{"log"}})
			if err != nil {
				t.Fatal(err)
			}
			module := tc.module(t)
			before := baseRSS()
			began := time.Now()
			_, err = rt.Spawn(ctx, actor.Spec{ID: "hostile", Module: module})
			took := time.Since(began)
			if !errors.Is(err, actor.ErrRefused) || !errors.Is(err, wasm.ErrBound) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("spawn: %v, want refused by a bound (%q)", err, tc.says)
			}
			if took > time.Second { // about a millisecond; wazero takes ~100 s on the nested blocks
				t.Errorf("refused after %v", took)
			}
			checkRSS(t, "refused", before, 32)
			if _, err := c.Request(ctx, u64(t, 1)); err != nil {
				t.Fatal(err)
			}
			t.Logf("refused in %v: %v", took, err)
		})
	}
}

// TestRefusalBlocksNoSpawn: while hostile modules are refused in a loop,
// other spawns and requests go on, each within a bound far below what
// compiling one of them would take.
func TestRefusalBlocksNoSpawn(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	nested := rewrite(t, "loop", func(m *wasm.Module) {
		body := append(bytes.Repeat([]byte{wasm.OpBlock, 0x40}, 100_000), bytes.Repeat([]byte{wasm.OpEnd}, 100_001)...)
		m.Types = append(m.Types, wasm.FuncType{})
		m.Funcs = append(m.Funcs, uint32(len(m.Types)-1))
		m.Codes = append(m.Codes, wasm.Code{Locals: []byte{0}, Body: body})
	})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := rt.Spawn(ctx, actor.Spec{ID: "hostile", Module: nested}); !errors.Is(err, wasm.ErrBound) {
				t.Errorf("hostile spawn: %v", err)
				return
			}
		}
	})
	var took []time.Duration
	for i := range 50 {
		began := time.Now()
		a, err := rt.Spawn(ctx, actor.Spec{ID: "c", Module: counter(t, "wat"), Capabilities: []string{"log"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Request(ctx, u64(t, uint64(i))); err != nil {
			t.Fatal(err)
		}
		if err := a.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		took = append(took, time.Since(began))
	}
	close(stop)
	wg.Wait()
	slices.Sort(took)
	if p99 := took[len(took)*99/100]; p99 > 500*time.Millisecond {
		t.Errorf("spawn+request+stop p99 %v beside the refusals", p99)
	}
	t.Logf("spawn+request+stop beside the refusals: p50 %v, max %v", took[len(took)/2], took[len(took)-1])
}

// TestLargestMemoryLimit: a spec asking for 65536 pages (4 GiB, where
// wazero's memory size wraps to 0) gets 65535; the guests work, and
// resident memory grows by what they use, not by the limit.
func TestLargestMemoryLimit(t *testing.T) {
	ctx := context.Background()
	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			rt := newRuntime(t)
			wasm := counter(t, lang)
			if _, err := rt.Compile(ctx, wasm); err != nil {
				t.Fatal(err)
			}
			before := baseRSS()
			a, err := rt.Spawn(ctx, actor.Spec{ID: "big", Module: wasm, Capabilities: []string{"log"},
				Limits: actor.Limits{MemoryPages: 65536}})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				if r, err := a.Request(ctx, u64(t, 1)); err != nil || !bytes.Equal(r, u64(t, uint64(i+1))) {
					t.Fatalf("request: %x, %v", r, err)
				}
			}
			checkRSS(t, "three requests", before, 64)
			if err := a.Stop(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestMemoryGivenBack: an actor that filled 256 MiB of memory gives it
// back when its instance is discarded and when it stops; fifteen stack
// overflows leave no memory behind either.
func TestMemoryGivenBack(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	before := baseRSS()
	a, err := rt.Spawn(ctx, actor.Spec{ID: "bomb", Module: hostile(t, "membomb"), State: []byte{0x90},
		Limits: actor.Limits{MemoryPages: 4096, HandlerTimeout: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Request(ctx, []byte{0})
	failureOf(t, err, actor.MemoryLimit)
	<-a.Done()
	checkRSS(t, "after a 256 MiB actor ended", before, 64)

	before = baseRSS()
	r, err := rt.Spawn(ctx, actor.Spec{ID: "rec", Module: hostile(t, "recurse"), State: []byte{0x90},
		FailurePolicy: actor.RecreateOnFailure})
	if err != nil {
		t.Fatal(err)
	}
	for range 15 {
		_, err := r.Request(ctx, []byte{0})
		failureOf(t, err, actor.Trap)
	}
	checkRSS(t, "after 15 stack overflows", before, 64)
}
