package node_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/actor/replay"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// bigNotesManifest grants values up to 3 MiB: over the store bucket's
// 1 MiB max value size, so the largest only fit as objects.
const bigNotesManifest = `name = "notes"
module = "notes.wasm"
` + notesTypes + `send = "tuple<string, string, string, string, u64>"

[limits]
max_message_bytes = 4194304
memory_pages = 1024

[capabilities.store]
write = ["team"]
max_ops = 10
max_value_bytes = 3145728
`

// storeAssets opens what a test inspects of the store: a KVStore on the
// default layout (for Sweep and Value), the bucket's stream and the
// values object store.
func storeAssets(t testing.TB, js jetstream.JetStream) (*node.KVStore, jetstream.Stream, jetstream.ObjectStore) {
	t.Helper()
	ctx := context.Background()
	l := transport.Layout{}
	if err := l.Ensure(ctx, js, transport.StoreConfig{}); err != nil {
		t.Fatal(err)
	}
	s, err := node.NewKVStore(ctx, js, l.StoreBucket(), l.StoreValuesStore())
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, "KV_"+l.StoreBucket())
	if err != nil {
		t.Fatal(err)
	}
	obs, err := js.ObjectStore(ctx, l.StoreValuesStore())
	if err != nil {
		t.Fatal(err)
	}
	return s, st, obs
}

// objectNames lists the values object store's live objects, sorted.
func objectNames(t testing.TB, obs jetstream.ObjectStore) []string {
	t.Helper()
	infos, err := obs.List(context.Background())
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range infos {
		names = append(names, i.Name)
	}
	return names
}

// TestStoreLargeValues runs kv-notes with values over the inline size
// (and over the bucket's 1 MiB max value) on a node: each is an object
// the key's entry points at by digest, a get returns it whole, an
// overwrite and a delete leave garbage that Sweep removes (and only
// that), the grant's value limit and namespaces still apply, the chain
// records digests, not bytes, and the chain replays offline with the
// values exported beforehand, and diverges, naming the digest, without.
func TestStoreLargeValues(t *testing.T) {
	srv := testServer(t)
	// A Go guest's spawn under the race detector on a loaded machine can
	// take over the defaults' minute.
	n := startNodeCfg(t, srv, node.Config{Name: "n1", SpawnTimeout: 5 * time.Minute})
	c := newClient(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	m, err := manifest.Parse("notes.toml", []byte(bigNotesManifest))
	if err != nil {
		t.Fatal(err)
	}
	mod := notesModule(t)
	if _, err := c.Spawn(ctx, m, mod, nil, client.SpawnOptions{ID: "big"}); err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(connect(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	s, kvStream, obs := storeAssets(t, js)
	call := func(op, ns, key, value string, rev uint64, want string) {
		t.Helper()
		got, err := notesCall(t, c, "big", op, ns, key, value, rev)
		if err != nil {
			t.Fatalf("%s %s: %v", op, key, err)
		}
		if !strings.HasPrefix(got, want) {
			t.Fatalf("%s %s: %.200q, want %.200q", op, key, got, want)
		}
	}
	ab := bytes.Repeat([]byte("ab"), 1<<20) // 2 MiB
	call("fill", "", "a", "ab", 1<<20, "ok")
	e, err := kvStream.GetLastMsgForSubject(ctx, "$KV.theater_store.actor.big.a")
	if err != nil {
		t.Fatal(err)
	}
	if d := e.Header.Get(node.StoreObjectHeader); d != actor.StoreDigest(ab) || len(e.Data) != 0 {
		t.Fatalf("entry of a: header %q, %d bytes; want digest %s and no bytes", d, len(e.Data), actor.StoreDigest(ab))
	}
	if info, err := obs.GetInfo(ctx, "actor.big.a/"+actor.StoreDigest(ab)); err != nil || info.Size != uint64(len(ab)) {
		t.Fatalf("object of a: %+v %v", info, err)
	}
	call("size", "", "a", "", 0, "found 2097152 bytes a..b")
	mid := strings.Repeat("m", actor.StoreInlineBytes+1)
	call("put", "", "m", mid, 0, "ok")
	call("get", "", "m", "", 0, "found "+mid+" rev=")
	call("fill", "", "a", "cd", 1<<20, "ok") // a large value over a large one
	call("size", "", "a", "", 0, "found 2097152 bytes c..d")
	call("putget", "", "p", mid, 0, "ok; found "+mid+" rev=0") // the handler reads its own pending large write
	call("put", "", "m", "small", 0, "ok")                     // a small value over a large one
	call("get", "", "m", "", 0, "found small rev=")
	call("fill", "", "b", "x", 3<<20+1, "theater: store: too-large: ")
	call("fill", "secret", "k", "ef", 1<<20, `theater: store: denied: write namespace "secret"`)
	call("fill", "team", "s", "ef", 1<<20, "ok")
	call("del", "team", "s", "", 0, "ok")
	call("size", "team", "s", "", 0, "none")
	if _, found, err := s.Get(ctx, actor.OwnStoreNamespace("big"), "b"); found || err != nil {
		t.Fatalf("a refused value is stored: %v %v", found, err)
	}

	// The chain holds digests: no store input near the values' size.
	evs := chainOf(t, connect(t, srv), "big")
	digests := 0
	for _, e := range evs {
		h, ok := e.Body.(*chain.Handled)
		if !ok {
			continue
		}
		for _, in := range h.Inputs {
			if in.Call != replay.CallStore {
				continue
			}
			if len(in.Data) > actor.StoreInlineBytes+512 {
				t.Fatalf("event %d: a store input of %d bytes", e.Seq, len(in.Data))
			}
			if bytes.Contains(in.Data, []byte("digest")) {
				digests++
			}
		}
	}
	if digests != 9 { // 5 large puts, 4 gets of large values
		t.Fatalf("%d store inputs with a digest, want 9", digests)
	}

	// Export the objects the chain's gets need, then sweep: the live one
	// stays, the overwritten and deleted go, and the grace keeps all.
	exported := actor.NewMemoryStore()
	for _, name := range objectNames(t, obs) {
		k, d, _ := strings.Cut(name, "/")
		parts := strings.SplitN(k, ".", 3) // actor.<id>.<key>, shared.<name>.<key>
		v, ok, err := s.Value(ctx, parts[0]+"."+parts[1], parts[2], d)
		if err != nil || !ok {
			t.Fatalf("value %s: %v %v", name, ok, err)
		}
		if _, err := exported.StageValue(ctx, parts[0]+"."+parts[1], parts[2], v); err != nil {
			t.Fatal(err)
		}
	}
	if k, err := s.Sweep(ctx, time.Hour); err != nil || k != 0 {
		t.Fatalf("sweep within the grace: %d deleted, %v", k, err)
	}
	if k, err := s.Sweep(ctx, 0); err != nil || k != 3 {
		t.Fatalf("sweep: %d deleted, %v; want 3", k, err)
	}
	if names := objectNames(t, obs); len(names) != 2 || !slices.Contains(names, "actor.big.a/"+actor.StoreDigest(bytes.Repeat([]byte("cd"), 1<<20))) ||
		!slices.Contains(names, "actor.big.p/"+actor.StoreDigest([]byte(mid))) {
		t.Fatalf("after the sweep: %v", names)
	}
	call("size", "", "a", "", 0, "found 2097152 bytes c..d")

	if err := n.Close(ctx); err != nil {
		t.Fatal(err)
	}
	srv.Shutdown(ctx)
	spec, err := actor.SpecFromManifest("big", m, nil)
	if err != nil {
		t.Fatal(err)
	}
	spec.Module = mod
	spec.Store = exported
	rep, err := replay.Replay(ctx, newRuntime(t), spec, evs)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.StatesEqual < 15 {
		t.Fatalf("replay with the values: %v", &rep)
	}
	spec.Store = actor.NewMemoryStore()
	rep, err = replay.Replay(ctx, newRuntime(t), spec, evs)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || !strings.Contains(rep.Divergence.Want, "value "+actor.StoreDigest(ab)) {
		t.Fatalf("replay without the values: %v", &rep)
	}
}

// TestKVStoreLargeWriteTorn breaks a large write between its two
// JetStream calls: a compare-and-set whose object is put and whose
// entry the server refuses. The key keeps its value (no torn value),
// the object is garbage that Sweep keeps within the grace and deletes
// after; a write by digest of a value no longer staged fails and
// publishes nothing; and a large write applied twice under one id (a
// restore after a crash), or again by digest alone, is stored once.
func TestKVStoreLargeWriteTorn(t *testing.T) {
	srv := testServer(t)
	ctx := context.Background()
	js, err := jetstream.New(connect(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	s, _, obs := storeAssets(t, js)
	ns := actor.OwnStoreNamespace("a")
	one, two := bytes.Repeat([]byte{1}, 100<<10), bytes.Repeat([]byte{2}, 100<<10)
	if err := s.Write(ctx, actor.StoreWrite{Namespace: ns, Key: "k", Value: one, ID: "w1"}); err != nil {
		t.Fatal(err)
	}
	e, found, err := s.Get(ctx, ns, "k")
	if err != nil || !found || !bytes.Equal(e.Value, one) {
		t.Fatalf("get: %v %v", found, err)
	}
	var conflict *actor.StoreConflict
	err = s.Write(ctx, actor.StoreWrite{Namespace: ns, Key: "k", Value: two, Cond: actor.StoreCondition{Kind: actor.StoreIfRevision, Revision: e.Revision + 7}})
	if !errors.As(err, &conflict) || conflict.Revision != e.Revision {
		t.Fatalf("cas on a wrong revision: %v", err)
	}
	if e2, _, err := s.Get(ctx, ns, "k"); err != nil || !bytes.Equal(e2.Value, one) || e2.Revision != e.Revision {
		t.Fatalf("after the refused entry: revision %d (was %d), err %v", e2.Revision, e.Revision, err)
	}
	if names := objectNames(t, obs); len(names) != 2 {
		t.Fatalf("objects %v, want the live one and the orphan", names)
	}
	if k, err := s.Sweep(ctx, time.Hour); err != nil || k != 0 {
		t.Fatalf("sweep within the grace: %d, %v", k, err)
	}
	if k, err := s.Sweep(ctx, 0); err != nil || k != 1 {
		t.Fatalf("sweep: %d, %v", k, err)
	}
	if e2, _, err := s.Get(ctx, ns, "k"); err != nil || !bytes.Equal(e2.Value, one) {
		t.Fatalf("after the sweep: %v", err)
	}
	// The orphan's digest is gone: a write by it alone must not point at it.
	err = s.Write(ctx, actor.StoreWrite{Namespace: ns, Key: "k", Digest: actor.StoreDigest(two), ID: "w2"})
	if err == nil || !strings.HasPrefix(err.Error(), "node: store write: ") || !strings.Contains(err.Error(), "not staged") {
		t.Fatalf("a write of a swept value: %v", err)
	}
	if e2, _, err := s.Get(ctx, ns, "k"); err != nil || e2.Revision != e.Revision {
		t.Fatalf("after the refused write: revision %d, %v", e2.Revision, err)
	}
	// Applied again, with its bytes and by digest alone: stored once.
	for _, w := range []actor.StoreWrite{
		{Namespace: ns, Key: "k", Value: one, ID: "w1"},
		{Namespace: ns, Key: "k", Digest: actor.StoreDigest(one), ID: "w1"},
	} {
		if err := s.Write(ctx, w); err != nil {
			t.Fatal(err)
		}
		if e2, _, err := s.Get(ctx, ns, "k"); err != nil || e2.Revision != e.Revision || !bytes.Equal(e2.Value, one) {
			t.Fatalf("applied again: revision %d (was %d), %v", e2.Revision, e.Revision, err)
		}
	}
	if names := objectNames(t, obs); len(names) != 1 {
		t.Fatalf("objects %v, want one", names)
	}
}

// TestStoreLargeKill kills a `theater serve` child (SIGKILL) while its
// actor makes large writes, each a staged object and then an entry, and
// resumes the actor on a new node, which applies the latest event's
// writes again (by digest, from the chain). Every key then reads whole
// (one letter, the full length: no torn or dangling value) and holds the
// last value sent to it, and a sweep with no grace leaves exactly the
// live values, all still readable.
func TestStoreLargeKill(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srv := testServer(t)
	child := startServe(t, srv.ClientURL(), "victim")
	c := newClient(t, srv)
	m, err := manifest.Parse("notes.toml", []byte(bigNotesManifest))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Spawn(ctx, m, notesModule(t), nil, client.SpawnOptions{ID: "bk", Node: "victim"}); err != nil {
		t.Fatal(err)
	}
	const sends, keys, size = 40, 4, 300 << 10
	letter := func(i int) string { return string(rune('a' + i%26)) }
	for i := range sends {
		if err := c.Send(ctx, "bk", notesMsg("fill", "", "k"+strconv.Itoa(i%keys), letter(i), size), wire.Msgpack); err != nil {
			t.Fatal(err)
		}
	}
	calls := func() (uint64, error) {
		b, err := c.State(ctx, "bk", wire.JSON)
		if err != nil {
			return 0, err
		}
		var st []any
		if err := json.Unmarshal(b, &st); err != nil || len(st) != 2 {
			return 0, fmt.Errorf("state %s: %v", b, err)
		}
		return uint64(st[0].(float64)), nil
	}
	checkFor(t, 2*time.Minute, func() error {
		if n, err := calls(); err != nil || n < 3 {
			return fmt.Errorf("%d calls handled, %v", n, err)
		}
		return nil
	})
	atKill, _ := calls()
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	startNodeCfg(t, srv, node.Config{Name: "victim", SpawnTimeout: 3 * time.Minute})
	checkFor(t, 3*time.Minute, func() error {
		if n, err := calls(); err != nil || n != sends {
			return fmt.Errorf("%d calls handled, %v", n, err)
		}
		return nil
	})
	js, err := jetstream.New(connect(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	s, _, obs := storeAssets(t, js)
	check := func() {
		t.Helper()
		for k := range keys {
			want := bytes.Repeat([]byte(letter(sends-keys+k)), size)
			e, found, err := s.Get(ctx, actor.OwnStoreNamespace("bk"), "k"+strconv.Itoa(k))
			if err != nil || !found || !bytes.Equal(e.Value, want) {
				t.Fatalf("k%d: found %v, %d bytes starting %.8q, %v; want %d of %q", k, found, len(e.Value), e.Value, err, size, letter(sends-keys+k))
			}
		}
	}
	check()
	swept, err := s.Sweep(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("killed after at least %d of %d calls; the sweep deleted %d values", atKill, sends, swept)
	if names := objectNames(t, obs); len(names) != keys {
		t.Fatalf("after the sweep: %v", names)
	}
	check()
}

// TestKVStoreWithoutDirectGet: on a bucket whose stream does not allow
// direct gets (edited by an operator), gets go through the stream API
// and answer the same: a value, a large value, a deleted and a missing key.
func TestKVStoreWithoutDirectGet(t *testing.T) {
	srv := testServer(t)
	ctx := context.Background()
	js, err := jetstream.New(connect(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	_, kvStream, _ := storeAssets(t, js)
	cfg := kvStream.CachedInfo().Config
	cfg.AllowDirect = false
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	l := transport.Layout{}
	s, err := node.NewKVStore(ctx, js, l.StoreBucket(), l.StoreValuesStore())
	if err != nil {
		t.Fatal(err)
	}
	ns := actor.OwnStoreNamespace("a")
	big := bytes.Repeat([]byte{7}, actor.StoreInlineBytes+1)
	for _, w := range []actor.StoreWrite{{Namespace: ns, Key: "v", Value: []byte("x")}, {Namespace: ns, Key: "big", Value: big},
		{Namespace: ns, Key: "gone", Value: []byte("y")}, {Namespace: ns, Key: "gone", Delete: true}} {
		if err := s.Write(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	for key, want := range map[string][]byte{"v": []byte("x"), "big": big, "gone": nil, "missing": nil} {
		e, found, err := s.Get(ctx, ns, key)
		if err != nil || found != (want != nil) || !bytes.Equal(e.Value, want) || found && e.Revision == 0 {
			t.Fatalf("%s: found %v, %d bytes, revision %d, %v", key, found, len(e.Value), e.Revision, err)
		}
	}
}

// TestSweepRestagedValue sets a key A → B → A while a sweep's listing
// is old: the listing saw A's object stale and unreferenced, the write
// back to A staged its bytes again (its entry not yet published) before
// the sweep reached it. The sweep must read the object's age again and
// keep it, or the entry then published points at nothing.
func TestSweepRestagedValue(t *testing.T) {
	srv := testServer(t)
	ctx := context.Background()
	js, err := jetstream.New(connect(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	s, _, obs := storeAssets(t, js)
	ns := actor.OwnStoreNamespace("a")
	a, b := bytes.Repeat([]byte{'a'}, 100<<10), bytes.Repeat([]byte{'b'}, 100<<10)
	if err := s.Write(ctx, actor.StoreWrite{Namespace: ns, Key: "k", Value: a, ID: "w1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, actor.StoreWrite{Namespace: ns, Key: "k", Value: b, ID: "w2"}); err != nil {
		t.Fatal(err)
	}
	const grace = 2 * time.Second
	infos, err := obs.List(ctx)
	if err != nil || len(infos) != 2 {
		t.Fatalf("listing: %d objects, %v", len(infos), err)
	}
	// The listing must be older than the grace for A's object to be a
	// candidate: wait for the clock, not for a goroutine.
	for _, i := range infos {
		if d := grace - time.Since(i.ModTime); d > 0 {
			time.Sleep(d)
		}
	}
	if _, err := s.StageValue(ctx, ns, "k", a); err != nil {
		t.Fatal(err)
	}
	if k, err := node.SweepListed(ctx, s, infos, grace); err != nil || k != 0 {
		t.Fatalf("sweep of the old listing deleted %d objects (%v); A's was staged again after it", k, err)
	}
	if err := s.Write(ctx, actor.StoreWrite{Namespace: ns, Key: "k", Digest: actor.StoreDigest(a), ID: "w3"}); err != nil {
		t.Fatal(err)
	}
	if e, found, err := s.Get(ctx, ns, "k"); err != nil || !found || !bytes.Equal(e.Value, a) {
		t.Fatalf("get after A → B → A: found %v, %v", found, err)
	}
}
