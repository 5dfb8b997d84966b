package replay_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/replay"
)

func counterSpec(id string, module []byte) actor.Spec {
	return actor.Spec{ID: id, Module: module, Capabilities: []string{"log"}, Logger: quiet, State: u(7)}
}

// TestCountersReplay records chains from the counter in every guest
// language, through a hibernation and a guest error, and replays each in
// another runtime: every state hash, reply and failure is equal.
func TestCountersReplay(t *testing.T) {
	ctx := context.Background()
	for _, lang := range []string{"wat", "c", "assemblyscript", "go"} {
		t.Run(lang, func(t *testing.T) {
			module := counter(t, lang)
			l := spawnLive(t, newRuntime(t), counterSpec("counter-"+lang, module), nil, nil, nil)
			var total uint64 = 7
			for i := uint64(1); i <= 30; i++ {
				if i%3 == 0 {
					reply, err := l.request(u(i))
					total += i
					if err != nil || !bytes.Equal(reply, u(total)) {
						t.Fatalf("request %d: %x, %v; want %x", i, reply, err, u(total))
					}
				} else {
					if err := l.send(u(i)); err != nil {
						t.Fatal(err)
					}
					total += i
				}
				if i == 15 {
					if err := l.a.Hibernate(ctx); err != nil {
						t.Fatal(err)
					}
				}
			}
			var f actor.Failure
			if err := l.send(str("ten")); !errors.As(err, &f) || f.Kind != actor.GuestError {
				t.Fatalf("a non-uint: %v, want a guest error", err)
			}
			if err := l.send(u(1)); err != nil {
				t.Fatal(err)
			}
			total++

			rep, err := replay.Replay(ctx, newRuntime(t), counterSpec("", module), l.events())
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK() {
				t.Fatalf("replay diverged: %s", rep.Divergence)
			}
			// spawn, init, 30 handlers, the wake after the hibernation, the
			// guest error and its failure, one more send
			if rep.Events != 36 || rep.Handled != 33 || rep.StatesEqual != 33 {
				t.Errorf("replayed %d events, %d handled, %d equal; want 36, 33, 33", rep.Events, rep.Handled, rep.StatesEqual)
			}
			if !bytes.Equal(rep.State, u(total)) || !bytes.Equal(rep.State, l.a.State()) {
				t.Errorf("replay ended with state %x, live %x, want %x", rep.State, l.a.State(), u(total))
			}
		})
	}
}

// relayLive records the Go relay guest's chain: it reads clock.now and
// random.bytes, time.Now and crypto/rand through WASI, sends (held, not
// delivered) and requests a real peer through a LocalRouter.
func relayLive(t *testing.T) (*live, []byte) {
	t.Helper()
	ctx := context.Background()
	relay := goGuest(t, "actor/testdata/host/relay")
	rt := newRuntime(t)
	peer, err := rt.Spawn(ctx, counterSpec("peer", counter(t, "wat")))
	if err != nil {
		t.Fatal(err)
	}
	var n byte
	clock := fixedClock(time.Date(2031, 5, 6, 7, 8, 9, 10, time.UTC))
	l := spawnLive(t, rt, relaySpec("relay", relay), clock, countingEntropy{&n}, actor.NewLocalRouter(rt))
	for _, tc := range []struct {
		cmd  string
		want []byte // nil: not checked here
	}{
		{"self", str("relay")},
		{"send:peer", str("ok")},
		{"ask:peer", u(9)}, // 7 + 2: the send is held, not delivered
		{"now", nil},
		{"rand", nil},
		{"wasi", nil},
		{"ask:nobody", str("err:unknown-actor")},
		{"send:nobody", str("ok")}, // deferred: the node reports it undeliverable
		{"send:bad.id", str("err:unknown-actor")},
		{"ask:bad.id", str("err:unknown-actor")},
		{"send:peer", str("ok")},
		{"now", nil},
		{"rand", nil},
		{"wasi", nil},
	} {
		reply, err := l.request(str(tc.cmd))
		if err != nil {
			t.Fatalf("%s: %v", tc.cmd, err)
		}
		if tc.want != nil && !bytes.Equal(reply, tc.want) {
			t.Fatalf("%s: reply %x, want %x", tc.cmd, reply, tc.want)
		}
	}
	if st := peer.State(); !bytes.Equal(st, u(9)) {
		t.Errorf("the peer's state is %x: a held send was delivered", st)
	}
	return l, relay
}

func relaySpec(id string, module []byte) actor.Spec {
	return actor.Spec{ID: id, Module: module, Logger: quiet,
		Capabilities: []string{"runtime", "message", "clock", "random"},
		AllowTarget:  func(string) bool { return true }}
}

// TestRelayReplay replays the relay's chain with nothing but the record
// answering its clock, random and request calls, and checks what was
// recorded: clock reads, random bytes, request outcomes in order, sends
// held as out.
func TestRelayReplay(t *testing.T) {
	l, relay := relayLive(t)
	evs := l.events()
	calls := func(seq int) []string {
		var names []string
		for _, in := range evs[seq-1].Body.(*chain.Handled).Inputs {
			names = append(names, in.Call)
		}
		return names
	}
	for seq, want := range map[int][]string{
		3: nil, 4: nil, 5: {"request"}, 6: {"clock"}, 7: {"random"}, 8: nil, 9: {"request"}, 10: nil, 11: nil, 12: {"request"},
	} {
		if got := calls(seq); !equal(got, want) {
			t.Errorf("event %d records inputs %v, want %v", seq, got, want)
		}
	}
	if out := evs[3].Body.(*chain.Handled).Out; len(out) != 1 || out[0].To != "peer" || !bytes.Equal(out[0].Payload, []byte{1}) {
		t.Errorf("send:peer recorded out %v, want one message to peer", out)
	}
	if out := evs[9].Body.(*chain.Handled).Out; len(out) != 1 || out[0].To != "nobody" {
		t.Errorf("send:nobody recorded out %v, want one message to nobody", out)
	}
	if out := evs[10].Body.(*chain.Handled).Out; len(out) != 0 {
		t.Errorf("send:bad.id recorded out %v, want none", out)
	}

	rep, err := replay.Replay(context.Background(), newRuntime(t), relaySpec("relay", relay), evs)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.StatesEqual != 15 {
		t.Fatalf("replay: %s", &rep)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestDivergingGuest: a guest that keeps a count of its calls outside its
// state behaves differently once its instance is recreated live. With
// the wake event the recorder writes there, replay recreates its
// instance at the same point and matches; in a chain without it (as
// written before wakes were recorded), replay, in one instance, is
// caught at exactly that event: at the reply, or at a clock read the
// record does not have.
func TestDivergingGuest(t *testing.T) {
	ctx := context.Background()
	module := wasmFile(t, "testdata/diverge.wasm")
	spec := func() actor.Spec {
		return actor.Spec{ID: "diverge", Module: module, Capabilities: []string{"clock"}, Logger: quiet}
	}
	for _, tc := range []struct {
		name      string
		hibernate int // after this many requests
		requests  int
		want      replay.Divergence
	}{
		// Live: 1, hibernate, 1, 2. Replay: 1, 2: the reply at seq 4.
		{"reply", 1, 3, replay.Divergence{Seq: 4, What: replay.DivergedReply, Call: -1, Want: "01", Got: "02"}},
		// Live: 1, 2, 3, hibernate, 1. Replay: 4, which reads the clock.
		{"host call", 3, 5, replay.Divergence{Seq: 6, What: replay.DivergedCall, Call: 0, Name: "clock",
			Want: "0 host calls", Got: "a call to clock"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := spawnLive(t, newRuntime(t), spec(), nil, nil, nil)
			for i := 1; i <= tc.requests; i++ {
				if _, err := l.request(u(0)); err != nil {
					t.Fatal(err)
				}
				if i == tc.hibernate {
					if err := l.a.Hibernate(ctx); err != nil {
						t.Fatal(err)
					}
				}
			}
			evs := l.events()
			rep, err := replay.Replay(ctx, newRuntime(t), spec(), evs)
			if err != nil || !rep.OK() {
				t.Fatalf("with the wake event: %v, %v", err, rep.Divergence)
			}
			var unwoken []chain.Event
			for _, e := range evs {
				if lc, ok := e.Body.(*chain.Lifecycle); !ok || lc.What != chain.Wake {
					unwoken = append(unwoken, e)
				}
			}
			if len(unwoken) != len(evs)-1 {
				t.Fatalf("%d wake events, want 1", len(evs)-len(unwoken))
			}
			rep, err = replay.Replay(ctx, newRuntime(t), spec(), reseal(t, unwoken))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Divergence == nil || *rep.Divergence != tc.want {
				t.Fatalf("divergence %v, want %v", rep.Divergence, &tc.want)
			}
			if rep.Last != tc.want.Seq {
				t.Errorf("replay went on to seq %d past the divergence at %d", rep.Last, tc.want.Seq)
			}
		})
	}
}

// TestTamperedInput changes one recorded input of the relay's chain and
// links the chain again, so that it verifies; replay catches each change
// at its event and host call.
func TestTamperedInput(t *testing.T) {
	l, relay := relayLive(t)
	for _, tc := range []struct {
		name   string
		seq    int
		change func(h *chain.Handled)
		what   replay.What
		call   int
	}{
		{"clock value", 6, func(h *chain.Handled) { h.Inputs[0].Data = []byte{0x01} }, replay.DivergedReply, -1},
		{"random byte", 7, func(h *chain.Handled) { h.Inputs[0].Data[3] ^= 1 }, replay.DivergedReply, -1},
		{"request reply", 5, func(h *chain.Handled) { h.Inputs[0].Data[len(h.Inputs[0].Data)-1]++ }, replay.DivergedReply, -1},
		{"random removed", 7, func(h *chain.Handled) { h.Inputs = nil }, replay.DivergedCall, 0},
		{"clock renamed", 6, func(h *chain.Handled) { h.Inputs[0].Call = "random" }, replay.DivergedCall, 0},
		{"input added", 3, func(h *chain.Handled) { h.Inputs = []chain.Input{{Call: "clock", Data: []byte{1}}} }, replay.DivergedUnconsumed, 0},
		{"clock malformed", 6, func(h *chain.Handled) { h.Inputs[0].Data = []byte{0xd3, 0, 0, 0, 0, 0, 0, 0, 1} }, replay.DivergedInput, 0},
		{"random failed", 7, func(h *chain.Handled) { h.Inputs[0].Data = []byte{} }, replay.DivergedFailure, -1},
		{"random short", 7, func(h *chain.Handled) { h.Inputs[0].Data = h.Inputs[0].Data[:15] }, replay.DivergedInput, 0},
		{"request target", 5, func(h *chain.Handled) {
			h.Inputs[0].Data = append([]byte{0x82, 0xa2, 't', 'o', 0xa4, 'p', 'e', 'e', 'x'}, h.Inputs[0].Data[9:]...)
		}, replay.DivergedInput, 0},
		{"state hash", 4, func(h *chain.Handled) { h.State[0] ^= 1 }, replay.DivergedState, -1},
		{"out removed", 4, func(h *chain.Handled) { h.Out = nil }, replay.DivergedOut, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs := l.events()
			tc.change(evs[tc.seq-1].Body.(*chain.Handled))
			evs = reseal(t, evs)
			if r := chain.Verify("relay", chain.Head{}, recordsOf(t, evs)); !r.OK() {
				t.Fatalf("the forged chain does not verify: %v", r.Findings)
			}
			rep, err := replay.Replay(context.Background(), newRuntime(t), relaySpec("relay", relay), evs)
			if err != nil {
				t.Fatal(err)
			}
			d := rep.Divergence
			if d == nil || d.Seq != uint64(tc.seq) || d.What != tc.what || d.Call != tc.call {
				t.Fatalf("divergence %v, want %s at seq %d call %d", d, tc.what, tc.seq, tc.call)
			}
		})
	}
}

func recordsOf(t testing.TB, evs []chain.Event) []chain.Record {
	t.Helper()
	var recs []chain.Record
	for i, s := range sealedOf(t, evs) {
		recs = append(recs, chain.Record{StreamSeq: uint64(i + 1), Header: s.Header(), Data: s.Payload})
	}
	return recs
}

// TestFailureReplay: a handler that traps is recorded as its handled
// event and a failure event; replay fails it again with the same kind,
// and a record of another kind, or of no failure, diverges there.
func TestFailureReplay(t *testing.T) {
	ctx := context.Background()
	module := wasmFile(t, "../testdata/guests/trap.wasm")
	spec := func() actor.Spec { return actor.Spec{ID: "trapper", Module: module, Logger: quiet} }
	l := spawnLive(t, newRuntime(t), spec(), nil, nil, nil)
	var f actor.Failure
	if err := l.send(u(1)); !errors.As(err, &f) || f.Kind != actor.Trap {
		t.Fatalf("send: %v, want a trap", err)
	}
	l.append(&chain.Restart{Reason: "test", State: chain.Sum(nil)})
	evs := l.events()
	if evs[3].Kind() != chain.KindFailure {
		t.Fatalf("event 4 is %s", evs[3].Kind())
	}
	rep, err := replay.Replay(ctx, newRuntime(t), spec(), evs)
	if err != nil || !rep.OK() || rep.Events != 5 || rep.Handled != 2 {
		t.Fatalf("replay: %s, %v", &rep, err)
	}

	evs[3].Body.(*chain.Failure).Reason = "memory"
	rep, err = replay.Replay(ctx, newRuntime(t), spec(), reseal(t, evs))
	if d := rep.Divergence; err != nil || d == nil || d.Seq != 3 || d.What != replay.DivergedFailure || d.Want != "memory" {
		t.Fatalf("a failure of another kind: %v, %v", d, err)
	}
	// The wall-clock deadline is not deterministic: a call recorded as
	// past it is not run again, whatever the guest would do now.
	evs[3].Body.(*chain.Failure).Reason = "deadline"
	rep, err = replay.Replay(ctx, newRuntime(t), spec(), reseal(t, evs))
	if err != nil || !rep.OK() || rep.Handled != 2 {
		t.Fatalf("a deadline failure: %s, %v", &rep, err)
	}
	rep, err = replay.Replay(ctx, newRuntime(t), spec(), reseal(t, append(evs[:3:3], evs[4])))
	if d := rep.Divergence; err != nil || d == nil || d.Seq != 3 || d.What != replay.DivergedFailure || d.Want != "success" {
		t.Fatalf("a failure not recorded: %v, %v", d, err)
	}
}

// TestReplayTo stops at the sequence asked for, with the state there.
func TestReplayTo(t *testing.T) {
	module := counter(t, "wat")
	l := spawnLive(t, newRuntime(t), counterSpec("c", module), nil, nil, nil)
	for i := uint64(1); i <= 5; i++ {
		if err := l.send(u(i)); err != nil {
			t.Fatal(err)
		}
	}
	var seen []int
	rep, err := replay.Replay(context.Background(), newRuntime(t), counterSpec("c", module), l.events(),
		replay.WithTo(4), replay.WithProgress(func(done, total int) { seen = append(seen, done, total) }))
	if err != nil || !rep.OK() || rep.Last != 4 || !bytes.Equal(rep.State, u(7+1+2)) {
		t.Fatalf("replay to 4: %s, state %x, %v", &rep, rep.State, err)
	}
	want := []int{1, 4, 2, 4, 3, 4, 4, 4}
	if len(seen) != len(want) {
		t.Fatalf("progress %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("progress %v, want %v", seen, want)
		}
	}
}

// TestReplayRefuses a chain it cannot replay: another module, no spawn
// (a send first; init first is a restore from init's snapshot), another
// actor's events, a gap.
func TestReplayRefuses(t *testing.T) {
	ctx := context.Background()
	module := counter(t, "wat")
	l := spawnLive(t, newRuntime(t), counterSpec("c", module), nil, nil, nil)
	if err := l.send(u(1)); err != nil {
		t.Fatal(err)
	}
	evs := l.events()
	rt := newRuntime(t)
	if _, err := replay.Replay(ctx, rt, counterSpec("c", counter(t, "c")), evs); !errors.Is(err, replay.ErrModule) {
		t.Errorf("another module: %v, want ErrModule", err)
	}
	for name, bad := range map[string][]chain.Event{
		"no spawn":    evs[2:],
		"gap":         {evs[0], evs[2]},
		"empty":       nil,
		"other actor": {evs[0], {Actor: "d", Seq: 2, Body: evs[1].Body}},
	} {
		if _, err := replay.Replay(ctx, rt, counterSpec("", module), bad); !errors.Is(err, replay.ErrChain) {
			t.Errorf("%s: %v, want ErrChain", name, err)
		}
	}
	if _, err := replay.Replay(ctx, rt, counterSpec("other", module), evs); !errors.Is(err, replay.ErrChain) {
		t.Errorf("a spec of another actor: %v, want ErrChain", err)
	}
}

// TestSnapshots: a snapshot in the chain is checked against the state
// replay reached, a chain may start from one, and a snapshot before a
// stop is what theater_on_stop left.
func TestSnapshots(t *testing.T) {
	ctx := context.Background()
	module := counter(t, "wat")
	l := spawnLive(t, newRuntime(t), counterSpec("snap", module), nil, nil, nil)
	for i := uint64(1); i <= 2; i++ {
		if err := l.send(u(i)); err != nil {
			t.Fatal(err)
		}
		l.append(&chain.Snapshot{State: l.a.State()}) // seq 4, then 6
	}
	if err := l.a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	l.append(&chain.Stop{Reason: "stopped"})
	evs := l.events()
	rep, err := replay.Replay(ctx, newRuntime(t), counterSpec("snap", module), evs)
	if err != nil || !rep.OK() || rep.Events != 7 || !bytes.Equal(rep.State, u(10)) {
		t.Fatalf("replay: %s, state %x, %v", &rep, rep.State, err)
	}
	rep, err = replay.Replay(ctx, newRuntime(t), counterSpec("snap", module), evs[3:])
	if err != nil || !rep.OK() || rep.Events != 4 || !bytes.Equal(rep.State, u(10)) {
		t.Fatalf("replay from the snapshot at seq 4: %s, state %x, %v", &rep, rep.State, err)
	}
	evs[3].Body.(*chain.Snapshot).State = u(99)
	rep, err = replay.Replay(ctx, newRuntime(t), counterSpec("snap", module), reseal(t, evs))
	if d := rep.Divergence; err != nil || d == nil || d.Seq != 4 || d.What != replay.DivergedSnapshot {
		t.Fatalf("a snapshot of another state: %v, %v", d, err)
	}
}

// TestReplayToKeepsFailure: stopping at a handler that failed takes its
// failure event too, since the two are one step.
func TestReplayToKeepsFailure(t *testing.T) {
	module := counter(t, "wat")
	l := spawnLive(t, newRuntime(t), counterSpec("c", module), nil, nil, nil)
	if err := l.send(str("x")); err == nil {
		t.Fatal("a non-uint was accepted")
	}
	rep, err := replay.Replay(context.Background(), newRuntime(t), counterSpec("c", module), l.events(), replay.WithTo(3))
	if err != nil || !rep.OK() || rep.Last != 4 {
		t.Fatalf("replay to 3: %s, %v", &rep, err)
	}
}

// TestRespawnModule: a chain whose actor was stopped and spawned again
// with another module. Without WithSpecFor, replay reports the second
// spawn as a module divergence (it used to go on silently with the first
// module); with it, replay runs the events after that spawn with the
// spec it returns, and refuses one of another module.
func TestRespawnModule(t *testing.T) {
	ctx := context.Background()
	wat, c := counter(t, "wat"), counter(t, "c")
	rt := newRuntime(t)
	l := spawnLive(t, rt, counterSpec("c2", wat), nil, nil, nil)
	for i := uint64(1); i <= 2; i++ {
		if err := l.send(u(i)); err != nil {
			t.Fatal(err)
		}
	}
	l.respawn(rt, counterSpec("c2", c)) // seq 5 stop, 6 spawn, 7 init
	if err := l.send(u(2)); err != nil {
		t.Fatal(err)
	}
	evs := l.events()

	rep, err := replay.Replay(ctx, newRuntime(t), counterSpec("", wat), evs)
	if err != nil {
		t.Fatal(err)
	}
	d := rep.Divergence
	if d == nil || d.Seq != 6 || d.What != replay.DivergedModule || rep.StatesEqual != 3 {
		t.Fatalf("replay without WithSpecFor: %s, want a module divergence at event 6", &rep)
	}

	var asked []chain.Hash
	specFor := func(_ context.Context, sp *chain.Spawn) (actor.Spec, error) {
		asked = append(asked, sp.Module)
		return counterSpec("", c), nil
	}
	rep, err = replay.Replay(ctx, newRuntime(t), counterSpec("", wat), evs, replay.WithSpecFor(specFor))
	if err != nil || !rep.OK() || rep.Events != 8 || rep.StatesEqual != 5 || !bytes.Equal(rep.State, u(7+2)) {
		t.Fatalf("replay with WithSpecFor: %s, state %x, %v", &rep, rep.State, err)
	}
	if want := chain.Sum(c); len(asked) != 1 || asked[0] != want {
		t.Errorf("WithSpecFor asked for %v, want once for %s", asked, want)
	}

	wrong := func(context.Context, *chain.Spawn) (actor.Spec, error) { return counterSpec("", wat), nil }
	if _, err := replay.Replay(ctx, newRuntime(t), counterSpec("", wat), evs, replay.WithSpecFor(wrong)); !errors.Is(err, replay.ErrModule) {
		t.Errorf("WithSpecFor giving another module: %v, want ErrModule", err)
	}
}
