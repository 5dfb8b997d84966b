package manifest_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/supervisor"
)

// TestLoadTree loads a tree with every kind of child and checks what the
// loader fills in: paths resolved, manifests loaded, restart fields from
// the manifest's [supervision] unless the tree sets them.
func TestLoadTree(t *testing.T) {
	tr, err := manifest.LoadTree("testdata/tree/tree.toml")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("testdata", "tree")
	if tr.Name != "root" || tr.Strategy != supervisor.RestForOne || tr.Intensity != 3 || time.Duration(tr.Period) != 10*time.Second {
		t.Errorf("root %+v", tr)
	}
	if b := tr.Backoff; b == nil || time.Duration(b.Initial) != 100*time.Millisecond || time.Duration(b.Max) != 2*time.Second || b.Multiplier != 2 {
		t.Errorf("backoff %+v", tr.Backoff)
	}
	if len(tr.Children) != 3 {
		t.Fatalf("%d children", len(tr.Children))
	}
	w := tr.Children[0]
	if w.Manifest != filepath.Join(dir, "worker.toml") || w.Actor == nil || w.Actor.Module != filepath.Join(dir, "worker.wasm") {
		t.Errorf("worker %+v", w)
	}
	if w.Restart != supervisor.Transient || w.StartFrom != supervisor.StartInitial {
		t.Errorf("worker restart %q from %q, want the manifest's transient from initial", w.Restart, w.StartFrom)
	}
	c := tr.Children[1]
	if c.Actor.Name != "cache" || c.Actor.Limits.MemoryPages != 16 || c.Restart != supervisor.Permanent || c.StartFrom != supervisor.StartLast || time.Duration(c.Shutdown) != time.Second {
		t.Errorf("inline child %+v %+v", c, c.Actor)
	}
	if _, ok := c.Actor.ModuleDigest(); !ok {
		t.Errorf("a digest module was resolved as a path: %q", c.Actor.Module)
	}
	team := tr.Children[2].Supervisor
	if team == nil || team.Name != "team" || team.Strategy != supervisor.OneForAll || len(team.Children) != 2 {
		t.Fatalf("nested %+v", team)
	}
	if a := team.Children[0]; a.StartFrom != supervisor.StartInitial || a.Restart != supervisor.Transient {
		t.Errorf("nested a: the tree's start_from wins, the manifest fills restart: %+v", a)
	}
	if b := team.Children[1]; b.Restart != supervisor.Temporary || b.Actor.Module != filepath.Join(dir, "b.wasm") {
		t.Errorf("nested b %+v", b)
	}
}

// child is a supervisor.Child that records its starts.
type child struct {
	id  string
	log *[]string
}

func (c child) Start(_ context.Context, from supervisor.StartFrom, _ func(error)) error {
	*c.log = append(*c.log, "start "+c.id+" "+string(from))
	return nil
}

func (c child) Stop(context.Context) error {
	*c.log = append(*c.log, "stop "+c.id)
	return nil
}

// TestBuildTree builds the supervisors of a loaded tree and runs them:
// children start depth first in order and stop in reverse.
func TestBuildTree(t *testing.T) {
	tr, err := manifest.LoadTree("testdata/tree/tree.toml")
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	var modules []string
	sup, err := tr.Build(func(id string, m *manifest.Manifest) (supervisor.Child, error) {
		modules = append(modules, filepath.Base(m.Module))
		return child{id, &log}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := sup.Start(ctx, supervisor.StartInitial, nil); err != nil {
		t.Fatal(err)
	}
	infos, err := sup.WhichChildren(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range infos {
		got = append(got, in.ID+":"+string(in.Restart))
	}
	if want := []string{"worker:transient", "cache:permanent", "team:permanent"}; !slices.Equal(got, want) {
		t.Errorf("children %q, want %q", got, want)
	}
	if err := sup.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"start worker initial", "start cache initial", "start a initial", "start b initial", "stop b", "stop a", "stop cache", "stop worker"}
	if !slices.Equal(log, want) {
		t.Errorf("log %q\nwant %q", log, want)
	}
	if want := []string{"worker.wasm", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "worker.wasm", "b.wasm"}; !slices.Equal(modules, want) {
		t.Errorf("modules %q", modules)
	}

	failing := errors.New("no such module")
	_, err = tr.Build(func(id string, m *manifest.Manifest) (supervisor.Child, error) {
		if id == "b" {
			return nil, failing
		}
		return child{id, &log}, nil
	})
	if !errors.Is(err, failing) || !strings.Contains(err.Error(), `tree "team": child "b"`) {
		t.Errorf("Build with a failing child: %v", err)
	}
}

// An actor that is not in a tree is supervised with its manifest's
// [supervision] fields.
func TestManifestChildSpec(t *testing.T) {
	m, err := manifest.Load("testdata/tree/worker.toml")
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	cs := m.ChildSpec("w-1", child{"w-1", &log})
	if cs.ID != "w-1" || cs.Restart != supervisor.Transient || cs.StartFrom != supervisor.StartInitial || cs.Child == nil {
		t.Errorf("child spec %+v", cs)
	}
	if cs := (&manifest.Manifest{Name: "x", Module: "x.wasm"}).ChildSpec("x", child{"x", &log}); cs.Restart != supervisor.Permanent || cs.StartFrom != supervisor.StartLast {
		t.Errorf("defaults %+v", cs)
	}
}

const treeChild = "[[children]]\nid = \"w\"\nmanifest = \"w.toml\"\n"

var badTrees = []struct{ name, src, want string }{
	{"unknown key", "strategy = \"one_for_one\"\nbogus = 1\n", `manifest: t.toml:2:1: unknown key "bogus"`},
	{"unknown key in a child", treeChild + "[[children]]\nid = \"v\"\nmanifest = \"v.toml\"\nrestrat = \"permanent\"\n", `manifest: t.toml:7:1: unknown key "children[1].restrat"`},
	{"unknown key deep", "[[children]]\nid = \"s\"\n[children.supervisor]\n[[children.supervisor.children]]\nid = \"a\"\n[children.supervisor.children.actor]\nmodule = \"a.wasm\"\nlimit = 1\n",
		`manifest: t.toml:8:1: unknown key "children[0].supervisor.children[0].actor.limit"`},
	{"strategy", "strategy = \"one_for_some\"\n", `manifest: t.toml:1:12: strategy: unknown strategy "one_for_some" (want one_for_one, one_for_all or rest_for_one)`},
	{"nested strategy", "[[children]]\nid = \"s\"\n[children.supervisor]\nstrategy = \"x\"\n", `manifest: t.toml:4:12: children[0].supervisor.strategy: unknown strategy "x" (want one_for_one, one_for_all or rest_for_one)`},
	{"intensity", "intensity = -1\nperiod = \"1s\"\n", `manifest: t.toml:1:13: intensity: -1 is negative`},
	{"period", "intensity = 2\n", `manifest: t.toml: period: 0s is not positive`},
	{"backoff initial", "[backoff]\nmax = \"1s\"\n", `manifest: t.toml: backoff.initial: 0s is not positive`},
	{"backoff max", "[backoff]\ninitial = \"2s\"\nmax = \"1s\"\n", `manifest: t.toml:3:7: backoff.max: 1s is less than initial 2s`},
	{"backoff multiplier", "[backoff]\ninitial = \"2s\"\nmultiplier = 0.5\n", `manifest: t.toml:3:14: backoff.multiplier: 0.5 is not a finite number of at least 1`},
	{"multiplier type", "[backoff]\ninitial = \"2s\"\nmultiplier = \"2\"\n", `manifest: t.toml:3:14: backoff.multiplier: expected a number, got string`},
	{"no id", "[[children]]\nmanifest = \"w.toml\"\n", `manifest: t.toml: children[0].id: required`},
	{"two kinds", "[[children]]\nid = \"w\"\nmanifest = \"w.toml\"\nactor = { module = \"w.wasm\" }\n", `manifest: t.toml:1:1: children[0]: set exactly one of manifest, actor and supervisor`},
	{"no kind", "[[children]]\nid = \"w\"\n", `manifest: t.toml:1:1: children[0]: set exactly one of manifest, actor and supervisor`},
	{"duplicate", treeChild + treeChild, `manifest: t.toml:5:6: children[1].id: duplicate id "w"`},
	{"actor id", "[[children]]\nid = \"w.1\"\nmanifest = \"w.toml\"\n", `manifest: t.toml:2:6: children[0].id: invalid actor id "w.1": use 1 to 64 letters, digits, '-' and '_', starting with a letter or digit`},
	{"restart", treeChild + "restart = \"sometimes\"\n", `manifest: t.toml:4:11: children[0].restart: unknown restart type "sometimes" (want permanent, transient or temporary)`},
	{"start_from", treeChild + "start_from = \"middle\"\n", `manifest: t.toml:4:14: children[0].start_from: unknown state "middle" (want initial or last)`},
	{"shutdown", treeChild + "shutdown = \"-1s\"\n", `manifest: t.toml:4:12: children[0].shutdown: -1s is negative`},
	{"bad duration", treeChild + "shutdown = \"soon\"\n", `manifest: t.toml:4:12: children[0].shutdown: invalid duration "soon"`},
	{"inline manifest", "[[children]]\nid = \"w\"\n[children.actor]\nmodule = \"w.wasm\"\n[children.actor.limits]\nmailbox = 0\nmemory_pages = 70000\n", `manifest: t.toml:7:16: children[0].actor.limits.memory_pages: 70000 is out of range 1..65536`},
	{"children inline array", "children = [{ id = \"w\", manifest = \"w.toml\" }]\n", `manifest: t.toml:1:12: children: expected an array of tables, got array: write each element as a [[children]] table`},
	{"children table", "[children]\nid = \"w\"\n", `manifest: t.toml:1:1: children: expected an array of tables, got table: write each element as a [[children]] table`},
	{"syntax", "strategy = \n", `manifest: t.toml:1:12: unexpected character U+000A at start of value`},
}

func TestParseTreeBad(t *testing.T) {
	for _, tt := range badTrees {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := manifest.ParseTree("t.toml", []byte(tt.src))
			if err == nil {
				t.Fatalf("no error; got %+v", tr)
			}
			if err.Error() != tt.want {
				t.Errorf("got  %s\nwant %s", err, tt.want)
			}
			if !errors.Is(err, manifest.ErrInvalid) {
				t.Errorf("%v does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestLoadTreeMissingManifest(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.toml")
	if err := os.WriteFile(path, []byte(treeChild), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := manifest.LoadTree(path); err == nil || !strings.Contains(err.Error(), "w.toml") {
		t.Errorf("LoadTree with a missing manifest: %v", err)
	}
}
