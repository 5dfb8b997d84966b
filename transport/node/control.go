package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"

	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/wire"
)

func (n *Node) startService() (micro.Service, error) {
	l := n.cfg.Layout
	svc, err := micro.AddService(n.nc, micro.Config{
		Name:        l.ServiceName(),
		Version:     Version,
		Description: "Theater node " + n.name + ": hosts WebAssembly actors",
		Metadata:    map[string]string{"node": n.name},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: micro service: %w", wire.ErrNATS, err)
	}
	eps := []struct {
		name, subject string
		queue         bool
		admit         int
		h             func(context.Context, micro.Request) (any, error)
	}{
		{"spawn", l.ControlSubject(wire.OpSpawn), true, slotted, n.ctlSpawn},
		{"node-spawn", l.NodeSubject(n.name, wire.OpSpawn), false, slotted, n.ctlSpawn},
		{"stop", l.NodeSubject(n.name, wire.OpStop), false, free, n.ctlStop},
		{"state", l.NodeSubject(n.name, wire.OpState), false, inline, n.ctlState},
		{"list", l.NodeSubject(n.name, wire.OpList), false, inline, n.ctlList},
		{"info", l.NodeSubject(n.name, wire.OpInfo), false, inline, n.ctlInfo},
		{"spawn-tree", l.ControlSubject(wire.OpSpawnTree), true, slotted, n.ctlSpawnTree},
		{"node-spawn-tree", l.NodeSubject(n.name, wire.OpSpawnTree), false, slotted, n.ctlSpawnTree},
		{"tree", l.NodeSubject(n.name, wire.OpTree), false, inline, n.ctlTree},
		{"remove", l.ControlSubject(wire.OpRemove), true, slotted, n.ctlRemove},
		{"spawn-child", l.ChildSpawnSubject(), true, slotted, n.ctlSpawnChild}, // supcap.go
	}
	for _, ep := range eps {
		opts := []micro.EndpointOpt{micro.WithEndpointSubject(ep.subject)}
		if ep.queue {
			opts = append(opts, micro.WithEndpointQueueGroup(l.ServiceName()))
		} else {
			opts = append(opts, micro.WithEndpointQueueGroupDisabled())
		}
		if err := svc.AddEndpoint(ep.name, n.endpoint(ep.admit, ep.h), opts...); err != nil {
			_ = svc.Stop()
			return nil, fmt.Errorf("%w: endpoint %s: %w", wire.ErrNATS, ep.name, err)
		}
	}
	return svc, nil
}

// maxControl bounds the spawns a node handles at once; more wait in their
// subscription, as all of them did before they ran aside.
const maxControl = 64

// Admission of a control request.
const (
	// inline requests never wait (list, info, state): they run on the
	// endpoint's subscription goroutine and take no slot.
	inline = iota
	// slotted requests run aside and hold one of maxControl slots.
	slotted
	// free requests are stops: they run aside and take no slot. Stops of
	// one actor share one wait, so they are bounded by the actors hosted,
	// and one busy actor's stops cannot fill the slots spawns need.
	free
)

// endpoint adapts a handler: a []byte result is the reply as is, anything
// else is JSON; an error is answered with its code in wire.ErrorHeader and
// in the micro error headers, so `nats micro stats` counts it.
//
// Requests that may wait run on goroutines of their own: micro calls an
// endpoint's handler on its subscription's one goroutine, so a stop that
// waits for a busy actor's handler would otherwise hold up every later
// stop, list and spawn on the node for that long.
func (n *Node) endpoint(admit int, h func(context.Context, micro.Request) (any, error)) micro.Handler {
	return micro.HandlerFunc(func(req micro.Request) {
		n.mu.Lock()
		if n.closing {
			n.mu.Unlock()
			n.respond(req, nil, fmt.Errorf("%w: node %s is shutting down", wire.ErrUnavailable, n.name))
			return
		}
		n.ctl.Add(1)
		n.mu.Unlock()
		if admit == inline {
			defer n.ctl.Done()
			v, err := h(n.ctx, req)
			n.respond(req, v, err)
			return
		}
		slot := admit == slotted
		if slot {
			n.ctlSlots <- struct{}{}
		}
		go func() {
			defer n.ctl.Done()
			if slot {
				defer func() { <-n.ctlSlots }()
			}
			ctx, cancel := context.WithDeadline(n.ctx, controlDeadline(req))
			defer cancel()
			v, err := h(ctx, req)
			n.respondLater(req, v, err)
		}()
	})
}

// controlWait bounds a control request that carries no deadline.
const controlWait = time.Minute

// controlDeadline is the deadline the caller put in the request's
// [wire.DeadlineHeader], or controlWait from now: a tree of Go guests
// compiles for minutes under load, and a caller that said it waits that
// long must not be cut off at a minute.
func controlDeadline(req micro.Request) time.Time {
	return headerDeadline(nats.Header(req.Headers()), controlWait)
}

// headerDeadline is the deadline in h's [wire.DeadlineHeader], or wait
// from now.
func headerDeadline(h nats.Header, wait time.Duration) time.Time {
	if v := h.Get(wire.DeadlineHeader); v != "" {
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
			return time.UnixMilli(ms)
		}
	}
	return time.Now().Add(wait)
}

// respondLater answers a request whose handler runs on a goroutine of its
// own, after micro's handler has returned: micro.Request's Respond and
// Error record their outcome for micro's stats, which micro reads right
// after the handler returns without a lock, so a late answer through
// them races. The reply is published directly, with the headers
// micro.Request.Error sets; micro's stats then count the request but not
// its error.
func (n *Node) respondLater(req micro.Request, v any, err error) {
	msg := &nats.Msg{Subject: req.Reply()}
	switch b, ok := v.([]byte); {
	case err != nil:
		code, status := wire.CodeOf(err)
		msg.Header = nats.Header{
			micro.ErrorHeader:     {err.Error()},
			micro.ErrorCodeHeader: {status},
			wire.ErrorHeader:      {code},
		}
		msg.Data = []byte(err.Error())
	case ok:
		msg.Data = b
	default:
		if msg.Data, err = json.Marshal(v); err != nil {
			n.log.Error("cannot encode a control reply", "err", err)
			return
		}
	}
	if msg.Subject == "" {
		return
	}
	if err := n.nc.PublishMsg(msg); err != nil {
		n.log.Warn("cannot answer a control request", "err", err)
	}
}

func (n *Node) respond(req micro.Request, v any, err error) {
	if err != nil {
		code, status := wire.CodeOf(err)
		_ = req.Error(status, err.Error(), []byte(err.Error()), micro.WithHeaders(micro.Headers{wire.ErrorHeader: {code}}))
		return
	}
	if b, ok := v.([]byte); ok {
		_ = req.Respond(b)
		return
	}
	_ = req.RespondJSON(v)
}

// decodeJSON decodes a control request strictly: a misspelt key is an
// error, never a default.
func decodeJSON(data []byte, v any) error { return wire.DecodeStrict(data, v) }

func (n *Node) ctlSpawn(ctx context.Context, req micro.Request) (any, error) {
	r, err := wire.DecodeSpawnRequest(req.Data())
	if err != nil {
		return nil, err
	}
	if r.Parent != "" {
		return nil, fmt.Errorf("%w: spawn %q: only a node names a parent, on %s (supervisor agents spawn children through the capability)", wire.ErrDenied, r.ID, n.cfg.Layout.ChildSpawnSubject())
	}
	return n.spawn(ctx, r.ID, &r.Manifest, "", "")
}

// Spawn starts an actor on this node from a manifest whose module (and
// WIT, if any) are named by digest and stored in the object store. The id
// must be free, or name a stopped actor, which starts anew: from its
// initial state, with a mailbox that starts after the mailbox stream's
// last sequence, so nothing sent to the old actor reaches the new one.
//
// A spawn is all or nothing, and its budget is its own: compiling and
// instantiating run aside, at most a few at once, under
// Config.SpawnTimeout rather than ctx. The registry entry is written only
// once the actor is hosted, and a spawn that fails gives the id back with
// a context of its own. When ctx ends first Spawn returns at once and the
// spawn goes on: the registry (`theater ls`) tells how it ended, and
// never lists an actor that no node hosts.
func (n *Node) Spawn(ctx context.Context, id string, m *manifest.Manifest) (wire.ActorInfo, error) {
	return n.spawn(ctx, id, m, "", "")
}

// spawn is Spawn; tree names the supervision tree the actor starts in
// (tree.go), "" for an actor supervised on its own; parent the agent
// whose child it is (supcap.go), "" for none.
func (n *Node) spawn(ctx context.Context, id string, m *manifest.Manifest, tree, parent string) (wire.ActorInfo, error) {
	if err := transport.ValidID(id); err != nil {
		return wire.ActorInfo{}, fmt.Errorf("%w: %w", wire.ErrInvalidID, err)
	}
	if err := m.Validate(); err != nil {
		return wire.ActorInfo{}, fmt.Errorf("%w: %w", wire.ErrBadManifest, err)
	}
	m = m.WithDefaults()
	if _, ok := m.ModuleDigest(); !ok {
		return wire.ActorInfo{}, fmt.Errorf("%w: module %q: a node takes modules by digest (sha256:...); upload the file with the client", wire.ErrBadManifest, m.Module)
	}
	n.mu.Lock()
	if n.closing {
		n.mu.Unlock()
		return wire.ActorInfo{}, fmt.Errorf("%w: node %s is shutting down", wire.ErrUnavailable, n.name)
	}
	n.ctl.Add(1)
	n.mu.Unlock()
	type result struct {
		info wire.ActorInfo
		err  error
	}
	done := make(chan result, 1)
	go func() {
		defer n.ctl.Done()
		sctx, cancel := context.WithTimeout(n.ctx, n.spawnTimeout())
		defer cancel()
		info, err := n.spawnAside(sctx, id, m, tree, parent)
		done <- result{info, err}
	}()
	select {
	case r := <-done:
		return r.info, r.err
	case <-ctx.Done():
		return wire.ActorInfo{}, fmt.Errorf("%w: spawn %q: its caller gave up; the spawn goes on, and `theater ls` shows whether it is hosted: %w", wire.ErrUnavailable, id, ctx.Err())
	}
}

// spawnAside is spawn's work, under its own deadline ctx.
func (n *Node) spawnAside(ctx context.Context, id string, m *manifest.Manifest, tree, parent string) (wire.ActorInfo, error) {
	start := time.Now()
	// The lease first: while it exists no sweep takes the actor for an
	// orphan, and a second spawn of the id fails here.
	l, err := n.takeLease(ctx, id, 0)
	if err != nil {
		if old, _, gerr := n.entry(ctx, id); gerr == nil && errors.Is(err, wire.ErrExists) {
			return wire.ActorInfo{}, fmt.Errorf("%w: %q runs on node %s; stop it first or choose another id", wire.ErrExists, id, old.Node)
		}
		return wire.ActorInfo{}, err
	}
	// Every way out below without a hosted actor gives the lease back,
	// with a context of its own: ctx may be what ended.
	giveBack := func() {
		rctx, cancel := context.WithTimeout(context.Background(), detachTimeout)
		n.releaseLease(rctx, l)
		cancel()
	}
	e := wire.Entry{Node: n.name, Digest: m.Module, Manifest: *m, Status: wire.StatusRunning, Updated: time.Now().UTC(), Tree: tree, Parent: parent}
	// A new actor's mailbox starts after everything stored so far, so
	// sends published to its subject before it existed are not its, nor
	// are an old actor's of the id (including those a crash left
	// unpurged and any published while it was stopped).
	if e.MailboxSeq, err = n.mailboxEnd(ctx); err != nil {
		giveBack()
		return wire.ActorInfo{}, err
	}
	old, oldRev, err := n.entry(ctx, id)
	switch {
	case errors.Is(err, wire.ErrUnknownActor):
		oldRev = 0
	case err != nil:
		giveBack()
		return wire.ActorInfo{}, err
	case old.Status != wire.StatusStopped && old.Status != wire.StatusFailed:
		giveBack()
		return wire.ActorInfo{}, fmt.Errorf("%w: %q runs on node %s; stop it first or choose another id", wire.ErrExists, id, old.Node)
	default:
		e.MailboxSeq = max(e.MailboxSeq, old.MailboxSeq)
	}
	var prev *wire.Entry
	if oldRev != 0 {
		prev = &old
	}
	if err := n.forgetEarlier(ctx, id, m, prev); err != nil { // channel.go
		giveBack()
		return wire.ActorInfo{}, err
	}
	select {
	case n.spawnSlots <- struct{}{}:
	case <-ctx.Done():
		giveBack()
		return wire.ActorInfo{}, fmt.Errorf("%w: spawn %q: waited for a free compile slot past the spawn's time limit: %w", wire.ErrUnavailable, id, ctx.Err())
	}
	err = n.host(ctx, id, e, l, true, e.MailboxSeq)
	<-n.spawnSlots
	if err != nil {
		giveBack()
		return wire.ActorInfo{}, err
	}
	// Hosted: now the registry may say so. Create, or update the stopped
	// entry read above; either fails if the id's entry changed meanwhile.
	b, _ := json.Marshal(e)
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), detachTimeout)
	defer cancel()
	if oldRev == 0 {
		_, err = n.actors.Create(wctx, id, b)
	} else {
		_, err = n.actors.Update(wctx, id, b, oldRev)
	}
	if err != nil {
		if h := n.lookup(id); h != nil {
			h.lose() // nothing was released yet but its start: let it go
		}
		if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyNotFound) {
			return wire.ActorInfo{}, fmt.Errorf("%w: %q was registered by another request meanwhile", wire.ErrExists, id)
		}
		return wire.ActorInfo{}, fmt.Errorf("%w: register %q: %w", wire.ErrNATS, id, err)
	}
	n.beatSoon()
	n.metrics.spawned(m.Name, time.Since(start))
	return n.info(id)
}

// spawnTimeout is Config.SpawnTimeout resolved.
func (n *Node) spawnTimeout() time.Duration {
	if n.cfg.SpawnTimeout > 0 {
		return n.cfg.SpawnTimeout
	}
	return DefaultSpawnTimeout
}

// mailboxEnd is the mailbox stream's last sequence.
func (n *Node) mailboxEnd(ctx context.Context) (uint64, error) {
	s, err := n.js.Stream(ctx, n.cfg.Layout.MailboxStream())
	if err != nil {
		return 0, fmt.Errorf("%w: mailbox stream: %w", wire.ErrNATS, err)
	}
	return s.CachedInfo().State.LastSeq, nil
}

func (n *Node) info(id string) (wire.ActorInfo, error) {
	h := n.lookup(id)
	if h == nil {
		return wire.ActorInfo{}, fmt.Errorf("%w: %q is not hosted on node %s", wire.ErrUnknownActor, id, n.name)
	}
	// Never h.turn: a handler may hold it for its whole deadline, and a
	// list or stop must not wait for that.
	status := wire.StatusRunning
	if h.stopReq.Load() {
		status = wire.StatusStopped
	}
	return wire.ActorInfo{ID: id, Node: n.name, Name: h.entry.Manifest.Name, Digest: h.entry.Digest,
		Status: status, Live: h.inst().Live(), MailboxSeq: h.handled.Load()}, nil
}

func (n *Node) lookup(id string) *hosted {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.hosted[id]
}

func (n *Node) actorRequest(req micro.Request) (string, error) {
	var r wire.ActorRequest
	if err := decodeJSON(req.Data(), &r); err != nil {
		return "", err
	}
	if err := transport.ValidID(r.ID); err != nil {
		return "", fmt.Errorf("%w: %w", wire.ErrInvalidID, err)
	}
	return r.ID, nil
}

func (n *Node) ctlStop(ctx context.Context, req micro.Request) (any, error) {
	id, err := n.actorRequest(req)
	if err != nil {
		return nil, err
	}
	if n.noteStopBy(id, req.Data()) { // supcap.go
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, n.shutdownBound(id))
		defer cancel()
	}
	return n.Stop(ctx, id)
}

// Stop stops an actor hosted here: it answers requests with
// [wire.ErrStopped] from now on, handles the sends stored for it before
// the stop, finishes the current message, runs its on-stop handler, appends a snapshot and a
// stop event to its chain, marks its registry entry stopped with its last
// state and gives back its lease. It returns when all that is done;
// meanwhile the node's other actors and endpoints carry on.
//
// ctx bounds the wait for the actor: when it ends first, the sends not yet
// handled stay unhandled (a later spawn of the id starts after them), and
// the actor is killed (the handler in flight is aborted, on-stop does not
// run). Either way the stop is recorded, with a context of its own, and
// the id can be spawned again. Concurrent stops of one actor share one
// wait and one stopped event.
func (n *Node) Stop(ctx context.Context, id string) (wire.ActorInfo, error) {
	h := n.lookup(id)
	if h == nil {
		return wire.ActorInfo{}, fmt.Errorf("%w: %q is not hosted on node %s", wire.ErrUnknownActor, id, n.name)
	}
	info, err := n.info(id)
	if err != nil {
		return wire.ActorInfo{}, err
	}
	// detach records the stopped status once the current handler is
	// done; taking the turn here would wait for it before the stop has
	// even begun.
	h.stopReq.Store(true)
	err = h.detach(ctx)
	n.beatSoon()
	info.Status, info.Live = wire.StatusStopped, false
	return info, err
}

func (n *Node) ctlState(ctx context.Context, req micro.Request) (any, error) {
	id, err := n.actorRequest(req)
	if err != nil {
		return nil, err
	}
	h := n.lookup(id)
	if h == nil {
		return nil, fmt.Errorf("%w: %q is not hosted on node %s", wire.ErrUnknownActor, id, n.name)
	}
	return h.inst().State(), nil
}

func (n *Node) ctlList(context.Context, micro.Request) (any, error) {
	n.mu.Lock()
	ids := make([]string, 0, len(n.hosted))
	for id := range n.hosted {
		ids = append(ids, id)
	}
	n.mu.Unlock()
	out := make([]wire.ActorInfo, 0, len(ids))
	for _, id := range ids {
		if info, err := n.info(id); err == nil {
			out = append(out, info)
		}
	}
	return out, nil
}

func (n *Node) ctlInfo(context.Context, micro.Request) (any, error) { return n.status(), nil }
