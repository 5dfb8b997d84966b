package actor_test

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
)

// TestPreinitEveryLanguage: the counter of every guest language gets an
// image, and a sequence of requests, a hibernation and a resume give the
// same replies, states and fuel as the same module run without images.
func TestPreinitEveryLanguage(t *testing.T) {
	ctx := context.Background()
	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			wasm := counter(t, lang)
			type step struct {
				reply, state []byte
				fuel         uint64
			}
			run := func(pre bool) []step {
				rt := newRuntime(t, actor.WithPreinit(pre), actor.WithLogger(discard()))
				a, err := rt.Spawn(ctx, actor.Spec{ID: "c", Module: wasm, Capabilities: []string{"log"}})
				if err != nil {
					t.Fatal(err)
				}
				want := map[bool]uint64{true: 1, false: 0}[pre]
				if got := rt.CompileStats(); got.Preinitialised != want || got.NotPreinitialised != 0 {
					t.Fatalf("preinit %v: stats %+v, want %d images", pre, got, want)
				}
				var out []step
				for i := range 6 {
					if i == 3 {
						if err := a.Hibernate(ctx); err != nil {
							t.Fatal(err)
						}
					}
					r, err := a.Request(ctx, u64(t, uint64(i+1)))
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, step{r, a.State(), a.LastFuel()})
				}
				return out
			}
			with, without := run(true), run(false)
			for i := range with {
				if string(with[i].reply) != string(without[i].reply) || string(with[i].state) != string(without[i].state) {
					t.Fatalf("request %d: image gives %x / %x, no image %x / %x", i, with[i].reply, with[i].state, without[i].reply, without[i].state)
				}
				if with[i].fuel == 0 || with[i].fuel != without[i].fuel {
					t.Fatalf("request %d: fuel %d with the image, %d without", i, with[i].fuel, without[i].fuel)
				}
			}
		})
	}
}

// TestPreinitImageState: an image holds what the start function and
// _initialize left in memory (a grown page included), in a global nobody
// exports and in the clocks, so that an instance of the image answers
// exactly as one that ran them, and a clock read after the image goes on
// from the reads made before it. Only WASI random_get differs: during the
// image's initialisation it is seeded from the module, so two actors of
// one module see the same bytes there (ABI.md, "WASI").
func TestPreinitImageState(t *testing.T) {
	ctx := context.Background()
	wasm := hostile(t, "preinit")
	replies := func(pre bool) [][]byte {
		rt := newRuntime(t, actor.WithPreinit(pre), actor.WithLogger(discard()))
		var out [][]byte
		for _, id := range []string{"a", "b"} {
			a, err := rt.Spawn(ctx, actor.Spec{ID: id, Module: wasm})
			if err != nil {
				t.Fatal(err)
			}
			r, err := a.Request(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Hibernate(ctx); err != nil {
				t.Fatal(err)
			}
			again, err := a.Request(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if string(again) != string(r) {
				t.Fatalf("%s after waking: %x, before %x", id, again, r)
			}
			out = append(out, r)
		}
		if got := rt.CompileStats().Preinitialised; got != map[bool]uint64{true: 1, false: 0}[pre] {
			t.Fatalf("preinit %v: %d images", pre, got)
		}
		return out
	}
	with, without := replies(true), replies(false)
	le := binary.LittleEndian
	for i, r := range with {
		if len(r) != 48 {
			t.Fatalf("reply of %d bytes", len(r))
		}
		ms := uint64(time.Millisecond)
		if init, seen, started, pages, now, page2 := le.Uint64(r), le.Uint64(r[16:]), le.Uint32(r[24:]), le.Uint32(r[28:]), le.Uint64(r[32:]), le.Uint64(r[40:]); init != ms || seen != ms+1 || started != 7 || pages != 2 || now != 2*ms || page2 != 0x1122334455667788 {
			t.Fatalf("image: clock at init %d, global %d, start's global %d, %d pages, clock now %d, page 2 holds %#x", init, seen, started, pages, now, page2)
		}
		w := without[i]
		if string(r[:8]) != string(w[:8]) || string(r[16:]) != string(w[16:]) {
			t.Fatalf("image answers %x, no image %x", r, w)
		}
	}
	if string(with[0][8:16]) != string(with[1][8:16]) {
		t.Fatalf("image: random bytes of initialisation differ between actors: %x, %x", with[0][8:16], with[1][8:16])
	}
	if string(without[0][8:16]) == string(without[1][8:16]) {
		t.Fatalf("no image: random bytes of initialisation are the same for two actors: %x", without[0][8:16])
	}
}

// TestPreinitRefused: a module whose initialisation calls a host
// function, writes to stdout or changes a table gets no image, is
// counted, and runs its initialisation in every instance: the log line
// comes once per instance, and the table entry is there.
func TestPreinitRefused(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"preinitlog", "preinitout", "preinittable"} {
		t.Run(name, func(t *testing.T) {
			var logs logBuffer
			rt := newRuntime(t, actor.WithLogger(logs.logger()))
			a, err := rt.Spawn(ctx, actor.Spec{ID: "a", Module: hostile(t, name), Capabilities: []string{"log"}})
			if err != nil {
				t.Fatal(err)
			}
			if got := rt.CompileStats(); got.NotPreinitialised != 1 || got.Preinitialised != 0 {
				t.Fatalf("stats %+v, want 1 module without an image", got)
			}
			for range 2 {
				r, err := a.Request(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				if name == "preinittable" && (len(r) != 4 || binary.LittleEndian.Uint32(r) != 7) {
					t.Fatalf("reply %x, want 7", r)
				}
				if err := a.Hibernate(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if name != "preinittable" {
				// The spawn's instance and the woken one; the image's run logs nothing.
				if n := strings.Count(logs.String(), "msg=init "); n != 2 {
					t.Fatalf("%d init lines, want 2:\n%s", n, logs.String())
				}
			}
			if !strings.Contains(logs.String(), "module not pre-initialised") {
				t.Fatalf("no log of the refusal:\n%s", logs.String())
			}
		})
	}
}
