package node

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/supervisor"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/chainstore"
	"github.com/theater-go/theater/transport/wire"
)

// The supervisor capability on a node (docs/SUPERVISION.md, "Supervisor
// agents"). A Wasm agent granted [capabilities.supervisor] spawns
// children that are ordinary node actors: spawned through the shared
// spawn endpoint, so any node may take one, like a client's spawn, with
// the parent's id in their registry entry (wire.Entry.Parent). Each child
// runs under a one-child supervisor of its own on the node hosting it,
// with the restart type and start-from the parent asked for and the
// intensity, period and backoff of the parent's grant. When a child
// fails or ends, the node hosting it sends supervisor.child-event into
// the parent's durable mailbox under an id derived from the child's
// chain (the sequence of the failure or stop event), so a parent that is
// down, busy or moving gets it once, when it handles its mailbox again.
// What the capability returns to the parent is recorded in the parent's
// chain ([replay.CallSupervisor]), so a replay answers from the chain.

// supCaps is the node's state of the capability: each hosted child's
// last failure (the reason of a give-up that follows it).
type supCaps struct {
	mu       sync.Mutex
	failures map[string]actor.Failure // by child id
	byParent map[string]bool          // children whose stop their parent asked for
	index    jetstream.KeyValue       // the children index (childIndex)
}

// supervision is the actor.Supervision the node serves to a parent agent
// it hosts, h (nil for stops the node asks for itself).
type supervision struct {
	n *Node
	h *hosted
}

var _ actor.Supervision = supervision{}

// childErr maps a node's answer to the error classes the host gives the
// guest (actor.SupervisorErrorCase).
func childErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, wire.ErrExists):
		return fmt.Errorf("%w: %w", actor.ErrExists, err)
	case errors.Is(err, wire.ErrInvalidID):
		return fmt.Errorf("%w: %w", actor.ErrInvalidID, err)
	case errors.Is(err, wire.ErrBadManifest), errors.Is(err, wire.ErrBadJSON):
		return fmt.Errorf("%w: %w", supervisor.ErrInvalidSpec, err)
	}
	return err
}

// Spawn starts a child now, through the nodes' spawn endpoint, or after
// req.Delay (a message schedule that outlives this node: scheduleChild).
func (s supervision) Spawn(ctx context.Context, parent string, req actor.ChildRequest) error {
	n := s.n
	if s.h == nil {
		return fmt.Errorf("%w: no parent", actor.ErrDenied)
	}
	m, err := n.childManifest(ctx, s.h, req)
	if err != nil {
		return err
	}
	if req.Delay <= 0 {
		return n.spawnChild(ctx, parent, req.ID, m)
	}
	if e, _, err := n.entry(ctx, req.ID); err == nil && e.Status == wire.StatusRunning {
		return fmt.Errorf("%w: %q runs on node %s", actor.ErrExists, req.ID, e.Node)
	}
	return n.scheduleChild(ctx, parent, req.ID, m, req.Delay)
}

// scheduleChild schedules the spawn of parent's child id from m after
// delay: a JetStream message schedule on the timers stream, which fires
// whether or not this node still runs; the node hosting the parent then
// spawns the child (spawnDelayed).
func (n *Node) scheduleChild(ctx context.Context, parent, id string, m *manifest.Manifest, delay time.Duration) error {
	st, err := n.timerStreamOf(ctx)
	if err != nil {
		return err
	}
	subj := n.cfg.Layout.ChildTimerSubject(parent, id)
	if _, err := st.GetLastMsgForSubject(ctx, subj); err == nil {
		return fmt.Errorf("%w: %q is due already", supervisor.ErrChildExists, id)
	} else if !errors.Is(err, jetstream.ErrMsgNotFound) {
		return fmt.Errorf("%w: delayed spawns: %w", wire.ErrNATS, err)
	}
	b, err := json.Marshal(wire.SpawnRequest{ID: id, Manifest: *m, Parent: parent})
	if err != nil {
		return fmt.Errorf("%w: %w", wire.ErrInternal, err)
	}
	msg := nats.NewMsg(subj)
	msg.Data = b
	msg.Header.Set("Nats-Schedule", "@at "+time.Now().Add(delay).UTC().Format(time.RFC3339Nano))
	msg.Header.Set("Nats-Schedule-Target", n.cfg.Layout.ChildFireSubject(parent))
	msg.Header.Set("Nats-Rollup", "sub")
	if _, err := n.js.PublishMsg(ctx, msg); err != nil {
		return fmt.Errorf("%w: schedule the spawn of %q: %w", wire.ErrNATS, id, err)
	}
	return nil
}

// timerStreamOf is the timers stream, opened on first use (timer.go).
func (n *Node) timerStreamOf(ctx context.Context) (jetstream.Stream, error) {
	tm, err := n.timersOf(ctx, "")
	return tm.stream, err
}

// spawnDelayed spawns the children of supervisor agent h whose delayed
// spawn fired, each once: a fired message is deleted after its spawn,
// and one spawned already (a node stopped between the two) finds the
// child running. It reads from the first message left, so what fired
// while no node hosted the agent is spawned when one does. The returned
// stop ends it.
func (h *hosted) spawnDelayed(ctx context.Context) (func(), error) {
	n := h.n
	st, err := n.timerStreamOf(ctx)
	if err != nil {
		return nil, err
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{n.cfg.Layout.ChildFireSubject(h.id)}})
	if err != nil {
		return nil, fmt.Errorf("%w: delayed spawns of %q: %w", wire.ErrNATS, h.id, err)
	}
	stop, err := consume(cons, func(m jetstream.Msg, meta *jetstream.MsgMetadata) {
		seq := meta.Sequence.Stream
		r, err := wire.DecodeSpawnRequest(m.Data())
		if err == nil && r.Parent == h.id {
			err = n.spawnChild(n.ctx, h.id, r.ID, &r.Manifest)
			if errors.Is(err, actor.ErrExists) {
				err = nil // spawned when this message was taken before
			}
		}
		if n.ctx.Err() != nil {
			return // the node closes: the message waits for the next host
		}
		if err != nil {
			n.log.Warn("a delayed child spawn failed", "parent", h.id, "child", r.ID, "err", err)
			n.reportChild(h.id, r.ID, "delayed:"+h.id+":"+strconv.FormatUint(seq, 10),
				actor.ChildExit{ID: r.ID, Reason: "start-failed", Detail: err.Error()})
		}
		if err := st.DeleteMsg(n.ctx, seq); err != nil {
			n.log.Warn("cannot delete a fired delayed spawn", "parent", h.id, "seq", seq, "err", err)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("%w: delayed spawns of %q: %w", wire.ErrNATS, h.id, err)
	}
	return stop, nil
}

// delayedChildren are parent's delayed spawns not yet fired, in the
// order they were asked for.
func (n *Node) delayedChildren(ctx context.Context, parent string) ([]supervisor.ChildInfo, error) {
	st, err := n.timerStreamOf(ctx)
	if err != nil {
		return nil, err
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(n.cfg.Layout.ChildTimerSubject(parent, "*")))
	if err != nil {
		return nil, fmt.Errorf("%w: delayed spawns: %w", wire.ErrNATS, err)
	}
	type due struct {
		in supervisor.ChildInfo
		at time.Time
	}
	var ds []due
	for subj := range info.State.Subjects {
		m, err := st.GetLastMsgForSubject(ctx, subj)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // fired meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("%w: delayed spawns: %w", wire.ErrNATS, err)
		}
		r, err := wire.DecodeSpawnRequest(m.Data)
		if err != nil {
			continue // not a node's
		}
		ds = append(ds, due{supervisor.ChildInfo{ID: r.ID, Restart: r.Manifest.WithDefaults().Supervision.Restart}, m.Time})
	}
	slices.SortFunc(ds, func(a, b due) int { return cmp.Or(a.at.Compare(b.at), strings.Compare(a.in.ID, b.in.ID)) })
	out := make([]supervisor.ChildInfo, len(ds))
	for i, d := range ds {
		out[i] = d.in
	}
	return out, nil
}

// cancelDelayed cancels parent's delayed spawns of child id ("*": all,
// fired or not), reporting whether there was one.
func (n *Node) cancelDelayed(ctx context.Context, parent, id string) (bool, error) {
	st, err := n.timerStreamOf(ctx)
	if err != nil {
		return false, err
	}
	subj := n.cfg.Layout.ChildTimerSubject(parent, id)
	if id != "*" {
		if _, err := st.GetLastMsgForSubject(ctx, subj); errors.Is(err, jetstream.ErrMsgNotFound) {
			return false, nil
		}
	}
	err = st.Purge(ctx, jetstream.WithPurgeSubject(subj))
	if err == nil && id == "*" {
		err = st.Purge(ctx, jetstream.WithPurgeSubject(n.cfg.Layout.ChildFireSubject(parent)))
	}
	if err != nil {
		return false, fmt.Errorf("%w: cancel a delayed spawn: %w", wire.ErrNATS, err)
	}
	return true, nil
}

// childManifest is the manifest a child request names: a manifest stored
// by name ([wire.PutManifest]) or a module digest with the guest's
// manifest fields, with the supervision the parent asked for.
func (n *Node) childManifest(ctx context.Context, h *hosted, req actor.ChildRequest) (*manifest.Manifest, error) {
	if err := transport.ValidID(req.ID); err != nil {
		return nil, fmt.Errorf("%w: %w", actor.ErrInvalidID, err)
	}
	parent := h.id
	g := h.entry.Manifest.Capabilities.Supervisor
	if g == nil {
		return nil, fmt.Errorf("%w: %q is not granted supervisor", actor.ErrDenied, parent)
	}
	if g.Strategy != "" && g.Strategy != supervisor.OneForOne {
		return nil, fmt.Errorf("%w: strategy %s: a node supervises each child of an agent on its own (one_for_one); the agent decides about the others", supervisor.ErrInvalidSpec, g.Strategy)
	}
	var m *manifest.Manifest
	var err error
	if req.Manifest != "" {
		if m, err = wire.GetManifest(ctx, n.obs, req.Manifest); err != nil {
			return nil, childErr(err)
		}
	} else {
		if _, err := chain.ParseHash(strings.TrimPrefix(req.Digest, "sha256:")); err != nil || !strings.HasPrefix(req.Digest, "sha256:") {
			return nil, fmt.Errorf("%w: invalid digest %q", supervisor.ErrInvalidSpec, req.Digest)
		}
		// The guest's fields, with the name and module the request
		// implies; a manifest that sets either is refused as a duplicate.
		text := fmt.Sprintf("name = %q\nmodule = %q\n%s", req.ID, req.Digest, req.ManifestTOML)
		if m, err = manifest.Parse("spawn", []byte(text)); err != nil {
			return nil, fmt.Errorf("%w: %w", supervisor.ErrInvalidSpec, err)
		}
	}
	m.Supervision = manifest.Supervision{Restart: req.Restart, StartFrom: req.StartFrom,
		Shutdown: manifest.Duration(req.Shutdown), Intensity: g.Intensity, Period: g.Period, Backoff: g.Backoff}
	if req.StartFrom == supervisor.StartLast {
		// A child spawned again from last starts from the state the last
		// child of this id ended with (its registry entry has it): the
		// new chain's initial state, which init runs on.
		if e, _, err := n.childEntry(ctx, parent, req.ID); err == nil && e.Status != wire.StatusRunning && e.State != nil {
			m.State = manifest.State{InitialMsgpack: manifest.Msgpack(e.State)}
		}
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", supervisor.ErrInvalidSpec, err)
	}
	return m, nil
}

// spawnChild asks any node to spawn child id of parent from m, on the
// nodes' own subject, from this node (the parent's host).
func (n *Node) spawnChild(ctx context.Context, parent, id string, m *manifest.Manifest) error {
	b, err := json.Marshal(wire.SpawnRequest{ID: id, Manifest: *m, Parent: parent})
	if err != nil {
		return fmt.Errorf("%w: %w", wire.ErrInternal, err)
	}
	msg := nats.NewMsg(n.cfg.Layout.ChildSpawnSubject())
	msg.Data = b
	msg.Header.Set(wire.NodeHeader, n.name)
	_, err = wire.Request(ctx, n.nc, msg, time.Minute)
	return childErr(err)
}

// ctlSpawnChild spawns a supervisor agent's child. Only nodes may publish
// on its subject (docs/NATS.md), and the public spawn endpoints refuse a
// parent (ctlSpawn), so a client cannot make an actor another's child.
// The request must also come from the node whose lease hosts the parent
// (its [wire.NodeHeader]), and a parent the registry lists as running
// must be granted supervisor; a parent still in its first init has no
// entry yet, and its lease is what shows it is hosted.
func (n *Node) ctlSpawnChild(ctx context.Context, req micro.Request) (any, error) {
	r, err := wire.DecodeSpawnRequest(req.Data())
	if err != nil {
		return nil, err
	}
	if err := n.checkParent(ctx, r.Parent, req.Headers().Get(wire.NodeHeader)); err != nil {
		return nil, err
	}
	if err := transport.ValidID(r.ID); err != nil {
		return nil, fmt.Errorf("%w: %w", wire.ErrInvalidID, err)
	}
	// Indexed before it runs, so no listing misses a running child.
	if err := n.indexChild(ctx, r.Parent, r.ID); err != nil {
		return nil, err
	}
	return n.spawn(ctx, r.ID, &r.Manifest, "", r.Parent)
}

// checkParent checks that parent is an actor node hosts that may have
// children.
func (n *Node) checkParent(ctx context.Context, parent, node string) error {
	if err := transport.ValidID(parent); err != nil {
		return fmt.Errorf("%w: parent: %w", wire.ErrInvalidID, err)
	}
	le, err := n.leases.Get(ctx, parent)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("%w: parent %q is hosted by no node", wire.ErrDenied, parent)
	}
	if err != nil {
		return fmt.Errorf("%w: lease of %q: %w", wire.ErrNATS, parent, err)
	}
	var lv leaseValue
	if err := json.Unmarshal(le.Value(), &lv); err != nil || lv.Node != node {
		return fmt.Errorf("%w: parent %q is not hosted by the requesting node %q", wire.ErrDenied, parent, node)
	}
	e, _, err := n.entry(ctx, parent)
	switch {
	case errors.Is(err, wire.ErrUnknownActor):
		return nil // its first init, which spawns: the lease shows it is hosted
	case err != nil:
		return err
	case e.Status == wire.StatusRunning && e.Manifest.Capabilities.Supervisor == nil:
		return fmt.Errorf("%w: parent %q is not granted supervisor", wire.ErrDenied, parent)
	}
	return nil
}

// childEntry is the registry entry of parent's child id; an actor that
// is not parent's is an unknown child.
func (n *Node) childEntry(ctx context.Context, parent, id string) (wire.Entry, uint64, error) {
	if transport.ValidID(id) != nil {
		return wire.Entry{}, 0, fmt.Errorf("%w: %q", supervisor.ErrUnknownChild, id)
	}
	e, rev, err := n.entry(ctx, id)
	if errors.Is(err, wire.ErrUnknownActor) || err == nil && e.Parent != parent {
		return wire.Entry{}, 0, fmt.Errorf("%w: %q", supervisor.ErrUnknownChild, id)
	}
	return e, rev, err
}

// Stop stops a running child on the node hosting it (on-stop runs); the
// parent is not told of it. A delayed spawn is cancelled. The child's
// entry keeps its parent and last state, for State.
func (s supervision) Stop(ctx context.Context, parent, id string) error {
	n := s.n
	if ok, err := n.cancelDelayed(ctx, parent, id); ok || err != nil {
		return err
	}
	e, _, err := n.childEntry(ctx, parent, id)
	if err != nil {
		return err
	}
	if e.Status != wire.StatusRunning {
		return fmt.Errorf("%w: %q has ended (%s)", supervisor.ErrUnknownChild, id, e.Status)
	}
	b, _ := json.Marshal(wire.ActorRequest{ID: id, By: parent})
	msg := nats.NewMsg(n.cfg.Layout.NodeSubject(e.Node, wire.OpStop))
	msg.Data = b
	_, err = wire.Request(ctx, n.nc, msg, time.Minute)
	return childErr(err)
}

// Restart spawns again a permanent or transient child that has ended
// (given up on, or stopped): from its manifest's initial state, its
// chain continuing. A temporary child is never restarted by the host.
func (s supervision) Restart(ctx context.Context, parent, id string) error {
	n := s.n
	e, _, err := n.childEntry(ctx, parent, id)
	if err != nil {
		return err
	}
	switch {
	case e.Status == wire.StatusRunning:
		return fmt.Errorf("%w: %q", supervisor.ErrChildRunning, id)
	case e.Manifest.WithDefaults().Supervision.Restart == supervisor.Temporary:
		return fmt.Errorf("%w: %q is temporary; spawn it again", supervisor.ErrUnknownChild, id)
	}
	return n.spawnChild(ctx, parent, id, &e.Manifest)
}

// Children lists the parent's running children, in the order they were
// spawned, with the restarts and status the nodes hosting them report,
// then its delayed spawns (not running).
func (s supervision) Children(ctx context.Context, parent string) ([]supervisor.ChildInfo, error) {
	n := s.n
	kids, err := n.children(ctx, parent)
	if err != nil {
		return nil, err
	}
	trees := map[string]map[string]wire.TreeNode{} // by node, then actor id
	infos := make([]supervisor.ChildInfo, 0, len(kids))
	for _, k := range kids {
		t, ok := trees[k.e.Node]
		if !ok {
			t = n.treeActors(ctx, k.e.Node)
			trees[k.e.Node] = t
		}
		in := supervisor.ChildInfo{ID: k.id, Restart: k.e.Manifest.WithDefaults().Supervision.Restart, Running: true}
		if a, ok := t[k.id]; ok {
			in.Running, in.Restarts = a.Status == "running", a.Restarts
		}
		infos = append(infos, in)
	}
	delayed, err := n.delayedChildren(ctx, parent)
	if err != nil {
		return nil, err
	}
	return append(infos, delayed...), nil
}

type child struct {
	id string
	e  wire.Entry
}

// children reads the running children of parent, in spawn order: the
// keys under parent in the children index, each checked against its
// registry entry (the child runs and is parent's), so a listing reads
// the parent's own children, not the registry.
func (n *Node) children(ctx context.Context, parent string) ([]child, error) {
	ids, err := n.indexedChildren(ctx, parent)
	if err != nil {
		return nil, err
	}
	var out []child
	for _, id := range ids {
		e, _, err := n.entry(ctx, id)
		if errors.Is(err, wire.ErrUnknownActor) {
			continue // removed, or a spawn that failed
		}
		if err != nil {
			return nil, err
		}
		if e.Parent == parent && e.Status == wire.StatusRunning {
			out = append(out, child{id, e})
		}
	}
	slices.SortFunc(out, func(a, b child) int { return cmp.Or(a.e.Updated.Compare(b.e.Updated), strings.Compare(a.id, b.id)) })
	return out, nil
}

// childIndex is the children index bucket, opened on first use.
func (n *Node) childIndex(ctx context.Context) (jetstream.KeyValue, error) {
	n.caps.mu.Lock()
	defer n.caps.mu.Unlock()
	if n.caps.index == nil {
		kv, err := n.js.KeyValue(ctx, n.cfg.Layout.ChildrenBucket())
		if err != nil {
			return nil, fmt.Errorf("%w: children index: %w", wire.ErrNATS, err)
		}
		n.caps.index = kv
	}
	return n.caps.index, nil
}

// indexChild records that parent spawns child id; the key stays while
// the parent lives (unindexChildren), whatever becomes of the child.
func (n *Node) indexChild(ctx context.Context, parent, id string) error {
	kv, err := n.childIndex(ctx)
	if err == nil {
		_, err = kv.Put(ctx, parent+"."+id, nil)
	}
	if err != nil {
		return fmt.Errorf("%w: index child %q of %q: %w", wire.ErrNATS, id, parent, err)
	}
	return nil
}

// indexedChildren are the ids the index holds under parent.
func (n *Node) indexedChildren(ctx context.Context, parent string) ([]string, error) {
	kv, err := n.childIndex(ctx)
	if err != nil {
		return nil, err
	}
	lister, err := kv.ListKeysFiltered(ctx, parent+".*")
	if err != nil {
		return nil, fmt.Errorf("%w: children index: %w", wire.ErrNATS, err)
	}
	defer func() { _ = lister.Stop() }()
	var ids []string
	for key := range lister.Keys() {
		ids = append(ids, strings.TrimPrefix(key, parent+"."))
	}
	return ids, nil
}

// unindexChildren deletes an ended parent's keys, once its children are
// stopped.
func (n *Node) unindexChildren(ctx context.Context, parent string) {
	ids, err := n.indexedChildren(ctx, parent)
	kv, kerr := n.childIndex(ctx)
	for _, id := range ids {
		if err = cmp.Or(err, kerr); err != nil {
			break
		}
		err = kv.Delete(ctx, parent+"."+id)
	}
	if err != nil {
		n.log.Warn("cannot clear the children index of an ended agent", "parent", parent, "err", err)
	}
}

// treeActors asks node for its supervision tree and returns its actors
// by id; empty when the node does not answer (it is gone: the child
// will be taken over).
func (n *Node) treeActors(ctx context.Context, node string) map[string]wire.TreeNode {
	out := map[string]wire.TreeNode{}
	var root wire.TreeNode
	if node == n.name {
		root = n.Tree(ctx)
	} else {
		msg := nats.NewMsg(n.cfg.Layout.NodeSubject(node, wire.OpTree))
		msg.Data = []byte("{}")
		reply, err := wire.Request(ctx, n.nc, msg, 10*time.Second)
		if err != nil || json.Unmarshal(reply.Data, &root) != nil {
			return out
		}
	}
	var walk func(t wire.TreeNode)
	walk = func(t wire.TreeNode) {
		if t.Kind == "actor" {
			out[t.ID] = t
		}
		for _, c := range t.Children {
			walk(c)
		}
	}
	walk(root)
	return out
}

// State is a running child's state (from the node hosting it), or the
// state an ended one ended with (its registry entry).
func (s supervision) State(ctx context.Context, parent, id string) ([]byte, error) {
	n := s.n
	e, _, err := n.childEntry(ctx, parent, id)
	if err != nil {
		return nil, err
	}
	if e.Status != wire.StatusRunning {
		return e.State, nil
	}
	b, _ := json.Marshal(wire.ActorRequest{ID: id})
	msg := nats.NewMsg(n.cfg.Layout.NodeSubject(e.Node, wire.OpState))
	msg.Data = b
	reply, err := wire.Request(ctx, n.nc, msg, 10*time.Second)
	if err != nil {
		return nil, childErr(err)
	}
	return reply.Data, nil
}

// noteStopBy records that a stop request for a hosted actor came from
// its parent, which is then not told of the stop, and reports whether it
// did.
func (n *Node) noteStopBy(id string, data []byte) bool {
	var r wire.ActorRequest
	if json.Unmarshal(data, &r) != nil || r.By == "" {
		return false
	}
	h := n.lookup(id)
	if h == nil || h.entry.Parent != r.By {
		return false
	}
	n.caps.mu.Lock()
	if n.caps.byParent == nil {
		n.caps.byParent = map[string]bool{}
	}
	n.caps.byParent[id] = true
	n.caps.mu.Unlock()
	return true
}

// shutdownBound is how long a stop its parent asks for gives child id:
// the shutdown of its child spec (supervisor.DefaultShutdown when the
// parent left it zero), as an OTP supervisor's. Past it the stop kills
// the child: the handler in flight is aborted and on-stop does not run
// (Node.Stop).
func (n *Node) shutdownBound(id string) time.Duration {
	if h := n.lookup(id); h != nil && h.entry.Manifest.Supervision.Shutdown > 0 {
		return time.Duration(h.entry.Manifest.Supervision.Shutdown)
	}
	return supervisor.DefaultShutdown
}

// failureOf is the actor failure err is or wraps.
func failureOf(err error) (actor.Failure, bool) {
	var f actor.Failure
	if errors.As(err, &f) {
		return f, true
	}
	var pf *actor.Failure
	if errors.As(err, &pf) {
		return *pf, true
	}
	return actor.Failure{}, false
}

func exitReason(f actor.Failure) string {
	return actor.ExitReasonOf(actor.Exit{Reason: actor.Failed, Failure: &f})
}

// childFailed tells a child's parent of a failure that ended its
// instance, recorded by the failure event p, once it is durable: a
// permanent or transient child is restarted by its supervisor here
// (restarting); a temporary one is given up on, which is reported then.
func (h *hosted) childFailed(herr error, p *chainstore.Pending) {
	if h.entry.Parent == "" {
		return
	}
	f, ok := failureOf(herr)
	if !ok || f.Kind == actor.GuestError {
		return // an answer: the child goes on
	}
	n := h.n
	n.caps.mu.Lock()
	if n.caps.failures == nil {
		n.caps.failures = map[string]actor.Failure{}
	}
	n.caps.failures[h.id] = f
	n.caps.mu.Unlock()
	if r := h.entry.Manifest.WithDefaults().Supervision.Restart; r == supervisor.Temporary || r == supervisor.Transient && normalExit(&f) {
		return // not restarted: told when it ends (childGaveUp)
	}
	h.sv.mu.Lock()
	restarts := h.sv.restarts
	h.sv.mu.Unlock()
	x := actor.ChildExit{ID: h.id, Reason: exitReason(f), Detail: herr.Error(), Restarting: true, Restarts: restarts}
	n.afterDurable(p, func(seq uint64) { n.reportChild(h.entry.Parent, h.id, chain.MessageID(h.id, seq, 0), x) })
}

// childResumed tells the parent of a permanent or transient child that a
// node resumes from its chain of the exit the chain's last failure event
// records: the node that wrote it may have died before it told the
// parent. The id is the one that node used (chain.MessageID of the
// failure event), so the mailbox stream's duplicate window, and after it
// the parent's chain-derived dedupe, drop it when the parent has it
// already; the dedupe keeps a sender's last recentWindow events, so an
// older failure is not sent again (its node went on to write those
// events, the report long done). A temporary child's exit is told at its
// give-up.
func (h *hosted) childResumed(rs *restored) {
	if h.entry.Parent == "" || rs.fail == nil || rs.failSeq+recentWindow < rs.head.Seq ||
		h.entry.Manifest.WithDefaults().Supervision.Restart == supervisor.Temporary {
		return
	}
	// The kinds that end an instance, by the reason the chain records
	// (replay.Reason); a guest error or a rejected send ends nothing.
	for k := actor.Trap; k <= actor.OutOfFuel; k++ {
		if k != actor.GuestError && failureReason(actor.Failure{Kind: k}) == rs.fail.Reason {
			h.n.reportChild(h.entry.Parent, h.id, chain.MessageID(h.id, rs.failSeq, 0),
				actor.ChildExit{ID: h.id, Reason: exitReason(actor.Failure{Kind: k}), Detail: rs.fail.Detail, Restarting: true})
			return
		}
	}
}

// childGaveUp tells a child's parent that its supervisor gave up on it;
// seq is the chain sequence of the child's stop event. The registry
// says failed and the lease is free by now, so the parent may spawn the
// id again at once.
func (h *hosted) childGaveUp(reason string, seq uint64) {
	if h.entry.Parent == "" {
		return
	}
	n := h.n
	n.caps.mu.Lock()
	f, ok := n.caps.failures[h.id]
	delete(n.caps.failures, h.id)
	n.caps.mu.Unlock()
	x := actor.ChildExit{ID: h.id, Reason: "killed", Detail: reason}
	if ok {
		x.Reason = exitReason(f)
	}
	h.sv.mu.Lock()
	x.Restarts = h.sv.restarts
	h.sv.mu.Unlock()
	n.reportChild(h.entry.Parent, h.id, chain.MessageID(h.id, seq, 0), x)
}

// childStopped tells a child's parent that the child was stopped (by an
// operator, not by the parent); seq is its stop event's.
func (h *hosted) childStopped(seq uint64) {
	if h.entry.Parent == "" {
		return
	}
	n := h.n
	n.caps.mu.Lock()
	by := n.caps.byParent[h.id]
	delete(n.caps.byParent, h.id)
	delete(n.caps.failures, h.id)
	n.caps.mu.Unlock()
	if by {
		return
	}
	n.reportChild(h.entry.Parent, h.id, chain.MessageID(h.id, seq, 0),
		actor.ChildExit{ID: h.id, Reason: "stopped", Detail: "stopped by request"})
}

// afterDurable runs f with p's sequence once p is durable, on a goroutine
// of its own; nothing when the append fails (the actor is let go, and the
// chain does not show the failure).
func (n *Node) afterDurable(p *chainstore.Pending, f func(seq uint64)) {
	n.background(func() {
		if err := p.Wait(n.ctx); err != nil {
			return
		}
		f(p.Seq())
	})
}

// background runs f on a goroutine the node's Close waits for, when the
// node is not closing already.
func (n *Node) background(f func()) {
	n.mu.Lock()
	counted := !n.closing
	if counted {
		n.bg.Add(1)
	}
	n.mu.Unlock()
	go func() {
		if counted {
			defer n.bg.Done()
		}
		f()
	}()
}

// reportChild publishes x into parent's mailbox under msgID (a random id
// when empty), retrying while the node runs. An event for a parent the
// registry does not know, or that has ended, is dropped with a log: no
// one would read it (a parent spawned again under the id starts its
// mailbox after it).
func (n *Node) reportChild(parent, child, msgID string, x actor.ChildExit) {
	n.background(func() {
		ctx := n.ctx
		e, _, err := n.entry(ctx, parent)
		switch {
		case errors.Is(err, wire.ErrUnknownActor):
			n.log.Warn("dropping a child event: its parent is unknown", "parent", parent, "child", child, "reason", x.Reason)
			return
		case err == nil && e.Status != wire.StatusRunning:
			n.log.Warn("dropping a child event: its parent has ended", "parent", parent, "child", child, "status", e.Status, "reason", x.Reason)
			return
		}
		payload, err := actor.ChildEvent(x)
		if err != nil {
			n.log.Error("cannot encode a child event", "parent", parent, "child", child, "err", err)
			return
		}
		wait := 50 * time.Millisecond
		for try := 0; ; try++ {
			m := nats.NewMsg(n.cfg.Layout.SendSubject(parent))
			m.Data = payload
			m.Header.Set(wire.FromHeader, child)
			m.Header.Set(wire.ChildEventHeader, "1")
			err := wire.PublishSend(ctx, n.js, m, msgID)
			if err == nil {
				return
			}
			if ctx.Err() != nil || try >= 20 {
				n.log.Error("cannot deliver a child event", "parent", parent, "child", child, "id", msgID, "err", err)
				return
			}
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
			wait = min(2*wait, time.Second)
		}
	})
}

// checkChildEvent checks a child event sent to h: only an actor granted
// supervisor takes one, and it must be a supervisor.child-event.
func (h *hosted) checkChildEvent(data []byte, enc wire.Encoding) ([]byte, error) {
	if h.entry.Manifest.Capabilities.Supervisor == nil {
		return nil, fmt.Errorf("%w: actor %q takes no child events (it is not granted supervisor)", wire.ErrBadType, h.id)
	}
	if enc != wire.Msgpack {
		return nil, fmt.Errorf("%w: a child event is msgpack", wire.ErrBadType)
	}
	if err := actor.CheckChildEvent(data); err != nil {
		return nil, fmt.Errorf("%w: %w", wire.ErrBadType, err)
	}
	return data, nil
}

// isChildEvent reports whether a stream message is a child event.
func isChildEvent(m *jetstream.RawStreamMsg) bool { return m.Header.Get(wire.ChildEventHeader) != "" }

// Lifecycle events of the supervisor capability in a child's chain.
const (
	// lifeSpawnedBy follows the spawn event of a child: fields parent.
	lifeSpawnedBy = "spawned_by"
	// lifeParentStop precedes the stop event of a child its parent
	// stopped (directly, or by ending): fields parent.
	lifeParentStop = "parent_stop"
)

func spawnedBy(parent string) chain.Body {
	return &chain.Lifecycle{What: lifeSpawnedBy, Fields: map[string]string{"parent": parent}}
}

// parentStop is the lifecycle event of a stop the actor's parent asked
// for, nil for any other stop.
func (h *hosted) parentStop() chain.Body {
	if h.entry.Parent == "" {
		return nil
	}
	h.n.caps.mu.Lock()
	by := h.n.caps.byParent[h.id]
	h.n.caps.mu.Unlock()
	if !by {
		return nil
	}
	return &chain.Lifecycle{What: lifeParentStop, Fields: map[string]string{"parent": h.entry.Parent}}
}

// endChildren stops the children of an agent that was stopped or given
// up on, as an OTP supervisor's children end with it, and cancels its
// delayed spawns. A node's shutdown or a takeover ends nothing: the
// agent goes on elsewhere with the same children.
func (h *hosted) endChildren() {
	if h.entry.Manifest.Capabilities.Supervisor == nil {
		return
	}
	n := h.n
	n.background(func() {
		ctx, cancel := context.WithTimeout(n.ctx, detachTimeout)
		defer cancel()
		if _, err := n.cancelDelayed(ctx, h.id, "*"); err != nil {
			n.log.Warn("cannot cancel the delayed spawns of an ended agent", "parent", h.id, "err", err)
		}
		kids, err := n.children(ctx, h.id)
		if err != nil {
			n.log.Warn("cannot list the children of an ended agent; they go on", "parent", h.id, "err", err)
			return
		}
		for _, k := range kids {
			if err := (supervision{n: n}).Stop(ctx, h.id, k.id); err != nil && !errors.Is(err, supervisor.ErrUnknownChild) {
				n.log.Warn("cannot stop a child of an ended agent", "parent", h.id, "child", k.id, "err", err)
			}
		}
		n.unindexChildren(ctx, h.id)
	})
}

// drainRequests ends the request subscriptions of an actor given up on
// by draining them: a request the server routed here before it heard of
// the end is still answered (gave_up), where an unsubscribe would drop
// it and leave its requester to time out.
func (h *hosted) drainRequests() {
	for _, sub := range []*nats.Subscription{h.sub, h.stopSub} {
		if sub != nil {
			_ = sub.Drain()
		}
	}
}
