package actor_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/abi"
	"github.com/theater-go/theater/actor/guest"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/wit/codec"
)

const notesGuest = "examples/kv-notes/guest"

// notesReq is the kv-notes request [op, namespace, key, value, revision].
func notesReq(op, ns, key, value string, rev uint64) []byte {
	b := guest.AppendArrayHeader(nil, 5)
	for _, s := range []string{op, ns, key, value} {
		b = guest.AppendString(b, s)
	}
	return guest.AppendUint(b, rev)
}

func notesAsk(t testing.TB, a *actor.Actor, op, ns, key, value string, rev uint64) string {
	t.Helper()
	r, err := a.Request(context.Background(), notesReq(op, ns, key, value, rev))
	if err != nil {
		t.Fatalf("%s %s: %v", op, key, err)
	}
	s, _, err := guest.ReadString(r)
	if err != nil {
		t.Fatalf("reply %x", r)
	}
	return s
}

func spawnNotes(t testing.TB, rt *actor.Runtime, id string, s actor.Store, g actor.StoreGrant) *actor.Actor {
	t.Helper()
	a, err := rt.Spawn(context.Background(), actor.Spec{ID: id, Module: goGuest(t, notesGuest),
		Capabilities: []string{"store"}, Store: s, StoreGrant: g})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	return a
}

// TestStoreCapability drives theater:actor/store from a real Go guest:
// get, put, create-only, compare-and-set, delete and list-keys with
// revisions, in the actor's own namespace and a shared one.
func TestStoreCapability(t *testing.T) {
	s := actor.NewMemoryStore()
	a := spawnNotes(t, newRuntime(t), "notes", s, actor.StoreGrant{Write: []string{"team"}})
	for _, tc := range []struct {
		op, ns, key, value string
		rev                uint64
		want               string
	}{
		{"get", "", "a", "", 0, "none"},
		{"put", "", "a", "one", 0, "ok"},
		{"get", "", "a", "", 0, "found one rev=1"},
		{"create", "", "a", "two", 0, "theater: store: conflict: 1"},
		{"create", "", "b", "bee", 0, "ok"},
		{"cas", "", "a", "three", 7, "theater: store: conflict: 1"},
		{"cas", "", "a", "three", 1, "ok"},
		{"get", "", "a", "", 0, "found three rev=3"},
		{"cas", "", "zz", "x", 4, "theater: store: conflict: 0"},
		{"keys", "", "", "", 0, "keys a,b"},
		{"del", "", "b", "", 0, "ok"},
		{"keys", "", "", "", 0, "keys a"},
		{"put", "team", "a", "shared", 0, "ok"},
		{"get", "team", "a", "", 0, "found shared rev=5"},
		{"get", "", "a", "", 0, "found three rev=3"},
		{"keys", "team", "", "", 0, "keys a"},
		{"put", "", "dir/x=1.y", "ok", 0, "ok"},
	} {
		if got := notesAsk(t, a, tc.op, tc.ns, tc.key, tc.value, tc.rev); got != tc.want {
			t.Errorf("%s %q %q: %q, want %q", tc.op, tc.ns, tc.key, got, tc.want)
		}
	}
	// The own namespace is the actor's: another actor does not see it.
	if e, ok, _ := s.Get(context.Background(), actor.OwnStoreNamespace("notes"), "a"); !ok || string(e.Value) != "three" {
		t.Fatalf("own namespace holds %q %v", e.Value, ok)
	}
	b := spawnNotes(t, newRuntime(t), "other", s, actor.StoreGrant{Read: []string{"team"}})
	if got := notesAsk(t, b, "get", "", "a", "", 0); got != "none" {
		t.Errorf("another actor's own namespace: %q", got)
	}
}

// TestStoreLimits: each bound of the grant as the store.error the guest
// gets: namespaces not granted, a read-only namespace written, key and
// value sizes, malformed keys and namespaces, and the per-handler budget.
func TestStoreLimits(t *testing.T) {
	a := spawnNotes(t, newRuntime(t), "notes", actor.NewMemoryStore(),
		actor.StoreGrant{Read: []string{"kb"}, MaxKeyBytes: 8, MaxValueBytes: 4, MaxOps: 3})
	for _, tc := range []struct{ op, ns, key, value, want string }{
		{"get", "secret", "a", "", `theater: store: denied: read namespace "secret"`},
		{"put", "kb", "a", "x", `theater: store: denied: write namespace "kb"`},
		{"get", "kb", "a", "", "none"},
		{"put", "", "123456789", "x", "theater: store: too-large: actor: message too large: 9 bytes, limit 8"},
		{"put", "", "a", "12345", "theater: store: too-large: actor: message too large: 5 bytes, limit 4"},
		{"put", "", "a.", "x", `theater: store: invalid: key "a." has an empty dot-separated part`},
		{"put", "", "a b", "x", `theater: store: invalid: key "a b": byte 1 is not one of`},
		{"get", "a.b", "a", "", `theater: store: invalid: namespace "a.b"`},
		{"get", "", "", "", "theater: store: invalid: empty key"},
		{"many", "", "a", "3", "ok"},
		{"many", "", "a", "4", "call 4: theater: store: budget: 3"},
	} {
		if got := notesAsk(t, a, tc.op, tc.ns, tc.key, tc.value, 0); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s %q %q: %q, want %q", tc.op, tc.ns, tc.key, got, tc.want)
		}
	}
}

// TestStoreRefusedWithoutGrant: a module that imports store without the
// grant is refused at spawn, naming the import.
func TestStoreRefusedWithoutGrant(t *testing.T) {
	_, err := newRuntime(t).Spawn(context.Background(), actor.Spec{ID: "notes", Module: goGuest(t, notesGuest)})
	if !errors.Is(err, actor.ErrRefused) || !strings.Contains(err.Error(), "theater:actor/store@0.1.0") {
		t.Fatalf("got %v", err)
	}
}

// TestStoreUnavailable: granted but with no Store, the imports answer
// "unavailable", which the SDK reports as that status.
func TestStoreUnavailable(t *testing.T) {
	a := spawnNotes(t, newRuntime(t), "notes", nil, actor.StoreGrant{})
	if got := notesAsk(t, a, "get", "", "a", "", 0); !strings.Contains(got, "unavailable") {
		t.Fatalf("got %q", got)
	}
}

// TestStoreFromManifest: [capabilities.store] becomes the grant, with the
// defaults for what it leaves out.
func TestStoreFromManifest(t *testing.T) {
	m, err := manifest.Parse("notes.toml", []byte("name = \"notes\"\nmodule = \"notes.wasm\"\n[capabilities.store]\nwrite = [\"team\"]\nmax_ops = 7\n"))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := actor.SpecFromManifest("notes", m, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := spec.StoreGrant
	if !strings.Contains(strings.Join(spec.Capabilities, ","), "store") || g.MaxOps != 7 || g.Write[0] != "team" ||
		g.MaxKeyBytes != manifest.DefaultStoreMaxKeyBytes || g.MaxValueBytes != manifest.DefaultStoreMaxValueBytes {
		t.Fatalf("spec %+v", spec)
	}
}

// TestSDKCapabilities builds the C and AssemblyScript SDKs' test actors
// (the flags of scripts/build-guests) and checks what each wrapper of
// store, config, http-client, channel and log.write-fields returns
// against the host's encodings.
func TestSDKCapabilities(t *testing.T) {
	for _, lang := range []string{"c", "assemblyscript"} {
		t.Run(lang, func(t *testing.T) { checkSDKCapabilities(t, sdkCapsGuest(t, lang)) })
	}
}

func sdkCapsGuest(t *testing.T, lang string) []byte {
	out := filepath.Join(t.TempDir(), "caps.wasm")
	var cmd *exec.Cmd
	if lang == "c" {
		clang, err := exec.LookPath("clang")
		if err != nil {
			t.Skipf("clang not installed (scripts/install-toolchains): %v", err)
		}
		cmd = exec.Command(clang, "--target=wasm32-wasi", "--sysroot=/usr", "-mexec-model=reactor", "-std=c11", "-O2",
			"-Wall", "-Wextra", "-Werror", "-Wl,--strip-all", "-I", "guest/c", "-o", out, "guest/c/testdata/caps.c", "guest/c/theater.c")
	} else {
		asc, err := filepath.Abs("guest/assemblyscript/node_modules/.bin/asc")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(asc); err != nil {
			t.Skipf("asc not installed (scripts/install-toolchains): %v", err)
		}
		cmd = exec.Command(asc, "caps.ts", "-o", out, "-O3", "--noAssert", "--runtime", "stub", "--use", "abort=")
		cmd.Dir = "guest/assemblyscript/testdata"
	}
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", lang, err, msg)
	}
	mod, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return mod
}

func checkSDKCapabilities(t *testing.T, mod []byte) {
	hc, err := actor.NewHTTPClient(actor.HTTPPolicy{Hosts: []string{"example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	chans := &heldChannels{}
	logs := &recordLogs{}
	a, err := newRuntime(t).Spawn(context.Background(), actor.Spec{ID: "c", Module: mod,
		Capabilities: []string{"store", "config", "http-client", "channel", "log"}, Store: actor.NewMemoryStore(), HTTP: hc,
		ConfigValues: map[string]string{"model": "small-1"},
		Channels:     chans, AllowPublish: func(topic string) bool { return topic == "jobs.a" }, Logger: slog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop(context.Background())
	reply, err := a.Request(context.Background(), []byte{0xc0})
	if err != nil {
		t.Fatal(err)
	}
	if n, rest, err := guest.ReadArrayHeader(reply); err != nil || n != 12 {
		t.Fatalf("reply %x", reply)
	} else {
		reply = rest
	}
	entry, _ := actor.EncodeStoreEntry(actor.StoreEntry{Value: []byte("1"), Revision: 1}, true)
	conflict, _ := actor.EncodeStoreError(&actor.StoreError{Case: "conflict", N: 1})
	denied, _ := actor.EncodeStoreError(&actor.StoreError{Case: "denied", Text: `read namespace "team"`})
	for k, want := range []struct {
		st   int64
		data []byte
	}{
		{0, nil}, {0, entry}, {1, conflict}, {0, nil}, {0, actor.EncodeStoreKeys([]string{"a"})}, {0, nil},
		{1, denied}, {0, []byte("small-1")}, {1, nil},
		{0, nil}, {1, []byte("\x81\xa6denied\xa5other")}, {0, nil},
	} {
		n, rest, err := guest.ReadArrayHeader(reply)
		if err != nil || n != 2 {
			t.Fatalf("call %d: reply %x", k, reply)
		}
		st, rest, err := guest.ReadInt(rest)
		if err != nil {
			t.Fatalf("call %d: %v", k, err)
		}
		data, rest, err := guest.ReadBytes(rest)
		if err != nil {
			t.Fatalf("call %d: %v", k, err)
		}
		reply = rest
		if st != want.st || want.data != nil && !bytes.Equal(data, want.data) {
			t.Errorf("call %d: status %d %x, want %d %x", k, st, data, want.st, want.data)
		}
		if k == 8 {
			if e, _, _ := guest.ReadMapHeader(data); e != 1 || !bytes.Contains(data, []byte("denied")) {
				t.Errorf("http: %x", data)
			}
		}
	}
	if len(chans.pub) != 1 || chans.pub[0].Topic != "jobs.a" || string(chans.pub[0].Payload) != "\xa2hi" {
		t.Errorf("publications %+v", chans.pub)
	}
	logs.mu.Lock()
	defer logs.mu.Unlock()
	found := false
	for _, r := range logs.recs {
		r.Attrs(func(at slog.Attr) bool {
			found = found || r.Message == "fields" && at.Key == "k" && at.Value.String() == "v"
			return true
		})
	}
	if !found {
		t.Error("no log line with the field k=v")
	}
}

// TestEncodeStoreEntryCanonical: the hand-written entry encoding is the
// codec's canonical form of store.entry.
func TestEncodeStoreEntryCanonical(t *testing.T) {
	a, err := abi.Load()
	if err != nil {
		t.Fatal(err)
	}
	typ, _ := a.Type("store", "entry")
	for _, e := range []actor.StoreEntry{{}, {Value: []byte("x"), Revision: 1}, {Value: bytes.Repeat([]byte{7}, 300), Revision: 1 << 40}, {Value: make([]byte, 70000), Revision: 128}} {
		b, err := actor.EncodeStoreEntry(e, true)
		if err != nil {
			t.Fatal(err)
		}
		canon, err := codec.Canonical(typ, b)
		if err != nil || !bytes.Equal(canon, b) {
			t.Fatalf("%d bytes rev %d: %x is not canonical (%v)", len(e.Value), e.Revision, b[:min(len(b), 24)], err)
		}
		if got, found, err := actor.DecodeStoreEntry(b); err != nil || !found || got.Revision != e.Revision || len(got.Value) != len(e.Value) {
			t.Fatalf("round trip: %+v %v %v", got, found, err)
		}
	}
}

// TestMemoryStoreStaged: a large value staged and then written by its
// digest alone becomes the key's value; a write by a digest never
// staged is refused and changes nothing; Value answers by digest.
func TestMemoryStoreStaged(t *testing.T) {
	ctx := context.Background()
	s := actor.NewMemoryStore()
	ns := actor.OwnStoreNamespace("a")
	v := bytes.Repeat([]byte("v"), actor.StoreInlineBytes+1)
	d, err := s.StageValue(ctx, ns, "k", v)
	if err != nil || d != actor.StoreDigest(v) {
		t.Fatalf("stage: %s %v", d, err)
	}
	if _, found, _ := s.Get(ctx, ns, "k"); found {
		t.Fatal("a staged value is visible before its write")
	}
	if err := s.Write(ctx, actor.StoreWrite{Namespace: ns, Key: "k", Digest: d}); err != nil {
		t.Fatal(err)
	}
	if e, found, err := s.Get(ctx, ns, "k"); err != nil || !found || !bytes.Equal(e.Value, v) {
		t.Fatalf("get: %v %v", found, err)
	}
	other := actor.StoreDigest([]byte("other"))
	if err := s.Write(ctx, actor.StoreWrite{Namespace: ns, Key: "k", Digest: other}); !errors.Is(err, actor.ErrInvalidMessage) || !strings.HasPrefix(err.Error(), "actor: ") {
		t.Fatalf("a write of a value never staged: %v", err)
	}
	if e, _, _ := s.Get(ctx, ns, "k"); !bytes.Equal(e.Value, v) {
		t.Fatal("a refused write changed the value")
	}
	if got, ok, err := s.Value(ctx, ns, "k", d); err != nil || !ok || !bytes.Equal(got, v) {
		t.Fatalf("value: %v %v", ok, err)
	}
	if _, ok, _ := s.Value(ctx, ns, "k", other); ok {
		t.Fatal("a value never staged is found")
	}
}
