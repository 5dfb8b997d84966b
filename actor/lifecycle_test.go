package actor_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
)

// reports records what OnFailure and OnExit are told, in order.
type reports struct {
	mu    sync.Mutex
	fails []actor.Failure
	exits []actor.Exit
	order []string // "failure" and "exit", as told
}

func (r *reports) failure(f actor.Failure) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fails = append(r.fails, f)
	r.order = append(r.order, "failure")
}

func (r *reports) exit(x actor.Exit) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exits = append(r.exits, x)
	r.order = append(r.order, "exit")
}

func (r *reports) snapshot() ([]actor.Failure, []actor.Exit, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]actor.Failure(nil), r.fails...), append([]actor.Exit(nil), r.exits...), append([]string(nil), r.order...)
}

// waitExit polls until OnExit has been told, and fails the test after ten
// seconds.
func (r *reports) waitExit(t *testing.T) actor.Exit {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, exits, _ := r.snapshot(); len(exits) > 0 {
			return exits[0]
		}
		if time.Now().After(deadline) {
			t.Fatal("OnExit was never told")
		}
		time.Sleep(time.Millisecond)
	}
}

// waitDone fails the test if the actor has not fully ended within ten
// seconds.
func waitDone(t *testing.T, a *actor.Actor) actor.Exit {
	t.Helper()
	select {
	case <-a.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("%s never ended", a.ID())
	}
	x, ok := a.Exit()
	if !ok {
		t.Fatal("Done is closed but Exit says the actor has not ended")
	}
	return x
}

// assertGone checks that an ended actor's id is free and that it refuses
// messages with an error wrapping ErrStopped that names it.
func assertGone(t *testing.T, rt *actor.Runtime, a *actor.Actor) {
	t.Helper()
	ctx := context.Background()
	if _, ok := rt.Actor(a.ID()); ok {
		t.Error("an ended actor's id is still registered")
	}
	if a.Live() {
		t.Error("an ended actor is live")
	}
	if _, err := a.Request(ctx, []byte{1}); !errors.Is(err, actor.ErrStopped) || !strings.Contains(err.Error(), `"`+a.ID()+`"`) {
		t.Errorf("request to an ended actor: %v", err)
	}
	if err := a.Send(ctx, []byte{1}); !errors.Is(err, actor.ErrStopped) {
		t.Errorf("send to an ended actor: %v", err)
	}
	if _, err := a.Deliver(ctx, []byte{1}); !errors.Is(err, actor.ErrStopped) {
		t.Errorf("delivery to an ended actor: %v", err)
	}
}

// TestFailureEndsActor: by default a failure that discards the instance
// ends the actor: the requester gets the failure, the message queued
// behind it is refused, OnFailure and then OnExit are told once each, the
// id is free for a restart, and the state is the last good one.
func TestFailureEndsActor(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		guest  string
		limits actor.Limits
		kind   actor.FailureKind
	}{
		{"trap", actor.Limits{}, actor.Trap},
		{"loop", actor.Limits{HandlerTimeout: 100 * time.Millisecond}, actor.Deadline},
		// The request grows memory to the limit, then waits out the
		// deadline: long enough for a loaded machine to reach the limit.
		{"membomb", actor.Limits{MemoryPages: 64, HandlerTimeout: 3 * time.Second}, actor.MemoryLimit},
		{"exit", actor.Limits{}, actor.ProcExit},
		{"badreturn", actor.Limits{}, actor.Fault},
	}
	for _, tc := range cases {
		t.Run(tc.guest, func(t *testing.T) {
			rt := newRuntime(t)
			var rep reports
			start := []byte{0x90}
			spec := actor.Spec{ID: "doomed", Module: hostile(t, tc.guest), State: start, Limits: tc.limits,
				OnFailure: rep.failure, OnExit: rep.exit}
			a, err := rt.Spawn(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			// The send takes the mailbox first, so the request queues
			// behind it: the send's failure ends the actor under it.
			if err := a.Send(ctx, []byte{0}); err != nil {
				t.Fatal(err)
			}
			_, err = a.Request(ctx, []byte{0})
			if !errors.Is(err, actor.ErrStopped) {
				t.Fatalf("request queued behind the failing send: %v, want ErrStopped", err)
			}
			x := waitDone(t, a)
			if x.Reason != actor.Failed || x.Failure == nil || x.Failure.Kind != tc.kind || x.Actor != "doomed" {
				t.Fatalf("exit %+v, want failed with a %v", x, tc.kind)
			}
			var f actor.Failure
			if !errors.As(x.Err(), &f) || f.Kind != tc.kind {
				t.Errorf("Exit.Err() = %v, want the failure", x.Err())
			}
			if told := rep.waitExit(t); told != x {
				t.Errorf("OnExit told %+v, Exit says %+v", told, x)
			}
			assertGone(t, rt, a)
			if !bytes.Equal(a.State(), start) {
				t.Errorf("state %x, want the last good %x", a.State(), start)
			}
			fails, exits, order := rep.snapshot()
			if len(fails) != 1 || fails[0].Kind != tc.kind || len(exits) != 1 || strings.Join(order, ",") != "failure,exit" {
				t.Errorf("told %v; failures %v, exits %v", order, fails, exits)
			}
			// The id is free: a restart from the last state spawns again,
			// and a request to it fails as the first did, alone.
			spec.State, spec.Resume = a.State(), true
			b, err := rt.Spawn(ctx, spec)
			if err != nil {
				t.Fatalf("respawn: %v", err)
			}
			if _, err := b.Request(ctx, []byte{0}); !errors.As(err, &f) || f.Kind != tc.kind {
				t.Errorf("request to the restarted actor: %v, want a %v failure", err, tc.kind)
			}
			waitDone(t, b)
		})
	}
}

// TestGuestErrorKeepsActor: a guest error is an answer, not a crash: the
// actor and its instance live on and only OnFailure is told.
func TestGuestErrorKeepsActor(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	var rep reports
	a, err := rt.Spawn(ctx, actor.Spec{ID: "c", Module: counter(t, "wat"), Capabilities: []string{"log"},
		OnFailure: rep.failure, OnExit: rep.exit})
	if err != nil {
		t.Fatal(err)
	}
	var f actor.Failure
	if _, err := a.Request(ctx, []byte{0xa1, 'x'}); !errors.As(err, &f) || f.Kind != actor.GuestError {
		t.Fatalf("a string to the counter: %v, want a guest error", err)
	}
	if r, err := a.Request(ctx, u64(t, 2)); err != nil || !bytes.Equal(r, u64(t, 2)) || !a.Live() {
		t.Fatalf("after a guest error: %x, %v, live %v", r, err, a.Live())
	}
	if _, ok := a.Exit(); ok {
		t.Fatal("a guest error ended the actor")
	}
	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if x := rep.waitExit(t); x.Reason != actor.Stopped || x.Failure != nil || x.Err() != nil {
		t.Errorf("exit after Stop: %+v, Err %v", x, x.Err())
	}
	if fails, _, order := rep.snapshot(); len(fails) != 1 || strings.Join(order, ",") != "failure,exit" {
		t.Errorf("told %v", order)
	}
}

// TestRecreatePolicy: under RecreateOnFailure an actor survives its
// failures, each next message recreating the instance from the last
// good state, and only Stop ends it.
func TestRecreatePolicy(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	var rep reports
	a, err := rt.Spawn(ctx, actor.Spec{ID: "phoenix", Module: hostile(t, "trap"), State: []byte{0x90},
		FailurePolicy: actor.RecreateOnFailure, OnFailure: rep.failure, OnExit: rep.exit})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		var f actor.Failure
		if _, err := a.Request(ctx, []byte{0}); !errors.As(err, &f) || f.Kind != actor.Trap {
			t.Fatalf("request %d: %v, want a trap", i, err)
		}
	}
	if _, ok := rt.Actor("phoenix"); !ok {
		t.Fatal("the actor was removed")
	}
	if _, ok := a.Exit(); ok {
		t.Fatal("a failure ended the actor under RecreateOnFailure")
	}
	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if x := waitDone(t, a); x.Reason != actor.Stopped {
		t.Errorf("exit %+v", x)
	}
	rep.waitExit(t)
	if fails, exits, _ := rep.snapshot(); len(fails) != 3 || len(exits) != 1 {
		t.Errorf("told %d failures, %d exits; want 3, 1", len(fails), len(exits))
	}
}

// TestKill kills an actor stuck in a loop with a handler deadline of ten
// minutes: the handler is aborted at once, its requester and the queued
// messages are refused with ErrKilled, nothing is reported as a failure,
// and Kill returns with the actor fully ended.
func TestKill(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	var rep reports
	a, err := rt.Spawn(ctx, actor.Spec{ID: "spinner", Module: hostile(t, "loop"), State: []byte{0x90},
		Limits: actor.Limits{HandlerTimeout: 10 * time.Minute}, OnFailure: rep.failure, OnExit: rep.exit})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Send(ctx, []byte{0}); err != nil { // loops
		t.Fatal(err)
	}
	queued := make(chan error, 1)
	go func() {
		_, err := a.Request(ctx, []byte{0})
		queued <- err
	}()
	// Wait until the request is queued.
	deadline := time.Now().Add(time.Minute)
	for !isBusy(a) {
		if time.Now().After(deadline) {
			t.Fatal("the request never queued")
		}
		time.Sleep(time.Millisecond)
	}
	began := time.Now()
	kctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := a.Kill(kctx); err != nil {
		t.Fatalf("kill: %v", err)
	}
	el := time.Since(began)
	t.Logf("kill of a looping handler took %v", el)
	if el > time.Minute {
		t.Errorf("kill took %v, as long as a handler deadline", el)
	}
	select {
	case <-a.Done():
	default:
		t.Fatal("Kill returned before the actor fully ended")
	}
	if x, _ := a.Exit(); x.Reason != actor.Killed || !errors.Is(x.Err(), actor.ErrKilled) {
		t.Errorf("exit %+v, Err %v", x, x.Err())
	}
	if err := <-queued; !errors.Is(err, actor.ErrKilled) || !errors.Is(err, actor.ErrStopped) {
		t.Errorf("queued request: %v, want ErrKilled and ErrStopped", err)
	}
	assertGone(t, rt, a)
	rep.waitExit(t)
	if fails, exits, _ := rep.snapshot(); len(fails) != 0 || len(exits) != 1 {
		t.Errorf("told failures %v, exits %v; want no failure, one exit", fails, exits)
	}
	if err := a.Kill(ctx); err != nil {
		t.Errorf("second kill: %v", err)
	}
	if err := a.Stop(ctx); err != nil {
		t.Errorf("stop after kill: %v", err)
	}
}

// isBusy reports whether a message is queued behind a running handler.
func isBusy(a *actor.Actor) bool { return actor.QueueLen(a) > 0 }

// TestKillAbortsHostCall kills an actor whose handler waits in a host
// call (a request to a busy peer): closing the call's context makes the
// host call return and the handler end.
func TestKillAbortsHostCall(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	relayWasm := goGuest(t, "actor/testdata/host/relay") // built before the peer's minute starts
	peer, err := rt.Spawn(ctx, actor.Spec{ID: "peer", Module: hostile(t, "loop"), State: []byte{0x90},
		Limits: actor.Limits{HandlerTimeout: 10 * time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	if err := peer.Send(ctx, []byte{0}); err != nil { // busy for a minute
		t.Fatal(err)
	}
	relay, err := rt.Spawn(ctx, actor.Spec{ID: "relay", Module: relayWasm,
		Capabilities: []string{"runtime", "message", "clock", "random"}, Router: actor.NewLocalRouter(rt),
		AllowTarget: func(id string) bool { return id == "peer" }, Limits: actor.Limits{HandlerTimeout: 10 * time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	asked := make(chan error, 1)
	go func() {
		_, err := relay.Request(ctx, str(t, "ask:peer"))
		asked <- err
	}()
	deadline := time.Now().Add(time.Minute)
	for !isBusy(peer) { // the relay's request queued at the peer
		select {
		case err := <-asked:
			t.Fatalf("the relay answered before its request reached the peer: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the relay's request never reached the peer (relay live %v, queue %d)", relay.Live(), actor.QueueLen(relay))
		}
		time.Sleep(time.Millisecond)
	}
	if err := relay.Kill(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-asked; !errors.Is(err, actor.ErrKilled) {
		t.Errorf("the killed relay's requester got %v, want ErrKilled", err)
	}
	if err := peer.Kill(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestStopContextKills: a Stop whose context ends while a handler runs
// kills the actor and returns once it has fully ended; never half-stopped.
func TestStopContextKills(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	var rep reports
	a, err := rt.Spawn(ctx, actor.Spec{ID: "stuck", Module: hostile(t, "loop"), State: []byte{0x90},
		Limits: actor.Limits{HandlerTimeout: 10 * time.Minute}, OnFailure: rep.failure, OnExit: rep.exit})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Send(ctx, []byte{0}); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	err = a.Stop(sctx)
	if !errors.Is(err, actor.ErrKilled) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stop: %v, want ErrKilled and DeadlineExceeded", err)
	}
	select {
	case <-a.Done():
	default:
		t.Fatal("Stop returned before the actor fully ended")
	}
	if x, _ := a.Exit(); x.Reason != actor.Killed {
		t.Errorf("exit %+v", x)
	}
	assertGone(t, rt, a)
	if x := rep.waitExit(t); x.Reason != actor.Killed {
		t.Errorf("told %+v", x)
	}
}

// TestCallbacksMayStopAndSpawn: OnFailure and OnExit run where the owner
// may act: OnFailure stops the actor (which waited for itself when the
// callback ran on the mailbox goroutine), and OnExit spawns its successor
// under the same id.
func TestCallbacksMayStopAndSpawn(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	wat := counter(t, "wat")
	stopped := make(chan error, 1)
	respawned := make(chan error, 1)
	var a *actor.Actor
	spec := actor.Spec{ID: "c", Module: wat, Capabilities: []string{"log"}}
	first := spec
	first.OnFailure = func(actor.Failure) { stopped <- a.Stop(ctx) }
	first.OnExit = func(x actor.Exit) {
		next := spec
		next.State, next.Resume = a.State(), true
		_, err := rt.Spawn(ctx, next)
		respawned <- err
	}
	var err error
	if a, err = rt.Spawn(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := a.Send(ctx, u64(t, 4)); err != nil {
		t.Fatal(err)
	}
	if err := a.Send(ctx, []byte{0xa1, 'x'}); err != nil { // a guest error
		t.Fatal(err)
	}
	for _, ch := range []chan error{stopped, respawned} {
		select {
		case err := <-ch:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a callback never finished")
		}
	}
	b, ok := rt.Actor("c")
	if !ok || b == a {
		t.Fatal("no successor under the id")
	}
	if r, err := b.Request(ctx, u64(t, 1)); err != nil || !bytes.Equal(r, u64(t, 5)) {
		t.Errorf("successor: %x, %v; want 5", r, err)
	}
}

// TestEndedContextNotRun: a request or delivered send whose context has
// already ended is not run and reports the context's error, whether the
// actor is idle (the request would run on the caller's goroutine) or
// busy.
func TestEndedContextNotRun(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	a, err := rt.Spawn(ctx, actor.Spec{ID: "c", Module: counter(t, "wat"), Capabilities: []string{"log"}})
	if err != nil {
		t.Fatal(err)
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	for i := range 100 {
		if r, err := a.Request(gone, u64(t, 1)); !errors.Is(err, context.Canceled) {
			t.Fatalf("request %d with an ended context: %x, %v", i, r, err)
		}
		if st, err := a.Deliver(gone, u64(t, 1)); !errors.Is(err, context.Canceled) {
			t.Fatalf("delivery %d with an ended context: %x, %v", i, st, err)
		}
	}
	if r, err := a.Request(ctx, u64(t, 0)); err != nil || !bytes.Equal(r, u64(t, 0)) {
		t.Fatalf("messages with ended contexts ran: total %x, %v", r, err)
	}
}

// TestNilLogger: WithLogger(nil) means the default logger; the counter's
// log call in theater_init works instead of trapping.
func TestNilLogger(t *testing.T) {
	ctx := context.Background()
	rt, err := actor.NewRuntime(ctx, actor.WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	a, err := rt.Spawn(ctx, actor.Spec{ID: "c", Module: counter(t, "wat"), Capabilities: []string{"log"}})
	if err != nil {
		t.Fatalf("spawn with a nil logger: %v", err)
	}
	if r, err := a.Request(ctx, u64(t, 3)); err != nil || !bytes.Equal(r, u64(t, 3)) {
		t.Errorf("request: %x, %v", r, err)
	}
}

// TestCloseKills: closing the runtime kills its actors, each told once.
func TestCloseKills(t *testing.T) {
	ctx := context.Background()
	rt, err := actor.NewRuntime(ctx, actor.WithLogger(discard()))
	if err != nil {
		t.Fatal(err)
	}
	var rep reports
	a, err := rt.Spawn(ctx, actor.Spec{ID: "spinner", Module: hostile(t, "loop"), State: []byte{0x90},
		Limits: actor.Limits{HandlerTimeout: 10 * time.Minute}, OnExit: rep.exit})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Send(ctx, []byte{0}); err != nil {
		t.Fatal(err)
	}
	if err := rt.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if x := waitDone(t, a); x.Reason != actor.Killed {
		t.Errorf("exit %+v", x)
	}
	if x := rep.waitExit(t); x.Reason != actor.Killed {
		t.Errorf("told %+v", x)
	}
}
