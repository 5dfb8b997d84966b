package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/micro"

	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/supervisor"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/wire"
)

// treePrefix prefixes a tree's id among the root supervisor's children,
// which are otherwise actor ids.
const treePrefix = "tree/"

// treeRun is a supervision tree started on this node.
type treeRun struct {
	n    *Node
	name string
	decl string // name@object of its declaration
	top  *supervisor.Supervisor
	view *treeView
}

// treeView is one supervisor or actor of a tree, kept for the listing
// and for the give-ups its events decide.
type treeView struct {
	id       string
	restart  supervisor.Restart
	strategy supervisor.Strategy
	sup      *supervisor.Supervisor // a supervisor's
	name     string                 // a supervisor's Spec.Name
	actor    *treeActor             // an actor's
	children []*treeView
}

// treeActor is an actor of a tree as a [supervisor.Child]: its first
// Start spawns it on the node, every later one restarts its instance
// through its supervised (supervise.go).
type treeActor struct {
	t     *treeRun
	id    string
	m     *manifest.Manifest
	owner *supervisor.Supervisor

	mu sync.Mutex
	h  *hosted
}

func (a *treeActor) hosted() *hosted {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.h
}

func (a *treeActor) Start(ctx context.Context, from supervisor.StartFrom, exited func(error)) error {
	n := a.t.n
	h := a.hosted()
	if h == nil {
		if _, err := n.spawn(ctx, a.id, a.m, a.t.decl, ""); err != nil {
			return err
		}
		if h = n.lookup(a.id); h == nil {
			return fmt.Errorf("%w: %q stopped as it started", wire.ErrStopped, a.id)
		}
		h.sv.mu.Lock()
		h.sv.owner, h.sv.parent = a.owner, a.id
		h.sv.mu.Unlock()
		a.mu.Lock()
		a.h = h
		a.mu.Unlock()
	} else if n.lookup(a.id) != h {
		return fmt.Errorf("%w: %q is no longer hosted on node %s", wire.ErrStopped, a.id, n.name)
	}
	return h.sv.Start(ctx, from, exited)
}

func (a *treeActor) Stop(ctx context.Context) error {
	if h := a.hosted(); h != nil {
		return h.sv.Stop(ctx)
	}
	return nil
}

// build makes the supervisors of a tree declaration, recording each in
// its view.
func (t *treeRun) build(d *manifest.Tree) (*supervisor.Supervisor, *treeView, error) {
	spec := supervisor.Spec{Name: d.Name, Strategy: d.Strategy, Intensity: d.Intensity, Period: d.Period, Backoff: d.Backoff}
	view := &treeView{id: d.Name, name: d.Name, strategy: d.Strategy, restart: supervisor.Permanent}
	var actors []*treeActor
	for _, c := range d.Children {
		cs := supervisor.ChildSpec{ID: c.ID, Restart: c.Restart, Shutdown: c.Shutdown, StartFrom: c.StartFrom}
		switch {
		case c.Supervisor != nil:
			sub, v, err := t.build(c.Supervisor)
			if err != nil {
				return nil, nil, err
			}
			v.id, v.restart = c.ID, c.Restart
			cs.Child = sub
			view.children = append(view.children, v)
		case c.Actor != nil:
			if cs.Restart == "" {
				cs.Restart = c.Actor.WithDefaults().Supervision.Restart
			}
			if cs.StartFrom == "" {
				cs.StartFrom = c.Actor.WithDefaults().Supervision.StartFrom
			}
			a := &treeActor{t: t, id: c.ID, m: c.Actor}
			actors = append(actors, a)
			cs.Child = a
			view.children = append(view.children, &treeView{id: c.ID, restart: cs.Restart, actor: a})
		default:
			return nil, nil, fmt.Errorf("%w: tree %q: child %q has no actor manifest (the client loads the files)", wire.ErrBadManifest, d.Name, c.ID)
		}
		spec.Children = append(spec.Children, cs)
	}
	sup, err := supervisor.New(spec, supervisor.WithEvents(t))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: tree %q: %w", wire.ErrBadManifest, d.Name, err)
	}
	for _, a := range actors {
		a.owner = sup
	}
	if view.strategy == "" {
		view.strategy = supervisor.OneForOne
	}
	view.sup = sup
	return sup, view, nil
}

// Record is the [supervisor.EventSink] of every supervisor of the tree:
// a temporary child that failed, and the top supervisor's escalation,
// end the actors beneath for good (their give-up). Restarts are recorded
// by the actors themselves (supervised.Start).
func (t *treeRun) Record(e supervisor.Event) {
	switch e.Kind {
	case supervisor.Failed:
		if v := t.view.find(e.Supervisor, e.Child); v != nil && v.restart == supervisor.Temporary {
			v.giveUp("a temporary child is not restarted: " + e.Reason)
		}
	case supervisor.Exited:
		// A temporary child that exited normally is forgotten by its
		// supervisor; a transient one stays down until a sibling's
		// restart starts it again (OTP's rule for a child kept in the
		// list, not running).
		if v := t.view.find(e.Supervisor, e.Child); v != nil && v.restart == supervisor.Temporary && v.actor != nil {
			if h := v.actor.hosted(); h != nil {
				go h.exitNormally()
			}
		}
	case supervisor.Escalated:
		if e.Supervisor == t.view.name {
			t.view.giveUp(e.Reason)
		}
	}
}

// find returns the child id of the supervisor named sup.
func (v *treeView) find(sup, id string) *treeView {
	if v.sup != nil && v.name == sup {
		for _, c := range v.children {
			if c.id == id {
				return c
			}
		}
	}
	for _, c := range v.children {
		if f := c.find(sup, id); f != nil {
			return f
		}
	}
	return nil
}

// giveUp gives up on every actor at or beneath v; it runs on a
// supervisor's goroutine, so the give-ups run aside.
func (v *treeView) giveUp(reason string) {
	if v.actor != nil {
		if h := v.actor.hosted(); h != nil {
			go h.giveUp(reason)
		}
	}
	for _, c := range v.children {
		c.giveUp(reason)
	}
}

// actors lists the actor ids at or beneath v, in start order.
func (v *treeView) actors() []string {
	var ids []string
	if v.actor != nil {
		ids = append(ids, v.actor.id)
	}
	for _, c := range v.children {
		ids = append(ids, c.actors()...)
	}
	return ids
}

// inTree reports whether h was spawned by a tree running on this node,
// whose supervisor attaches to it.
func (n *Node) inTree(h *hosted) bool {
	name, _, ok := strings.Cut(h.entry.Tree, "@")
	if !ok {
		return false
	}
	n.sv.mu.Lock()
	defer n.sv.mu.Unlock()
	return n.sv.trees[name] != nil
}

// SpawnTree starts a supervision tree on this node: its supervisors as
// declared, under the node's root, and its actors hosted here, started
// in order (each from its manifest, whose module and WIT are named by
// digest in the object store, as for [Node.Spawn]). Every actor's
// registry entry names the tree and the object holding its declaration,
// so the declaration outlives this node. If an actor cannot start, the
// ones started are stopped and the error returned.
func (n *Node) SpawnTree(ctx context.Context, t *manifest.Tree) ([]wire.ActorInfo, error) {
	if t.Name == "" {
		t.Name = "root"
	}
	if err := transport.ValidID(t.Name); err != nil {
		return nil, fmt.Errorf("%w: tree name: %w", wire.ErrInvalidID, err)
	}
	root, err := n.rootSup()
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("%w: tree: %w", wire.ErrInternal, err)
	}
	obj, err := wire.PutObject(ctx, n.obs, b)
	if err != nil {
		return nil, err
	}
	tr := &treeRun{n: n, name: t.Name, decl: t.Name + "@" + obj}
	if tr.top, tr.view, err = tr.build(t); err != nil {
		return nil, err
	}
	n.sv.mu.Lock()
	if n.sv.trees == nil {
		n.sv.trees = map[string]*treeRun{}
	}
	if n.sv.trees[t.Name] != nil {
		n.sv.mu.Unlock()
		return nil, fmt.Errorf("%w: tree %q runs on node %s", wire.ErrExists, t.Name, n.name)
	}
	n.sv.trees[t.Name] = tr
	n.sv.mu.Unlock()
	if err := root.StartChild(ctx, supervisor.ChildSpec{ID: treePrefix + t.Name, Restart: supervisor.Temporary, Child: tr.top}); err != nil {
		// Start stopped the supervisors' children; the actors spawned are
		// still hosted, their instances down: stop them for good.
		var errs []error
		for _, id := range tr.view.actors() {
			if h := n.lookup(id); h != nil && h.entry.Tree == tr.decl {
				_, serr := n.Stop(context.WithoutCancel(ctx), id)
				errs = append(errs, serr)
			}
		}
		n.sv.mu.Lock()
		delete(n.sv.trees, t.Name)
		n.sv.mu.Unlock()
		return nil, errors.Join(append([]error{fmt.Errorf("node: tree %q: %w", t.Name, err)}, errs...)...)
	}
	var infos []wire.ActorInfo
	for _, id := range tr.view.actors() {
		if info, err := n.info(id); err == nil {
			infos = append(infos, info)
		}
	}
	n.beatSoon()
	return infos, nil
}

func (n *Node) ctlSpawnTree(ctx context.Context, req micro.Request) (any, error) {
	var r wire.SpawnTreeRequest
	if err := decodeJSON(req.Data(), &r); err != nil {
		return nil, err
	}
	return n.SpawnTree(ctx, &r.Tree)
}

func (n *Node) ctlTree(ctx context.Context, _ micro.Request) (any, error) {
	return n.Tree(ctx), nil
}

// treeListWait bounds the wait for a supervisor's restart counts in a
// listing; a supervisor busy restarting a child is listed without them.
const treeListWait = 200 * time.Millisecond

// Tree returns the node's live supervision tree: the root, its trees
// and, for every other hosted actor, its one-child supervisor.
func (n *Node) Tree(ctx context.Context) wire.TreeNode {
	root := wire.TreeNode{ID: "node/" + n.name, Kind: "supervisor", Strategy: string(supervisor.OneForOne), Status: "running", Node: n.name}
	n.mu.Lock()
	hs := make([]*hosted, 0, len(n.hosted))
	for _, h := range n.hosted {
		hs = append(hs, h)
	}
	n.mu.Unlock()
	sort.Slice(hs, func(i, j int) bool { return hs[i].id < hs[j].id })
	for _, h := range hs {
		h.sv.mu.Lock()
		sup := h.sv.sup
		h.sv.mu.Unlock()
		if sup == nil {
			continue // a tree's
		}
		sn := wire.TreeNode{ID: h.id, Kind: "supervisor", Strategy: string(supervisor.OneForOne), Restart: string(supervisor.Temporary), Status: "running", Node: n.name,
			Children: []wire.TreeNode{n.actorNode(h.id, h, h.entry.Manifest.WithDefaults().Supervision.Restart)}}
		root.Children = append(root.Children, sn)
	}
	n.sv.mu.Lock()
	trees := make([]*treeRun, 0, len(n.sv.trees))
	for _, t := range n.sv.trees {
		trees = append(trees, t)
	}
	n.sv.mu.Unlock()
	sort.Slice(trees, func(i, j int) bool { return trees[i].name < trees[j].name })
	for _, t := range trees {
		tn := n.viewNode(ctx, t.view, nil)
		tn.ID, tn.Restart = treePrefix+t.name, string(supervisor.Temporary)
		root.Children = append(root.Children, tn)
	}
	return root
}

// viewNode lists a tree's supervisor or actor; counts are its parent's
// restart counts by child id.
func (n *Node) viewNode(ctx context.Context, v *treeView, counts map[string]supervisor.ChildInfo) wire.TreeNode {
	if v.actor != nil {
		return n.actorNode(v.id, v.actor.hosted(), v.restart)
	}
	tn := wire.TreeNode{ID: v.id, Kind: "supervisor", Strategy: string(v.strategy), Restart: string(v.restart), Status: "down", Node: n.name}
	if ci, ok := counts[v.id]; ok {
		tn.Restarts = ci.Restarts
	}
	wctx, cancel := context.WithTimeout(ctx, treeListWait)
	infos, err := v.sup.WhichChildren(wctx)
	cancel()
	mine := map[string]supervisor.ChildInfo{}
	if err == nil {
		tn.Status = "running"
		for _, ci := range infos {
			mine[ci.ID] = ci
		}
	} else if !errors.Is(err, supervisor.ErrNotRunning) {
		tn.Status = "running" // busy: listed without its counts
	}
	for _, c := range v.children {
		tn.Children = append(tn.Children, n.viewNode(ctx, c, mine))
	}
	return tn
}

// actorNode lists an actor (h nil: not started).
func (n *Node) actorNode(id string, h *hosted, restart supervisor.Restart) wire.TreeNode {
	tn := wire.TreeNode{ID: id, Kind: "actor", Restart: string(restart), Status: "down", Node: n.name}
	if h == nil {
		return tn
	}
	s := h.sv
	s.mu.Lock()
	tn.Restarts, tn.LastFailure = s.restarts, s.last
	if !s.down {
		tn.Status = "running"
	}
	s.mu.Unlock()
	if s.gaveUp.Load() != nil {
		tn.Status = wire.StatusFailed
	}
	return tn
}

var _ supervisor.Child = (*treeActor)(nil)

// treeCollector gathers, during one adoption, the actors hosted whose
// entry names a tree that does not run on this node: their supervision
// waits until the adoption is over, when the tree is rebuilt around them.
type treeCollector struct {
	mu    sync.Mutex
	trees map[string]bool // tree decl (name@object) seen
}

type treeCollectorKey struct{}

// collectTrees returns ctx carrying a collector for an adoption.
func collectTrees(ctx context.Context) (context.Context, *treeCollector) {
	col := &treeCollector{trees: map[string]bool{}}
	return context.WithValue(ctx, treeCollectorKey{}, col), col
}

// deferToTree reports whether h's supervision waits for its tree to be
// rebuilt at the end of the adoption ctx belongs to.
func deferToTree(ctx context.Context, h *hosted) bool {
	col, _ := ctx.Value(treeCollectorKey{}).(*treeCollector)
	if col == nil || h.entry.Tree == "" {
		return false
	}
	col.mu.Lock()
	col.trees[h.entry.Tree] = true
	col.mu.Unlock()
	return true
}

// rebuildTrees rebuilds, after an adoption, each tree whose actors it
// took: from the declaration the entries name, without the actors that
// are stopped or failed, the actors attached where they are hosted. A
// tree whose running actors are not all hosted here (another node took
// some) is not rebuilt: each of the actors here gets its own supervisor
// from its manifest, as if it were in no tree.
func (n *Node) rebuildTrees(ctx context.Context, col *treeCollector) {
	col.mu.Lock()
	decls := make([]string, 0, len(col.trees))
	for d := range col.trees {
		decls = append(decls, d)
	}
	col.mu.Unlock()
	sort.Strings(decls)
	for _, decl := range decls {
		members := n.unsupervised(decl)
		if len(members) == 0 {
			continue
		}
		if err := n.rebuildTree(ctx, decl, members); err != nil {
			n.log.Warn("cannot rebuild a supervision tree; its actors here are supervised on their own", "tree", decl, "err", err)
			for _, h := range members {
				if err := n.supervise(context.WithoutCancel(ctx), h); err != nil {
					n.log.Error("cannot supervise actor", "actor", h.id, "err", err)
				}
			}
			continue
		}
		n.log.Info("rebuilt supervision tree", "tree", decl, "actors", len(members))
	}
}

// unsupervised lists the hosted actors of tree decl that no supervisor
// has attached to yet.
func (n *Node) unsupervised(decl string) map[string]*hosted {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := map[string]*hosted{}
	for id, h := range n.hosted {
		if h.entry.Tree != decl || h.sv.ending.Load() {
			continue
		}
		h.sv.mu.Lock()
		free := h.sv.owner == nil
		h.sv.mu.Unlock()
		if free {
			out[id] = h
		}
	}
	return out
}

func (n *Node) rebuildTree(ctx context.Context, decl string, members map[string]*hosted) error {
	name, obj, _ := strings.Cut(decl, "@")
	b, err := wire.GetObject(ctx, n.obs, obj)
	if err != nil {
		return err
	}
	var t manifest.Tree
	if err := json.Unmarshal(b, &t); err != nil {
		return fmt.Errorf("%w: tree %s: %w", wire.ErrInternal, decl, err)
	}
	if err := n.prune(ctx, &t, members); err != nil {
		return err
	}
	root, err := n.rootSup()
	if err != nil {
		return err
	}
	tr := &treeRun{n: n, name: name, decl: decl}
	if tr.top, tr.view, err = tr.build(&t); err != nil {
		return err
	}
	var attach func(v *treeView)
	attach = func(v *treeView) {
		if v.actor != nil {
			v.actor.h = members[v.actor.id]
		}
		for _, c := range v.children {
			attach(c)
		}
	}
	attach(tr.view)
	n.sv.mu.Lock()
	if n.sv.trees == nil {
		n.sv.trees = map[string]*treeRun{}
	}
	if n.sv.trees[name] != nil {
		n.sv.mu.Unlock()
		return fmt.Errorf("%w: tree %q runs on node %s already", wire.ErrExists, name, n.name)
	}
	n.sv.trees[name] = tr
	n.sv.mu.Unlock()
	for _, h := range members {
		h.sv.mu.Lock()
		h.sv.owner, h.sv.parent = tr.view.ownerOf(h.id), h.id
		h.sv.mu.Unlock()
	}
	if err := root.StartChild(ctx, supervisor.ChildSpec{ID: treePrefix + name, Restart: supervisor.Temporary, Child: tr.top}); err != nil {
		n.sv.mu.Lock()
		delete(n.sv.trees, name)
		n.sv.mu.Unlock()
		for _, h := range members {
			h.sv.mu.Lock()
			h.sv.owner, h.sv.parent = nil, ""
			h.sv.mu.Unlock()
		}
		return err
	}
	return nil
}

// prune removes from a tree declaration the actors that are stopped or
// failed; every running actor left must be among members.
func (n *Node) prune(ctx context.Context, t *manifest.Tree, members map[string]*hosted) error {
	kept := t.Children[:0]
	for _, c := range t.Children {
		switch {
		case c.Supervisor != nil:
			if err := n.prune(ctx, c.Supervisor, members); err != nil {
				return err
			}
		case c.Actor != nil:
			if members[c.ID] == nil {
				e, _, err := n.entry(ctx, c.ID)
				if err != nil {
					return err
				}
				if e.Status == wire.StatusRunning {
					return fmt.Errorf("%w: actor %q of tree %q is not hosted on node %s", wire.ErrUnavailable, c.ID, t.Name, n.name)
				}
				continue // stopped or given up: not in the rebuilt tree
			}
		}
		kept = append(kept, c)
	}
	t.Children = kept
	return nil
}

// ownerOf returns the supervisor holding actor id.
func (v *treeView) ownerOf(id string) *supervisor.Supervisor {
	for _, c := range v.children {
		if c.actor != nil && c.id == id {
			return v.sup
		}
		if s := c.ownerOf(id); s != nil {
			return s
		}
	}
	return nil
}
