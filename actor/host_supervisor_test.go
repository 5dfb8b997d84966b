package actor_test

import (
	"context"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/guest"
	"github.com/theater-go/theater/supervisor"
)

// bossReq encodes a request of the example boss: a msgpack array of
// strings (examples/supervisor/boss).
func bossReq(args ...string) []byte {
	b := guest.AppendArrayHeader(nil, len(args))
	for _, a := range args {
		b = guest.AppendString(b, a)
	}
	return b
}

// bossAsk sends a request and returns the answer: a string, or the
// strings of an array.
func bossAsk(t *testing.T, boss *actor.Actor, args ...string) []string {
	t.Helper()
	r, err := boss.Request(context.Background(), bossReq(args...))
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	if s, _, err := guest.ReadString(r); err == nil {
		return []string{s}
	}
	n, rest, err := guest.ReadArrayHeader(r)
	if err != nil {
		t.Fatalf("%q: answer %x", args, r)
	}
	out := make([]string, n)
	for i := range out {
		out[i], rest, _ = guest.ReadString(rest)
	}
	return out
}

// bossState is the example boss's initial state [3, 10, "last", 0, []].
var bossState = []byte{0x95, 3, 10, 0xa4, 'l', 'a', 's', 't', 0, 0x90}

type supFixture struct {
	rt      *actor.Runtime
	sv      *actor.LocalSupervision
	events  *events
	worker  actor.Digest
	digest  string // "sha256:<hex>" of the worker
	bossMod []byte
}

func newSupFixture(t *testing.T) *supFixture {
	t.Helper()
	ctx := context.Background()
	f := &supFixture{rt: newRuntime(t), events: &events{}}
	f.sv = actor.NewLocalSupervision(f.rt, actor.WithSupervisionEvents(f.events))
	var err error
	if f.worker, err = f.rt.Compile(ctx, goGuest(t, "examples/supervisor/worker")); err != nil {
		t.Fatal(err)
	}
	f.digest = "sha256:" + hex.EncodeToString(f.worker[:])
	f.sv.Register("worker", actor.Spec{Digest: f.worker})
	f.bossMod = goGuest(t, "examples/supervisor/boss")
	t.Cleanup(func() { f.sv.Release(ctx, "boss") })
	return f
}

func (f *supFixture) bossSpec() actor.Spec {
	return actor.Spec{ID: "boss", Module: f.bossMod, State: bossState,
		Capabilities: []string{"supervisor"}, Supervision: f.sv,
		SupervisorGrant: actor.SupervisorGrant{
			MaxChildren:   2,
			AllowManifest: func(n string) bool { return n == "worker" },
			AllowModule:   func(d string) bool { return d == f.digest },
			Tree:          supervisor.Spec{Intensity: 5, Period: supervisor.Duration(time.Minute)},
		}}
}

// TestSupervisorCapability drives every function of
// theater:actor/supervisor from a real Go guest, with the grant's limits
// and each error case of the WIT supervisor.error variant.
func TestSupervisorCapability(t *testing.T) {
	ctx := context.Background()
	f := newSupFixture(t)
	boss, err := f.rt.Spawn(ctx, f.bossSpec())
	if err != nil {
		t.Fatal(err)
	}
	other := "sha256:" + strings.Repeat("0", 64)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"spawn", "w2", "other", "permanent"}, "theater: supervisor: denied: manifest other"},
		{[]string{"spawn-module", "w2", other, ""}, "theater: supervisor: denied: module " + other},
		{[]string{"spawn", "worker", "worker", "permanent"}, `theater: supervisor: exists: worker`},
		{[]string{"spawn", "bad.id", "worker", "permanent"}, `theater: supervisor: invalid: supervisor: start child "bad.id": actor: invalid actor id`},
		{[]string{"spawn-module", "w2", f.digest, "name = \"x\"\n"}, "theater: supervisor: invalid: "},
		// The manifest fields apply: a Go guest does not fit in one page.
		{[]string{"spawn-module", "w2", f.digest, "[limits]\nmemory_pages = 2\nmax_message_bytes = 1024\n"}, "theater: supervisor: failed: "},
		{[]string{"spawn-module", "w2", f.digest, "[limits]\nmailbox = 4\n"}, "ok"},
		{[]string{"spawn", "w3", "worker", "temporary"}, "theater: supervisor: too-many: 2"},
		{[]string{"stop", "nope"}, "theater: supervisor: unknown-child: nope"},
		{[]string{"restart", "worker"}, "theater: supervisor: failed: supervisor: child is running"},
		{[]string{"state", "nope"}, "theater: supervisor: unknown-child: nope"},
	} {
		got := bossAsk(t, boss, tc.args...)
		if len(got) != 1 || !strings.HasPrefix(got[0], tc.want) {
			t.Errorf("%q: %q, want %q", tc.args, got, tc.want)
		}
	}
	if got, want := bossAsk(t, boss, "children"), []string{"worker:temporary:true:0", "w2:permanent:true:0"}; !slices.Equal(got, want) {
		t.Errorf("children %q, want %q", got, want)
	}
	w2, ok := f.rt.Actor("w2")
	if !ok {
		t.Fatal("w2 does not run")
	}
	if err := w2.Send(ctx, guest.AppendString(nil, "add")); err != nil {
		t.Fatal(err)
	}
	// A permanent child is restarted by the host's supervisor, from its
	// last state, and the parent hears of the failure in its mailbox.
	if err := w2.Send(ctx, guest.AppendString(nil, "crash")); err != nil {
		t.Fatal(err)
	}
	f.events.wait(t, "w2", supervisor.Restarted)
	deadline := time.Now().Add(10 * time.Second)
	for !slices.Contains(bossAsk(t, boss, "log"), "w2 ended: trap") {
		if time.Now().After(deadline) {
			t.Fatalf("the boss did not hear of w2's trap: %q", bossAsk(t, boss, "log"))
		}
		time.Sleep(time.Millisecond)
	}
	if got, want := bossAsk(t, boss, "children"), []string{"worker:temporary:true:0", "w2:permanent:true:1"}; !slices.Equal(got, want) {
		t.Errorf("children %q, want %q", got, want)
	}
	if st := bossAsk(t, boss, "state", "w2"); !slices.Equal(st, []string{"01"}) {
		t.Errorf("w2's state through the capability %q, want hex 01", st)
	}
	// Stop forgets the child; its last state stays readable.
	if got := bossAsk(t, boss, "stop", "w2"); !slices.Equal(got, []string{"ok"}) {
		t.Errorf("stop: %q", got)
	}
	if _, ok := f.rt.Actor("w2"); ok {
		t.Error("w2 still runs after stop")
	}
	if got, want := bossAsk(t, boss, "children"), []string{"worker:temporary:true:0"}; !slices.Equal(got, want) {
		t.Errorf("children %q, want %q", got, want)
	}
	if st := bossAsk(t, boss, "state", "w2"); !slices.Equal(st, []string{"01"}) {
		t.Errorf("w2's last state %q, want hex 01", st)
	}
	// Release stops the children when the parent goes.
	if err := f.sv.Release(ctx, "boss"); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.rt.Actor("worker"); ok {
		t.Error("the worker outlived its parent's release")
	}
}

// The capability is refused at spawn unless granted, and answers
// "unavailable" when the spec has no Supervision.
func TestSupervisorCapabilityGrant(t *testing.T) {
	ctx := context.Background()
	f := newSupFixture(t)
	spec := f.bossSpec()
	spec.Capabilities = nil
	_, err := f.rt.Spawn(ctx, spec)
	if !errors.Is(err, actor.ErrRefused) || !strings.Contains(err.Error(), `"theater:actor/supervisor@0.1.0" "spawn"`) {
		t.Errorf("spawn without the grant: %v", err)
	}
	spec = f.bossSpec()
	spec.Supervision = nil
	_, err = f.rt.Spawn(ctx, spec)
	if !errors.Is(err, actor.ErrGuest) || !strings.Contains(err.Error(), "host unavailable") {
		t.Errorf("spawn without a Supervision: %v", err)
	}
}

func TestChildEvent(t *testing.T) {
	for _, tc := range []struct {
		x    actor.Exit
		want string
	}{
		{actor.Exit{Reason: actor.Stopped}, "stopped"},
		{actor.Exit{Reason: actor.Killed}, "killed"},
		{actor.Exit{Reason: actor.Failed, Failure: &actor.Failure{Kind: actor.Trap}}, "trap"},
		{actor.Exit{Reason: actor.Failed, Failure: &actor.Failure{Kind: actor.Deadline}}, "deadline"},
		{actor.Exit{Reason: actor.Failed, Failure: &actor.Failure{Kind: actor.OutOfFuel}}, "out-of-fuel"},
		{actor.Exit{Reason: actor.Failed, Failure: &actor.Failure{Kind: actor.MemoryLimit}}, "memory-limit"},
		{actor.Exit{Reason: actor.Failed, Failure: &actor.Failure{Kind: actor.ProcExit}}, "proc-exit"},
		{actor.Exit{Reason: actor.Failed, Failure: &actor.Failure{Kind: actor.Fault}}, "fault"},
		{actor.Exit{Reason: actor.Failed, Failure: &actor.Failure{Kind: actor.GuestError}}, "guest-error"},
		{actor.Exit{Reason: actor.Failed, Failure: &actor.Failure{Kind: actor.ABI}}, "abi"},
	} {
		r := actor.ExitReasonOf(tc.x)
		if r != tc.want {
			t.Errorf("%v: %q, want %q", tc.x, r, tc.want)
		}
		// Every reason is a case of the WIT enum, and the SDK reads it back.
		b, err := actor.ChildEvent(actor.ChildExit{ID: "c", Reason: r, Restarts: 2})
		if err != nil {
			t.Fatalf("%q: %v", r, err)
		}
		if x, ok := guest.ParseChildEvent(b); !ok || x.Reason != r || x.Restarts != 2 {
			t.Errorf("%q read back as %+v %v", r, x, ok)
		}
	}
	if _, err := actor.ChildEvent(actor.ChildExit{Reason: "exploded"}); err == nil {
		t.Error("an unknown reason was encoded")
	}
}

// waitLogLine polls the boss's decisions until line is among them.
func waitLogLine(t *testing.T, boss *actor.Actor, line string) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		l := bossAsk(t, boss, "log")
		if slices.Contains(l, line) {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("the boss's log %q has no %q", l, line)
		}
		time.Sleep(time.Millisecond)
	}
}

// Past the grant's intensity the parent's supervisor stops every child:
// the parent hears of the failure first, then of each stopped child; the
// next spawn gets a new supervisor. A delayed start that fails reaches
// the parent as start-failed.
func TestSupervisorCapabilityEscalation(t *testing.T) {
	ctx := context.Background()
	f := newSupFixture(t)
	spec := f.bossSpec()
	spec.SupervisorGrant.Tree = supervisor.Spec{Intensity: 0, Period: supervisor.Duration(time.Minute)}
	boss, err := f.rt.Spawn(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if got := bossAsk(t, boss, "spawn", "w2", "worker", "permanent"); !slices.Equal(got, []string{"ok"}) {
		t.Fatalf("spawn: %q", got)
	}
	w2, _ := f.rt.Actor("w2")
	if err := w2.Send(ctx, guest.AppendString(nil, "crash")); err != nil {
		t.Fatal(err)
	}
	log := waitLogLine(t, boss, "worker stopped")
	if want := []string{"spawned worker", "w2 ended: trap", "worker stopped"}; !slices.Equal(log, want) {
		t.Errorf("log %q, want %q", log, want)
	}
	f.events.wait(t, "", supervisor.Escalated)
	if got := bossAsk(t, boss, "children"); len(got) != 0 {
		t.Errorf("children after the escalation %q", got)
	}
	// A delayed start whose id is taken when it comes fails as
	// start-failed.
	if _, err := f.rt.Spawn(ctx, actor.Spec{ID: "taken", Digest: f.worker}); err != nil {
		t.Fatal(err)
	}
	if got := bossAsk(t, boss, "spawn", "taken", "worker", "temporary", "1000"); !slices.Equal(got, []string{"ok"}) {
		t.Fatalf("delayed spawn: %q", got)
	}
	if got := bossAsk(t, boss, "children"); !slices.Equal(got, []string{"taken:temporary:false:0"}) {
		t.Errorf("children while the start is delayed %q", got)
	}
	waitLogLine(t, boss, "taken ended: start-failed")
	if got := bossAsk(t, boss, "children"); len(got) != 0 {
		t.Errorf("children after the failed start %q", got)
	}
	// A delayed start that is stopped never happens.
	if got := bossAsk(t, boss, "spawn", "later", "worker", "temporary", "60000"); !slices.Equal(got, []string{"ok"}) {
		t.Fatalf("delayed spawn: %q", got)
	}
	if got := bossAsk(t, boss, "stop", "later"); !slices.Equal(got, []string{"ok"}) {
		t.Errorf("stop of a delayed child: %q", got)
	}
	if got := bossAsk(t, boss, "children"); len(got) != 0 {
		t.Errorf("children after stopping the delayed one %q", got)
	}
}

// A child that calls proc_exit(0) exits normally, as an OTP process that
// returns: a transient child stays down, a permanent one is restarted.
// (Read as a failure, the transient child was restarted too.)
func TestSupervisorCapabilityNormalExit(t *testing.T) {
	ctx := context.Background()
	f := newSupFixture(t)
	faulty, err := f.rt.Compile(ctx, wasmFile(t, "../transport/node/testdata/faulty.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	f.sv.Register("faulty", actor.Spec{Digest: faulty})
	spec := f.bossSpec()
	spec.SupervisorGrant.AllowManifest = func(n string) bool { return n == "worker" || n == "faulty" }
	spec.SupervisorGrant.MaxChildren = 3
	boss, err := f.rt.Spawn(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	const cmdExit = 5 // faulty.wat: proc_exit(0)
	for _, restart := range []string{"transient", "permanent"} {
		if got := bossAsk(t, boss, "spawn", restart, "faulty", restart); !slices.Equal(got, []string{"ok"}) {
			t.Fatalf("spawn %s: %q", restart, got)
		}
		child, _ := f.rt.Actor(restart)
		if err := child.Send(ctx, []byte{cmdExit}); err != nil {
			t.Fatal(err)
		}
		waitLogLine(t, boss, restart+" ended: proc-exit")
	}
	f.events.wait(t, "permanent", supervisor.Restarted)
	if got, want := bossAsk(t, boss, "children"), []string{"worker:temporary:true:0", "transient:transient:false:0", "permanent:permanent:true:1"}; !slices.Equal(got, want) {
		t.Errorf("children %q, want %q", got, want)
	}
	if _, ok := f.rt.Actor("transient"); ok {
		t.Error("the transient child runs again after its normal exit")
	}
}
