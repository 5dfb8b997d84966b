package replay_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/replay"
)

var quiet = slog.New(slog.DiscardHandler)

// cacheDir keeps compiled modules for the whole test binary, so a Go
// guest compiles once, not once per runtime.
var cacheDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "replay-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cacheDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func newRuntime(t testing.TB) *actor.Runtime {
	t.Helper()
	rt, err := actor.NewRuntime(context.Background(), actor.WithLogger(quiet), actor.WithCacheDir(filepath.Join(cacheDir, "wazero")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	return rt
}

var (
	goMu    sync.Mutex
	goBuilt = map[string][]byte{}
)

// goGuest builds a Go guest package (a path from the module root) with
// the standard toolchain, once per test binary.
func goGuest(t testing.TB, pkg string) []byte {
	t.Helper()
	goMu.Lock()
	defer goMu.Unlock()
	if b, ok := goBuilt[pkg]; ok {
		return b
	}
	out := filepath.Join(cacheDir, strings.ReplaceAll(pkg, "/", "_")+".wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, "./"+pkg)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	goBuilt[pkg] = b
	return b
}

func wasmFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// counter returns the example counter in one language.
func counter(t testing.TB, lang string) []byte {
	t.Helper()
	switch lang {
	case "go":
		return goGuest(t, "examples/counter/go")
	case "wat":
		return wasmFile(t, "../../examples/counter/wat/counter.wasm")
	case "c":
		return wasmFile(t, "../../examples/counter/c/counter.wasm")
	case "assemblyscript":
		return wasmFile(t, "../../examples/counter/assemblyscript/counter.wasm")
	}
	t.Fatalf("no counter in %s", lang)
	return nil
}

// u is the msgpack encoding of a small uint.
func u(n uint64) []byte {
	switch {
	case n < 0x80:
		return []byte{byte(n)}
	case n <= 0xff:
		return []byte{0xcc, byte(n)}
	default:
		return []byte{0xcd, byte(n >> 8), byte(n)}
	}
}

// str is the msgpack encoding of a short string.
func str(s string) []byte { return append([]byte{0xa0 | byte(len(s))}, s...) }

// live runs an actor the way a node does for its chain: a Recorder stands
// between the actor and its clock, entropy and router, and every handler
// call becomes a handled event (followed by a failure event when it
// failed), sealed onto the chain.
type live struct {
	t      testing.TB
	id     string
	rec    *replay.Recorder
	a      *actor.Actor
	head   chain.Head
	sealed []chain.Sealed
	mbox   uint64
	opens  uint64 // the instances the chain accounts for, as a node counts them
}

// spawnLive appends the spawn event, spawns the actor (which runs init)
// and appends init's handled event.
func spawnLive(t testing.TB, rt *actor.Runtime, spec actor.Spec, clock actor.Clock, entropy actor.Entropy, router actor.Router) *live {
	t.Helper()
	l := &live{t: t, id: spec.ID, rec: replay.NewRecorder(clock, entropy, router)}
	l.append(&chain.Spawn{Module: chain.Hash(sha256.Sum256(spec.Module)), Manifest: []byte("test"), State: spec.State})
	spec.Clock, spec.Entropy, spec.Router = l.rec.Clock(), l.rec.Entropy(), l.rec.Router()
	a, err := rt.Spawn(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	l.a = a
	l.opens = a.Instances()
	l.outcome(chain.CallInit, spec.State, a.State(), nil, nil)
	return l
}

func (l *live) append(b chain.Body) {
	l.t.Helper()
	s, err := chain.Seal(l.head.Next(l.id, b))
	if err != nil {
		l.t.Fatal(err)
	}
	l.sealed = append(l.sealed, s)
	l.head = s.Head()
}

func (l *live) outcome(call chain.Call, payload, state, reply []byte, err error) {
	l.t.Helper()
	inputs, out := l.rec.Take()
	h := &chain.Handled{Call: call, Payload: payload, Inputs: inputs, State: chain.Sum(state), Reply: reply}
	if call == chain.CallSend {
		l.mbox++
		h.From, h.MsgID, h.MailboxSeq = "tester", fmt.Sprintf("m%d", l.mbox), l.mbox
	}
	var f actor.Failure
	if err != nil && !errors.As(err, &f) {
		l.t.Fatalf("%s: %v", call, err)
	}
	failed := err != nil
	if !failed {
		h.Out = out // a failed handler's sends are dropped
	}
	if n := l.a.Instances(); n > l.opens {
		// The call opened an instance (woken, or after a failure): as a
		// node records it.
		l.append(&chain.Lifecycle{What: chain.Wake})
		l.opens = n
	}
	l.append(h)
	if failed {
		l.append(&chain.Failure{Reason: replay.Reason(f.Kind), Call: call, Detail: f.Error(), MsgID: h.MsgID, MailboxSeq: h.MailboxSeq})
	}
}

func (l *live) send(payload []byte) error {
	l.t.Helper()
	st, err := l.a.Deliver(context.Background(), payload)
	if err != nil {
		st = l.a.State()
	}
	l.outcome(chain.CallSend, payload, st, nil, err)
	return err
}

func (l *live) request(payload []byte) ([]byte, error) {
	l.t.Helper()
	reply, err := l.a.Request(context.Background(), payload)
	l.outcome(chain.CallRequest, payload, l.a.State(), reply, err)
	return reply, err
}

// events decodes the sealed chain, as a reader of the stream would.
func (l *live) events() []chain.Event {
	l.t.Helper()
	return decodeAll(l.t, l.sealed)
}

func decodeAll(t testing.TB, sealed []chain.Sealed) []chain.Event {
	t.Helper()
	evs := make([]chain.Event, len(sealed))
	for i, s := range sealed {
		e, err := chain.Decode(s.Payload)
		if err != nil {
			t.Fatal(err)
		}
		evs[i] = e
	}
	return evs
}

// reseal rebuilds a chain whose events were changed, linking every parent
// again: a consistent forgery that verification alone cannot tell.
func reseal(t testing.TB, evs []chain.Event) []chain.Event {
	t.Helper()
	var head chain.Head
	out := make([]chain.Event, len(evs))
	for i, e := range evs {
		s, err := chain.Seal(head.Next(e.Actor, e.Body))
		if err != nil {
			t.Fatal(err)
		}
		head = s.Head()
		out[i] = s.Event
	}
	return decodeAll(t, sealedOf(t, out))
}

func sealedOf(t testing.TB, evs []chain.Event) []chain.Sealed {
	t.Helper()
	out := make([]chain.Sealed, len(evs))
	for i, e := range evs {
		s, err := chain.Seal(e)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = s
	}
	return out
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// countingEntropy gives 0, 1, 2, ... across reads: not random, but every
// read differs, so a misplaced input shows.
type countingEntropy struct{ n *byte }

func (e countingEntropy) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = *e.n
		*e.n++
	}
	return len(p), nil
}

// respawn records the actor stopping and spawning again from spec, as a
// node does when the same id is spawned anew: stop, spawn, init.
func (l *live) respawn(rt *actor.Runtime, spec actor.Spec) {
	l.t.Helper()
	if err := l.a.Kill(context.Background()); err != nil {
		l.t.Fatal(err)
	}
	l.append(&chain.Stop{Reason: "stopped"})
	l.append(&chain.Spawn{Module: chain.Hash(sha256.Sum256(spec.Module)), Manifest: []byte("test"), State: spec.State})
	spec.Clock, spec.Entropy, spec.Router = l.rec.Clock(), l.rec.Entropy(), l.rec.Router()
	a, err := rt.Spawn(context.Background(), spec)
	if err != nil {
		l.t.Fatal(err)
	}
	l.a = a
	l.opens = a.Instances()
	l.outcome(chain.CallInit, spec.State, a.State(), nil, nil)
}
