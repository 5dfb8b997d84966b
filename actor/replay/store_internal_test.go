package replay

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/guest"
)

func buildGuest(t *testing.T, pkg string) []byte {
	t.Helper()
	wasm := filepath.Join(t.TempDir(), "g.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", wasm, "./"+pkg)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	mod, err := os.ReadFile(wasm)
	if err != nil {
		t.Fatal(err)
	}
	return mod
}

func notesMsg(op, ns, key, value string, rev uint64) []byte {
	b := guest.AppendArrayHeader(nil, 5)
	for _, s := range []string{op, ns, key, value} {
		b = guest.AppendString(b, s)
	}
	return guest.AppendUint(b, rev)
}

type notesStep struct {
	op, ns, key, value string
	rev                uint64
	want               string // the live reply; "" for a failed handler
}

// TestStoreDeferredAndReplayed runs the kv-notes example with a Recorder
// over a store, applying each handler's writes only after it (as a node
// does once the event is durable) and dropping a failed handler's; then
// answers every call from the recorded inputs with the store gone: each
// reply and state is the same byte for byte.
func TestStoreDeferredAndReplayed(t *testing.T) {
	mod := buildGuest(t, "examples/kv-notes/guest")
	ctx := context.Background()
	rt, err := actor.NewRuntime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	mem := actor.NewMemoryStore()
	rec := NewRecorder(nil, nil, nil)
	spec := actor.Spec{ID: "notes", Module: mod, Capabilities: []string{"store"}, Store: rec.Store(mem)}
	a, err := rt.Spawn(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	rec.Take()
	own := actor.OwnStoreNamespace("notes")
	steps := []notesStep{
		{op: "putget", key: "a", value: "one", want: "ok; found one rev=0"},
		{op: "get", key: "a", want: "found one rev=1"},
		{op: "cas", key: "a", value: "two", rev: 1, want: "ok"},
		{op: "putfail", key: "b", value: "lost"},
		{op: "get", key: "b", want: "none"},
		{op: "create", key: "c", value: "see", want: "ok"},
		{op: "keys", want: "keys a,c"},
		{op: "del", key: "c", want: "ok"},
		{op: "get", key: "a", want: "found two rev=2"},
	}
	var inputs [][]chain.Input
	var replies, states [][]byte
	for k, s := range steps {
		before, beforeFound, _ := mem.Get(ctx, own, s.key)
		reply, err := a.Request(ctx, notesMsg(s.op, s.ns, s.key, s.value, s.rev))
		in, _ := rec.Take()
		ws := rec.Writes()
		if s.want == "" {
			if err == nil {
				t.Fatalf("step %d: %s did not fail", k, s.op)
			}
			// A write is held until its handler's event is durable: a
			// failed handler's write never reaches the store.
			if _, found, _ := mem.Get(ctx, own, s.key); found {
				t.Fatalf("step %d: a failed handler's write is in the store", k)
			}
			rec.Drop(ws)
		} else {
			if err != nil {
				t.Fatalf("step %d: %v", k, err)
			}
			if got, _, _ := guest.ReadString(reply); got != s.want {
				t.Fatalf("step %d %s: %q, want %q", k, s.op, got, s.want)
			}
			// Until the owner applies them, the writes are the actor's only.
			if now, found, _ := mem.Get(ctx, own, s.key); found != beforeFound || now.Revision != before.Revision {
				t.Fatalf("step %d: the write reached the store before its handler's event was durable", k)
			}
			if err := rec.Apply(ctx, "notes", uint64(k+2), ws); err != nil {
				t.Fatal(err)
			}
		}
		if got := len(WritesOf(in)); got != len(ws) {
			t.Fatalf("step %d: WritesOf finds %d writes, the recorder held %d", k, got, len(ws))
		}
		inputs, replies, states = append(inputs, in), append(replies, reply), append(states, a.State())
	}
	a.Stop(ctx)

	// Replay with no store at all: every answer comes from the record.
	var p player
	b, err := rt.Spawn(ctx, actor.Spec{ID: "notes", Module: mod, Capabilities: []string{"store"}, Store: playStore{p: &p}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Stop(ctx)
	for k, s := range steps {
		p.load(uint64(k+1), inputs[k])
		reply, err := b.Request(ctx, notesMsg(s.op, s.ns, s.key, s.value, s.rev))
		if (err != nil) != (s.want == "") {
			t.Fatalf("step %d: %v", k, err)
		}
		if p.div != nil || p.next != len(inputs[k]) {
			t.Fatalf("step %d: divergence %+v, %d of %d inputs", k, p.div, p.next, len(inputs[k]))
		}
		if !bytes.Equal(reply, replies[k]) || !bytes.Equal(b.State(), states[k]) {
			t.Fatalf("step %d: reply %q state %x, live %q %x", k, reply, b.State(), replies[k], states[k])
		}
	}
	// A guest that asks for another key than the record diverges.
	p.load(99, inputs[1])
	if _, err := b.Request(ctx, notesMsg("get", "", "other", "", 0)); err != nil {
		t.Fatal(err)
	}
	if p.div == nil || p.div.What != DivergedInput {
		t.Fatalf("divergence %+v", p.div)
	}
}

func TestDecodeStoreRejectsNonCanonical(t *testing.T) {
	good := encodeStore(storeCall{op: "put", ns: "actor.a", key: "k", value: []byte("v"), cond: actor.StoreCondition{Kind: actor.StoreIfRevision, Revision: 3}}, nil, nil)
	c, _, serr, err := decodeStore(good)
	if err != nil || serr != nil || c.op != "put" || string(c.value) != "v" || c.cond.Revision != 3 {
		t.Fatalf("%v %v %+v", err, serr, c)
	}
	conflict := encodeStore(storeCall{op: "get", ns: "actor.a", key: "k"}, nil, &actor.StoreConflict{Revision: 9})
	if _, _, serr, err := decodeStore(conflict); err != nil || serr == nil || serr.Case != "conflict" || serr.N != 9 {
		t.Fatalf("conflict: %v %+v", err, serr)
	}
	for _, bad := range [][]byte{nil, {0x80}, append(append([]byte{}, good...), 0), good[:len(good)-1]} {
		if _, _, _, err := decodeStore(bad); !errors.Is(err, ErrMalformedInput) {
			t.Errorf("%x: %v", bad, err)
		}
	}
}

// FuzzDecodeStore: any Data either fails as malformed or decodes to a
// call that encodes back to the same bytes.
func FuzzDecodeStore(f *testing.F) {
	f.Add(encodeStore(storeCall{op: "put", ns: "actor.a", key: "k", value: []byte("v")}, nil, nil))
	entry, _ := actor.EncodeStoreEntry(actor.StoreEntry{Value: []byte("x"), Revision: 4}, true)
	f.Add(encodeStore(storeCall{op: "get", ns: "shared.t", key: "k"}, entry, nil))
	f.Add(encodeStore(storeCall{op: "keys", ns: "actor.a"}, actor.EncodeStoreKeys([]string{"a", "b"}), nil))
	f.Add(encodeStore(storeCall{op: "delete", ns: "actor.a", key: "k", cond: actor.StoreCondition{Kind: actor.StoreAbsent}}, nil, &actor.StoreError{Case: "denied", Text: "x"}))
	big := writeCall(actor.StoreWrite{Namespace: "actor.a", Key: "k", Value: make([]byte, actor.StoreInlineBytes+1)})
	f.Add(encodeStore(big, nil, nil))
	noValue, _ := actor.EncodeStoreEntry(actor.StoreEntry{Revision: 9}, true)
	f.Add(encodeStore(storeCall{op: "get", ns: "actor.a", key: "k", digest: big.digest}, noValue, nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, ok, serr, err := decodeStore(data)
		if errors.Is(err, ErrMalformedInput) {
			return
		}
		var rerr error
		if serr != nil {
			rerr = serr
		}
		if again := encodeStore(c, ok, rerr); !bytes.Equal(again, data) {
			t.Fatalf("%x decoded, encodes to %x", data, again)
		}
	})
}

// TestStoreLaterHandlerWaits: a handler's call on a key an earlier
// handler wrote waits until that write is applied, so the revision it
// reads is the store's.
func TestStoreLaterHandlerWaits(t *testing.T) {
	mod := buildGuest(t, "examples/kv-notes/guest")
	ctx := context.Background()
	rt, err := actor.NewRuntime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	rec := NewRecorder(nil, nil, nil)
	a, err := rt.Spawn(ctx, actor.Spec{ID: "notes", Module: mod, Capabilities: []string{"store"}, Store: rec.Store(actor.NewMemoryStore())})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop(ctx)
	rec.Take()
	if _, err := a.Request(ctx, notesMsg("put", "", "k", "v", 0)); err != nil {
		t.Fatal(err)
	}
	rec.Take()
	ws := rec.Writes()
	got := make(chan string, 1)
	go func() {
		r, err := a.Request(ctx, notesMsg("get", "", "k", "", 0))
		s, _, _ := guest.ReadString(r)
		if err != nil {
			s = err.Error()
		}
		got <- s
	}()
	select {
	case s := <-got:
		t.Fatalf("the get answered %q before the put was applied", s)
	case <-time.After(100 * time.Millisecond): // waiting is the behaviour under test
	}
	if err := rec.Apply(ctx, "notes", 3, ws); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "found v rev=1" {
		t.Fatalf("got %q", s)
	}
}

// FuzzDecodeTimer: any Data either fails as malformed or decodes to an
// op that encodes back to the same bytes.
func FuzzDecodeTimer(f *testing.F) {
	f.Add(encodeTimer(actor.TimerOp{ID: "a", Delay: time.Second, Payload: []byte{0xa1, 'x'}}))
	f.Add(encodeTimer(actor.TimerOp{ID: "b", Cancel: true}))
	f.Fuzz(func(t *testing.T, data []byte) {
		op, err := decodeTimer(data)
		if errors.Is(err, ErrMalformedInput) {
			return
		}
		if again := encodeTimer(op); !bytes.Equal(again, data) {
			t.Fatalf("%x decoded, encodes to %x", data, again)
		}
	})
}

// TestStoreLargeRecord: a put of a large value records its digest, not
// its bytes, and WritesOf gives it back as a write by digest; a digest
// that is not a SHA-256, or on a call that has no value, is malformed.
func TestStoreLargeRecord(t *testing.T) {
	v := bytes.Repeat([]byte("z"), actor.StoreInlineBytes+1)
	data := encodeStore(writeCall(actor.StoreWrite{Namespace: "actor.a", Key: "k", Value: v}), nil, nil)
	if len(data) > 200 || bytes.Contains(data, v[:64]) {
		t.Fatalf("a large put records %d bytes", len(data))
	}
	small := encodeStore(writeCall(actor.StoreWrite{Namespace: "actor.a", Key: "k", Value: v[:actor.StoreInlineBytes]}), nil, nil)
	if !bytes.Contains(small, v[:actor.StoreInlineBytes]) {
		t.Fatal("a put at the inline size does not record its bytes")
	}
	ws := WritesOf([]chain.Input{{Call: CallStore, Data: data}})
	if len(ws) != 1 || ws[0].Value != nil || ws[0].Digest != actor.StoreDigest(v) {
		t.Fatalf("WritesOf: %+v", ws)
	}
	for _, c := range []storeCall{
		{op: "put", ns: "actor.a", key: "k", digest: "abc"},
		{op: "keys", ns: "actor.a", digest: actor.StoreDigest(v)},
	} {
		ok := []byte{0xc0}
		if c.op == "keys" {
			ok = actor.EncodeStoreKeys(nil)
		}
		if _, _, _, err := decodeStore(encodeStore(c, ok, nil)); !errors.Is(err, ErrMalformedInput) {
			t.Errorf("%+v: %v", c, err)
		}
	}
}
