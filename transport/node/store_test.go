package node_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/guest"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/actor/replay"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

var notesWasm = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "notes")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "notes.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, "./examples/kv-notes/guest")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, errors.New(string(msg))
	}
	return os.ReadFile(out)
})

const notesTypes = `[types]
request = "tuple<string, string, string, string, u64>"
reply = "string"
state = "tuple<u64, string>"
`

const notesManifest = `name = "notes"
module = "notes.wasm"
` + notesTypes + `
[capabilities.store]
write = ["team"]
max_ops = 10
`

func notesModule(t testing.TB) []byte {
	t.Helper()
	b, err := notesWasm()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func notesMsg(op, ns, key, value string, rev uint64) []byte {
	b := guest.AppendArrayHeader(nil, 5)
	for _, s := range []string{op, ns, key, value} {
		b = guest.AppendString(b, s)
	}
	return guest.AppendUint(b, rev)
}

func notesCall(t testing.TB, c *client.Client, id, op, ns, key, value string, rev uint64) (string, error) {
	t.Helper()
	r, err := c.Request(context.Background(), id, notesMsg(op, ns, key, value, rev), wire.Msgpack)
	if err != nil {
		return "", err
	}
	s, _, err := guest.ReadString(r)
	if err != nil {
		t.Fatalf("reply %x", r)
	}
	return s, nil
}

// TestStoreOnNode runs the kv-notes example on a node against a real
// JetStream KV bucket: each answer, the bucket's content once the reply
// is released (writes are applied before it), a failed handler that
// leaves no write behind, and the chain replayed with the server gone,
// every state equal.
func TestStoreOnNode(t *testing.T) {
	srv := testServer(t)
	n := startNode(t, srv, "n1")
	c := newClient(t, srv)
	ctx := context.Background()
	m, err := manifest.Parse("notes.toml", []byte(notesManifest))
	if err != nil {
		t.Fatal(err)
	}
	mod := notesModule(t)
	if _, err := c.Spawn(ctx, m, mod, nil, client.SpawnOptions{ID: "notes"}); err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(connect(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, transport.Layout{}.StoreBucket())
	if err != nil {
		t.Fatal(err)
	}
	valueOf := func(key string) string {
		e, err := kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return "<none>"
		}
		if err != nil {
			t.Fatal(err)
		}
		return string(e.Value())
	}
	var rev1 uint64
	for _, s := range []struct {
		op, ns, key, value string
		rev                uint64
		want, stored       string
	}{
		{"put", "", "a", "one", 0, "ok", "one"},
		{"putget", "", "b", "bee", 0, "ok; found bee rev=0", "bee"},
		{"create", "", "a", "x", 0, "theater: store: conflict: ", "one"},
		{"cas", "", "a", "two", 99, "theater: store: conflict: ", "one"},
		{"get", "", "a", "", 0, "found one rev=", "one"},
		{"cas", "", "a", "two", 0, "ok", "two"}, // rev filled in below
		{"del", "", "b", "", 0, "ok", "<none>"},
		{"create", "", "b", "again", 0, "ok", "again"}, // create-only over a delete
		{"keys", "", "", "", 0, "keys a,b", "again"},
		{"put", "team", "t", "shared", 0, "ok", "shared"},
		{"put", "secret", "t", "x", 0, `theater: store: denied: write namespace "secret"`, "<none>"},
		{"many", "", "a", "11", 0, "call 11: theater: store: budget: 10", "two"},
	} {
		if s.op == "cas" && s.rev == 0 {
			s.rev = rev1
		}
		got, err := notesCall(t, c, "notes", s.op, s.ns, s.key, s.value, s.rev)
		if err != nil {
			t.Fatalf("%s %s: %v", s.op, s.key, err)
		}
		if !strings.HasPrefix(got, s.want) {
			t.Fatalf("%s %s: %q, want %q", s.op, s.key, got, s.want)
		}
		if s.op == "get" {
			e, _ := kv.Get(ctx, "actor.notes.a")
			rev1 = e.Revision()
			if got != "found one rev="+strings.TrimSpace(strings.TrimPrefix(got, "found one rev=")) || e == nil {
				t.Fatalf("get: %q", got)
			}
		}
		key := "actor.notes." + s.key
		if s.ns == "team" || s.ns == "secret" {
			key = "shared." + s.ns + "." + s.key
		}
		if s.key != "" {
			if v := valueOf(key); v != s.stored {
				t.Fatalf("%s %s: the bucket holds %q, want %q", s.op, s.key, v, s.stored)
			}
		}
	}
	// A failed handler leaves no write behind.
	if _, err := notesCall(t, c, "notes", "putfail", "", "lost", "x", 0); err == nil {
		t.Fatal("putfail did not fail")
	}
	if got, _ := notesCall(t, c, "notes", "get", "", "lost", "", 0); got != "none" || valueOf("actor.notes.lost") != "<none>" {
		t.Fatalf("after a failed handler: %q, bucket %q", got, valueOf("actor.notes.lost"))
	}

	// Replay the chain with the server stopped: every answer comes from
	// the recorded inputs.
	evs := chainOf(t, connect(t, srv), "notes")
	if err := n.Close(ctx); err != nil { // before the server goes: its Close would wait on it
		t.Fatal(err)
	}
	srv.Shutdown(ctx)
	spec, err := actor.SpecFromManifest("notes", m, nil)
	if err != nil {
		t.Fatal(err)
	}
	spec.Module = mod
	rep, err := replay.Replay(ctx, newRuntime(t), spec, evs)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.StatesEqual < 14 {
		t.Fatalf("replay: %v", &rep)
	}
	stores := 0
	for _, e := range evs {
		if h, ok := e.Body.(*chain.Handled); ok {
			for _, in := range h.Inputs {
				if in.Call == replay.CallStore {
					stores++
				}
			}
		}
	}
	if stores < 20 {
		t.Fatalf("%d store inputs in the chain", stores)
	}
}

// TestStoreRefusedOnNode: a module that imports store under a manifest
// without [capabilities.store] is refused at spawn, naming the import.
func TestStoreRefusedOnNode(t *testing.T) {
	srv := testServer(t)
	startNode(t, srv, "n1")
	c := newClient(t, srv)
	m, err := manifest.Parse("notes.toml", []byte("name = \"notes\"\nmodule = \"notes.wasm\"\n"+notesTypes))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Spawn(context.Background(), m, notesModule(t), nil, client.SpawnOptions{ID: "notes"})
	if err == nil || !strings.Contains(err.Error(), "theater:actor/store@0.1.0") {
		t.Fatalf("got %v", err)
	}
}

// TestKVStoreConditions drives the node's KVStore against a real
// server: create-only, compare-and-set, create-only over a delete, and
// a conditional write applied twice under one id stored once.
func TestKVStoreConditions(t *testing.T) {
	srv := testServer(t)
	ctx := context.Background()
	js, err := jetstream.New(connect(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	l := transport.Layout{}
	if err := l.Ensure(ctx, js, transport.StoreConfig{}); err != nil {
		t.Fatal(err)
	}
	s, err := node.NewKVStore(ctx, js, l.StoreBucket(), l.StoreValuesStore())
	if err != nil {
		t.Fatal(err)
	}
	ns := actor.OwnStoreNamespace("a")
	w := func(key, val string, del bool, cond actor.StoreCondition, id string) error {
		return s.Write(ctx, actor.StoreWrite{Namespace: ns, Key: key, Value: []byte(val), Delete: del, Cond: cond, ID: id})
	}
	absent := actor.StoreCondition{Kind: actor.StoreAbsent}
	at := func(r uint64) actor.StoreCondition {
		return actor.StoreCondition{Kind: actor.StoreIfRevision, Revision: r}
	}
	if err := w("k", "1", false, absent, ""); err != nil {
		t.Fatal(err)
	}
	e, found, err := s.Get(ctx, ns, "k")
	if err != nil || !found || string(e.Value) != "1" {
		t.Fatalf("get: %+v %v %v", e, found, err)
	}
	var c *actor.StoreConflict
	if err := w("k", "2", false, absent, ""); !errors.As(err, &c) || c.Revision != e.Revision {
		t.Fatalf("create over a value: %v", err)
	}
	if err := w("k", "2", false, at(e.Revision+5), ""); !errors.As(err, &c) || c.Revision != e.Revision {
		t.Fatalf("cas on a wrong revision: %v", err)
	}
	if err := w("k", "2", false, at(e.Revision), "id-1"); err != nil {
		t.Fatal(err)
	}
	e2, _, _ := s.Get(ctx, ns, "k")
	// The same write again (a restore after a crash): stored once.
	if err := w("k", "2", false, at(e.Revision), "id-1"); err != nil {
		t.Fatalf("applied again: %v", err)
	}
	if e3, _, _ := s.Get(ctx, ns, "k"); e3.Revision != e2.Revision {
		t.Fatalf("applied again: revision %d, was %d", e3.Revision, e2.Revision)
	}
	if err := w("k", "", true, actor.StoreCondition{}, "id-2"); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := s.Get(ctx, ns, "k"); found {
		t.Fatal("deleted key found")
	}
	if err := w("k", "3", false, absent, ""); err != nil {
		t.Fatalf("create over a delete: %v", err)
	}
	if err := w("k", "4", false, at(1), ""); !errors.As(err, &c) {
		t.Fatalf("cas after create: %v", err)
	}
	if err := w("x", "1", false, at(3), ""); !errors.As(err, &c) || c.Revision != 0 {
		t.Fatalf("cas on a missing key: %v", err)
	}
	if keys, err := s.Keys(ctx, ns); err != nil || strings.Join(keys, ",") != "k" {
		t.Fatalf("keys %v %v", keys, err)
	}
	if keys, err := s.Keys(ctx, actor.OwnStoreNamespace("b")); err != nil || len(keys) != 0 {
		t.Fatalf("empty namespace: %v %v", keys, err)
	}
}
