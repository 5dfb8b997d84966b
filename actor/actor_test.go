package actor_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/abi"
)

// step is one message of a counter scenario: a send, or a request with
// its expected reply.
type step struct {
	request bool
	msg     []byte
	reply   []byte // expected; nil for a send or an expected failure
	kind    actor.FailureKind
}

// counterScenario exercises init, sends, requests, a rejected message and
// a multi-byte total; every language must give exactly these answers.
func counterScenario(t testing.TB) []step {
	return []step{
		{request: true, msg: u64(t, 1), reply: u64(t, 1)},
		{request: true, msg: u64(t, 2), reply: u64(t, 3)},
		{msg: u64(t, 10)},
		{request: true, msg: u64(t, 0), reply: u64(t, 13)},
		{msg: u64(t, 1<<40)},
		{request: true, msg: u64(t, 300), reply: u64(t, 1<<40+313)},
		{request: true, msg: []byte{0xa3, 'o', 'n', 'e'}, kind: actor.GuestError}, // a string: the guest says err
		{request: true, msg: u64(t, 7), reply: u64(t, 1<<40+320)},                 // state unchanged by the error
	}
}

// run feeds a scenario to an actor and returns the replies in order.
func run(t testing.TB, a *actor.Actor, steps []step) [][]byte {
	t.Helper()
	ctx := context.Background()
	var replies [][]byte
	for i, s := range steps {
		if !s.request {
			if err := a.Send(ctx, s.msg); err != nil {
				t.Fatalf("step %d: send: %v", i, err)
			}
			continue
		}
		reply, err := a.Request(ctx, s.msg)
		if s.kind != 0 {
			var f actor.Failure
			if !errors.As(err, &f) || f.Kind != s.kind {
				t.Fatalf("step %d: got %x, %v; want a %v failure", i, reply, err, s.kind)
			}
			replies = append(replies, []byte(f.Err.Error()))
			continue
		}
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if !bytes.Equal(reply, s.reply) {
			t.Fatalf("step %d: reply %x, want %x", i, reply, s.reply)
		}
		replies = append(replies, reply)
	}
	return replies
}

func TestCounterAllLanguages(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	var states [][]byte
	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			var fails failures
			a, err := rt.Spawn(ctx, actor.Spec{ID: "counter-" + lang, Manifest: "counter", Module: counter(t, lang),
				Capabilities: []string{"log"}, OnFailure: fails.record})
			if err != nil {
				t.Fatal(err)
			}
			if got := a.State(); !bytes.Equal(got, u64(t, 0)) {
				t.Errorf("initial state %x, want %x", got, u64(t, 0))
			}
			run(t, a, counterScenario(t))
			if k := fails.wait(1); len(k) != 1 || k[0] != actor.GuestError {
				t.Errorf("failures reported: %v", k)
			}
			if !a.Live() {
				t.Error("a guest error discarded the instance")
			}
			states = append(states, a.State())

			// Spawned with an initial state, theater_init starts from it.
			b, err := rt.Spawn(ctx, actor.Spec{ID: "counter-init-" + lang, Module: counter(t, lang),
				Capabilities: []string{"log"}, State: u64(t, 40)})
			if err != nil {
				t.Fatal(err)
			}
			if r, err := b.Request(ctx, u64(t, 2)); err != nil || !bytes.Equal(r, u64(t, 42)) {
				t.Errorf("from initial state: %x, %v", r, err)
			}
			if err := b.Stop(ctx); err != nil {
				t.Errorf("stop: %v", err)
			}
			if _, err := b.Request(ctx, u64(t, 1)); !errors.Is(err, actor.ErrStopped) {
				t.Errorf("after stop: %v", err)
			}
		})
	}
	for i := 1; i < len(states); i++ {
		if !bytes.Equal(states[i], states[0]) {
			t.Errorf("%s state %x, %s state %x", languages[i], states[i], languages[0], states[0])
		}
	}
}

// TestDeterminism feeds the same messages to two instances of the same
// actor on two runtimes (as a replay on another node would) and to a
// third that hibernates after every message; states, replies and log
// output must be byte-identical.
func TestDeterminism(t *testing.T) {
	ctx := context.Background()
	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			type result struct {
				states  [][]byte
				replies [][]byte
				log     string
			}
			runOne := func(hibernate bool) result {
				var logs logBuffer
				rt := newRuntime(t)
				a, err := rt.Spawn(ctx, actor.Spec{ID: "det", Module: counter(t, lang),
					Capabilities: []string{"log"}, Logger: logs.logger()})
				if err != nil {
					t.Fatal(err)
				}
				var res result
				for _, s := range counterScenario(t) {
					res.replies = append(res.replies, run(t, a, []step{s})...)
					if _, err := a.Request(ctx, u64(t, 0)); err != nil { // a barrier after a send
						t.Fatal(err)
					}
					res.states = append(res.states, a.State())
					if hibernate {
						if err := a.Hibernate(ctx); err != nil || a.Live() {
							t.Fatalf("hibernate: %v, live %v", err, a.Live())
						}
					}
				}
				res.log = logs.String()
				return res
			}
			one, two, hib := runOne(false), runOne(false), runOne(true)
			for _, other := range []result{two, hib} {
				for i := range one.states {
					if !bytes.Equal(one.states[i], other.states[i]) {
						t.Errorf("state %d: %x vs %x", i, one.states[i], other.states[i])
					}
				}
				for i := range one.replies {
					if !bytes.Equal(one.replies[i], other.replies[i]) {
						t.Errorf("reply %d: %x vs %x", i, one.replies[i], other.replies[i])
					}
				}
			}
			if one.log != two.log || one.log == "" {
				t.Errorf("log output differs or is empty:\n%s\n--\n%s", one.log, two.log)
			}
		})
	}
}

func TestUngrantedImportRefused(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			_, err := rt.Spawn(ctx, actor.Spec{ID: "greedy-" + lang, Manifest: "counter.toml", Module: counter(t, lang),
				Capabilities: []string{"clock"}})
			if err == nil {
				t.Fatal("spawned without the log capability")
			}
			for _, want := range []string{`"theater:actor/log@0.1.0" "write"`, `"greedy-` + lang + `"`, `"counter.toml"`, `"log"`} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %s", err, want)
				}
			}
			if !errors.Is(err, abi.ErrNotGranted) || !errors.Is(err, actor.ErrRefused) {
				t.Errorf("error %v is not ErrNotGranted and ErrRefused", err)
			}
			if _, ok := rt.Actor("greedy-" + lang); ok {
				t.Error("a refused actor is registered")
			}
		})
	}
}

func TestSpawnErrors(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	wat := counter(t, "wat")
	if _, err := rt.Spawn(ctx, actor.Spec{ID: "a.b", Module: wat}); !errors.Is(err, actor.ErrInvalidID) {
		t.Errorf("id with a dot: %v", err)
	}
	if _, err := rt.Spawn(ctx, actor.Spec{ID: "x", Digest: actor.Digest{1}}); !errors.Is(err, actor.ErrUnknownModule) {
		t.Errorf("unknown digest: %v", err)
	}
	if _, err := rt.Spawn(ctx, actor.Spec{ID: "x", Module: []byte("not wasm")}); !errors.Is(err, actor.ErrRefused) {
		t.Errorf("garbage module: %v", err)
	}
	d, err := rt.Compile(ctx, wat)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Spawn(ctx, actor.Spec{ID: "x", Digest: d, Capabilities: []string{"log"}}); err != nil {
		t.Errorf("by digest: %v", err)
	}
	if _, err := rt.Spawn(ctx, actor.Spec{ID: "x", Digest: d, Capabilities: []string{"log"}}); !errors.Is(err, actor.ErrExists) {
		t.Errorf("same id twice: %v", err)
	}
	// The Go runtime's memory starts above two pages.
	_, err = rt.Spawn(ctx, actor.Spec{ID: "small", Module: counter(t, "go"), Capabilities: []string{"log"},
		Limits: actor.Limits{MemoryPages: 2}})
	if !errors.Is(err, actor.ErrRefused) || !strings.Contains(err.Error(), "pages") {
		t.Errorf("memory below the module's minimum: %v", err)
	}
}

func TestResumeFromState(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	for _, lang := range languages {
		a, err := rt.Spawn(ctx, actor.Spec{ID: "resume-" + lang, Module: counter(t, lang), Capabilities: []string{"log"},
			State: u64(t, 1000), Resume: true})
		if err != nil {
			t.Fatal(err)
		}
		if a.Live() {
			t.Errorf("%s: a resumed actor starts live", lang)
		}
		if r, err := a.Request(ctx, u64(t, 1)); err != nil || !bytes.Equal(r, u64(t, 1001)) {
			t.Errorf("%s: %x, %v", lang, r, err)
		}
	}
}

func TestHibernation(t *testing.T) {
	ctx := context.Background()
	t.Run("idle", func(t *testing.T) {
		rt := newRuntime(t)
		for _, lang := range languages {
			a, err := rt.Spawn(ctx, actor.Spec{ID: "sleepy-" + lang, Module: counter(t, lang), Capabilities: []string{"log"},
				Limits: actor.Limits{IdleTimeout: 20 * time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.Request(ctx, u64(t, 5)); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for a.Live() && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if a.Live() {
				t.Fatalf("%s: still live after the idle time", lang)
			}
			if r, err := a.Request(ctx, u64(t, 1)); err != nil || !bytes.Equal(r, u64(t, 6)) {
				t.Errorf("%s: after hibernation %x, %v", lang, r, err)
			}
		}
	})
	t.Run("lru", func(t *testing.T) {
		rt := newRuntime(t, actor.WithMaxLiveInstances(2))
		var as []*actor.Actor
		for i := range 6 {
			a, err := rt.Spawn(ctx, actor.Spec{ID: "lru-" + string(rune('a'+i)), Module: counter(t, "wat"), Capabilities: []string{"log"}})
			if err != nil {
				t.Fatal(err)
			}
			as = append(as, a)
			if rt.Live() > 2 {
				t.Fatalf("%d live instances, bound 2", rt.Live())
			}
		}
		for round := uint64(1); round <= 3; round++ {
			for _, a := range as {
				if r, err := a.Request(ctx, u64(t, 1)); err != nil || !bytes.Equal(r, u64(t, round)) {
					t.Fatalf("%s round %d: %x, %v", a.ID(), round, r, err)
				}
			}
		}
		if rt.Live() != 2 || !as[5].Live() || !as[4].Live() || as[0].Live() {
			t.Errorf("live %d; the two most recent should be live", rt.Live())
		}
	})
}
