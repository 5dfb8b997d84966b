package node

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/replay"
	"github.com/theater-go/theater/transport/chainstore"
	"github.com/theater-go/theater/transport/wire"
	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

// purgeEvery is how many durably handled sends an actor's mailbox subject
// keeps before the node purges them (a JetStream request); a quarter of
// the mailbox depth when that is smaller, so handled sends never fill a
// shallow mailbox.
const purgeEvery = 256

// DefaultSnapshotEvery is how many handled events pass between two
// snapshots of an actor's state in its chain (Config.SnapshotEvery).
const DefaultSnapshotEvery = 100

// releaseWindow bounds the handler calls whose effects wait for their
// record to become durable; a full window makes the next handler wait.
const releaseWindow = 1024

// hosted is one actor this node runs.
type hosted struct {
	n     *Node
	id    string
	a     *actor.Actor
	types actor.Types
	entry wire.Entry // module, manifest; written at spawn, takeover, stop
	tag   string     // wire.TypesTag of the manifest
	lease *lease
	app   *chainstore.Appender
	sv    *supervised // the actor as its supervisor's child (supervise.go)

	// turn is held while a message is handed to the actor and its event
	// appended: requests and sends take turns, so each event records
	// exactly the state its handler left, in the order they ran.
	turn sync.Mutex
	// Guarded by turn.
	stateHash chain.Hash // of the actor's state after the last event
	snapHash  chain.Hash // of the state in the last snapshot
	sinceSnap int        // handled events since the last snapshot
	mbox      uint64     // the last mailbox sequence handled (appended)
	seen      *seenSends // sends from actors handled, by chain-derived id

	// rec records what the host gives the guest during a handler (clock,
	// random, request replies) and holds its sends, which are published
	// once its event is durable.
	rec *replay.Recorder

	// rels are the handler calls whose effects wait for durability, in
	// chain order; the releaser publishes them.
	rels    chan release
	relDone chan struct{}

	// handled is the last handled mailbox sequence, read without the turn;
	// durable the last one durably recorded, unpurged how many durable
	// sends the mailbox still keeps.
	handled  atomic.Uint64
	durable  atomic.Uint64
	unpurged int // releaser's
	stopReq  atomic.Bool
	lost     atomic.Bool // let go by lose: requests get no answer
	// unreleased is set when the releaser gave up on an effect: no
	// restore point is written after it, so a restore republishes it.
	unreleased atomic.Bool

	sub, wakeSub *nats.Subscription
	stopTimers   func()             // ends the move of fired timers into the mailbox (timer.go)
	soon         *soonTimers        // fires one-shots set here at their due time (timer.go)
	stopDelayed  func()             // ends the spawns of a supervisor agent's fired delayed children (supcap.go)
	stopChannels func()             // ends the move of publications into the mailbox (channel.go)
	stopSub      *nats.Subscription // answers "stopping" during a stop
	wake         chan struct{}
	lastWake     atomic.Pointer[string] // the message id of the last wake-up (mailbox.go)
	progress     chan struct{}          // signalled after each mailbox message handled
	pumpDone     chan struct{}
	// ready is closed once the actor is listed in hosted; stopping when
	// detach (or lose) starts.
	ready     chan struct{}
	stopping  chan struct{}
	stopOnce  sync.Once
	detachOne sync.Once
	detachErr error
	hits      actor.LimitsHit // the budget's counts metrics last saw; guarded by turn
	opens     uint64          // the actor's instances the chain accounts for (instances.go); guarded by turn
}

// release is one handler call's effects: released only when p is durable.
type release struct {
	p       *chainstore.Pending
	seq     uint64 // the event's chain sequence when p is nil (a republish)
	out     []chain.Outgoing
	writes  []*replay.PendingWrite // store writes, applied before the sends (store.go)
	timers  []actor.TimerOp        // timer ops, done before the sends (timer.go)
	pubs    []actor.Publication    // channel publications, made before the sends (channel.go)
	mbox    uint64
	respond func(err error) // a request's reply; nil for a send
	point   *pendingPoint   // p is a snapshot: write its restore point (restorepoint.go)
}

// host starts actor id on this node under lease l: it restores the state
// from the chain (or, fresh, starts the chain with a spawn event), appends
// an owner event fenced on the head it read, subscribes to the actor's
// requests and starts reading its mailbox. mailboxFrom is where a fresh
// actor's mailbox starts.
func (n *Node) host(ctx context.Context, id string, e wire.Entry, l *lease, fresh bool, mailboxFrom uint64) error {
	return n.hostFrom(ctx, id, e, l, fresh, mailboxFrom, nil)
}

// hostFrom is host continuing prep, what prepare read of the chain
// before the lease was taken (nil: nothing).
func (n *Node) hostFrom(ctx context.Context, id string, e wire.Entry, l *lease, fresh bool, mailboxFrom uint64, prep *restored) error {
	var witSrc []byte
	var err error
	if e.Manifest.WIT != "" {
		if witSrc, err = wire.GetObject(ctx, n.obs, e.Manifest.WIT); err != nil {
			return err
		}
	}
	var model *wit.Model
	if witSrc != nil {
		if model, err = wit.Parse(e.Manifest.Name+".wit", witSrc); err != nil {
			return fmt.Errorf("%w: wit: %w", wire.ErrBadManifest, err)
		}
	}
	spec, err := actor.SpecFromManifest(id, &e.Manifest, model)
	if err != nil {
		return classify(err)
	}
	hexDigest, ok := e.Manifest.ModuleDigest()
	if !ok {
		return fmt.Errorf("%w: module %q is not named by its digest", wire.ErrBadManifest, e.Manifest.Module)
	}
	moduleDigest, err := chain.ParseHash(hexDigest)
	if err != nil {
		return fmt.Errorf("%w: module %q: %w", wire.ErrBadManifest, e.Manifest.Module, err)
	}
	digest := spec.Digest
	spec.Logger = n.cfg.ActorLogger
	// A failure ends the instance; its supervisor decides (supervise.go).
	spec.FailurePolicy = actor.EndOnFailure
	n.mu.Lock()
	known := n.compiled[digest]
	n.mu.Unlock()
	if !known {
		if spec.Module, err = wire.GetObject(ctx, n.obs, e.Digest); err != nil {
			return err
		}
	}
	h := &hosted{n: n, id: id, types: spec.Types, entry: e, tag: wire.TypesTag(&e.Manifest), lease: l, wake: make(chan struct{}, 1), progress: make(chan struct{}, 1),
		rels: make(chan release, releaseWindow), relDone: make(chan struct{}),
		stopping: make(chan struct{}), ready: make(chan struct{})}
	var router actor.Router
	if e.Manifest.Capabilities.Message != nil {
		router = n.router
	}
	h.rec = replay.NewRecorder(nil, nil, router)
	// A state must fit one snapshot event, which the server takes as one
	// message: a larger state is the handler's fault (state unchanged),
	// not an append that fails and stops the actor.
	if spec.Limits.MaxStateSize <= 0 {
		spec.Limits.MaxStateSize = actor.DefaultLimits.MaxStateSize
	}
	if room := int(n.nc.MaxPayload()) - snapshotOverhead; room > 0 {
		spec.Limits.MaxStateSize = min(spec.Limits.MaxStateSize, room)
	}
	spec.OnFailure = h.onFailure
	live := spec
	live.OnHibernate = h.hibernated
	live.Clock, live.Entropy = h.rec.Clock(), h.rec.Entropy()
	if router != nil {
		live.Router = h.rec.Router()
	}
	if spec.HTTP != nil {
		// Responses are inputs: recorded live, answered from the chain on replay.
		live.HTTP = h.rec.HTTP(spec.HTTP)
	}
	if spec.SecretNames != nil {
		// Digests are inputs; a restore's replay checks them against the
		// node's secrets.
		spec.Secrets = n.secrets()
		live.Secrets = h.rec.Secrets(spec.Secrets)
	}
	if e.Manifest.Capabilities.Supervisor != nil {
		// Outcomes are inputs; the children are node actors (supcap.go).
		live.Supervision = h.rec.Supervision(supervision{n: n, h: h})
	}
	var kvs actor.Store
	if e.Manifest.Capabilities.Store != nil {
		// Results are inputs; writes are effects, applied once durable.
		s, err := n.storeOf(ctx)
		if err != nil {
			return err
		}
		kvs = retryingStore{s, n}
		live.Store = h.rec.Store(kvs)
	}
	var tms actor.Timers
	if e.Manifest.Capabilities.Timer != nil {
		// Ops are inputs and effects, done once durable (timer.go).
		t, err := n.timersOf(ctx, id)
		if err != nil {
			return err
		}
		t.soon = newSoonTimers(h.fireSoon)
		h.soon = t.soon
		tms = t
		live.Timers = h.rec.Timers(t)
	}
	var chs actor.Channels
	if e.Manifest.Capabilities.Channel != nil {
		// Publications are inputs and effects, made once durable (channel.go).
		c, err := n.channelsOf(ctx, id)
		if err != nil {
			return err
		}
		chs = c
		live.Channels = h.rec.Channels(c)
	}

	n.mu.Lock()
	if n.closing {
		n.mu.Unlock()
		return fmt.Errorf("%w: node %s is shutting down", wire.ErrUnavailable, n.name)
	}
	if n.hosted[id] != nil || n.starting[id] {
		n.mu.Unlock()
		return fmt.Errorf("%w: %q", wire.ErrExists, id)
	}
	n.starting[id] = true
	n.mu.Unlock()
	fail := func(err error) error {
		if h.a != nil {
			_ = h.a.Kill(context.WithoutCancel(ctx))
		}
		if h.app != nil {
			_ = h.app.Close(context.WithoutCancel(ctx))
		}
		if h.sub != nil {
			_ = h.sub.Unsubscribe()
		}
		if h.wakeSub != nil {
			_ = h.wakeSub.Unsubscribe()
		}
		h.soon.close()
		if h.stopTimers != nil {
			h.stopTimers()
		}
		if h.stopDelayed != nil {
			h.stopDelayed()
		}
		if h.stopChannels != nil {
			h.stopChannels()
		}
		n.mu.Lock()
		delete(n.starting, id)
		n.mu.Unlock()
		return classify(err)
	}

	head, err := n.store.Head(ctx, id)
	if err != nil {
		return fail(fmt.Errorf("%w: chain head of %q: %w", wire.ErrNATS, id, err))
	}
	var rs *restored
	owner := &chain.Owner{Node: n.name, Incarnation: l.val.Incarnation}
	if !fresh && head.Seq > 0 {
		// Fence first, then read: once the owner event is durable, the
		// node that had the actor (a zombie, or a process under the same
		// name whose lease is still valid by its clock) cannot append,
		// so the chain read next is the whole of it. What prepare read
		// before the lease needs only the events appended since.
		if h.app, err = n.fence(ctx, id, head, owner); err != nil {
			return fail(err)
		}
		if rs = prep; rs == nil || n.readOn(ctx, id, rs) != nil {
			if rs, err = n.restore(ctx, id); err != nil {
				return fail(err)
			}
		}
		if rs.head != h.app.Head() {
			return fail(fmt.Errorf("%w: the chain of %q moved while it was read", chainstore.ErrFenced, id))
		}
		if err := n.ended(ctx, id, e, rs.tail); err != nil {
			return fail(err)
		}
	} else {
		h.seen = newSeenSends()
		if head.Seq > 0 {
			// The id spawned again: the new actor continues the chain,
			// and a send the old one handled, republished by its sender
			// after this spawn, is still handled already.
			old, err := n.restore(ctx, id)
			if err != nil {
				return fail(err)
			}
			h.seen = old.seen
		}
		if h.app, err = n.store.Appender(id, head); err != nil {
			return fail(err)
		}
		// The owner event moves the chain's last subject sequence: a
		// writer that read an older head is fenced from here on.
		manifestJSON, _ := json.Marshal(e.Manifest)
		first := []chain.Body{&chain.Spawn{Module: moduleDigest, Manifest: manifestJSON, State: spec.State}}
		if mailboxFrom > 0 {
			first = append(first, &chain.Lifecycle{What: mailboxStart, Fields: map[string]string{"after": fmt.Sprint(mailboxFrom)}})
		}
		if e.Parent != "" {
			first = append(first, spawnedBy(e.Parent)) // supcap.go
		}
		for _, b := range append(first, owner) {
			if _, err := h.app.Append(ctx, b); err != nil {
				return fail(err)
			}
		}
	}
	h.mbox = mailboxFrom
	var replayed []release
	init := rs == nil || !rs.inited
	if rs != nil {
		h.mbox, h.seen = rs.mbox, rs.seen
		if init {
			// The node that wrote the chain stopped before init was
			// recorded: run it now.
			live.State = rs.spawn.State
		} else {
			// The last snapshot (or spawn) and every event after it, run
			// again with the recorded inputs: the state the chain reached.
			rep, err := replay.Replay(ctx, n.rt, spec, rs.events)
			if err != nil {
				return fail(fmt.Errorf("%w: restore %q: %w", wire.ErrInternal, id, err))
			}
			if !rep.OK() {
				return fail(fmt.Errorf("%w: restore %q: the chain does not replay: %s", wire.ErrInternal, id, rep.Divergence))
			}
			live.State, live.Resume = rep.State, true
			h.snapHash = rs.snapHash
		}
		// Effects of recent events may not have been released before
		// the crash: publish them again under their chain-derived ids,
		// which the mailbox stream's duplicate window stores once.
		for _, r := range rs.recent {
			replayed = append(replayed, release{out: r.out, seq: r.seq})
		}
		if kvs != nil {
			h.reapplyWrites(ctx, kvs, rs.recent)
		}
		if tms != nil {
			h.reapplyTimers(ctx, tms, rs.recent)
		}
		if chs != nil {
			h.republish(ctx, chs, rs.recent)
		}
	}
	h.sv = newSupervised(h, live, spec.State)
	live.OnExit = h.sv.onExit(1)
	start := time.Now()
	if h.a, err = n.rt.Spawn(ctx, live); err != nil {
		h.rec.Take()
		h.rec.Drop(h.rec.Writes())
		h.rec.TimerOps()
		h.rec.Publications()
		return fail(fmt.Errorf("node: spawn %q: %w", id, err))
	}
	if !known {
		n.metrics.compiled(e.Manifest.Name, time.Since(start))
	}
	n.mu.Lock()
	n.compiled[digest] = true
	n.mu.Unlock()
	st := h.a.State()
	h.stateHash = chain.Sum(st)
	h.accountInstances()
	if init {
		inputs, out := h.rec.Take()
		writes, timers := h.rec.Writes(), h.rec.TimerOps()
		pubs := h.rec.Publications()
		p, err := h.app.Append(ctx, &chain.Handled{Call: chain.CallInit, Payload: live.State, Inputs: inputs, State: h.stateHash, Out: out})
		if err != nil {
			h.rec.Drop(writes)
			return fail(err)
		}
		replayed = append(replayed, release{p: p, out: out, writes: writes, timers: timers, pubs: pubs})
	}
	// A snapshot now, so the next restore starts here.
	if h.stateHash != h.snapHash {
		p, err := h.app.Append(ctx, &chain.Snapshot{State: h.a.State()})
		if err != nil {
			return fail(err)
		}
		h.snapHash = h.stateHash
		r := release{p: p}
		if !init {
			// A restore from init's snapshot runs init again, from the
			// spawn event (instances.go): it reads the chain from its start.
			r.point = h.pointAt()
		}
		replayed = append(replayed, r)
	}
	h.handled.Store(h.mbox)
	h.durable.Store(h.mbox)
	started := fmt.Sprintf("module %s, chain from event %d, mailbox from sequence %d", e.Digest, head.Seq+1, h.mbox+1)
	if h.sub, err = n.nc.Subscribe(n.cfg.Layout.RequestSubject(id), h.onRequest); err == nil {
		h.wakeSub, err = n.nc.Subscribe(n.cfg.Layout.SendSubject(id), h.onWake)
	}
	if err != nil {
		return fail(fmt.Errorf("%w: subscribe: %w", wire.ErrNATS, err))
	}
	if tms != nil {
		if h.stopTimers, err = h.forwardTimers(ctx, n.timerStream); err != nil {
			return fail(err)
		}
	}
	if e.Manifest.Capabilities.Supervisor != nil {
		if h.stopDelayed, err = h.spawnDelayed(ctx); err != nil { // supcap.go
			return fail(err)
		}
	}
	if subs := subscriptions(&e.Manifest); len(subs) > 0 && chs != nil {
		if h.stopChannels, err = h.forwardChannels(ctx, subs); err != nil {
			return fail(err)
		}
	}
	// From here on nothing fails: ready is closed below, which lose
	// waits for.
	h.pumpDone = make(chan struct{})
	go h.releaser()
	for _, r := range replayed {
		h.rels <- r
	}
	go h.pump()
	n.mu.Lock()
	delete(n.starting, id)
	closing := n.closing
	if !closing {
		n.hosted[id] = h
	}
	n.mu.Unlock()
	close(h.ready)
	if closing { // Close did not see this actor: put it to rest here
		return errors.Join(fmt.Errorf("%w: node %s is shutting down", wire.ErrUnavailable, n.name), h.detach(ctx))
	}
	kind := wire.EventStarted
	if !fresh {
		kind = wire.EventResumed
		n.metrics.resumed(h)
	}
	n.event(id, kind, started)
	if err := n.supervise(ctx, h); err != nil {
		return errors.Join(err, h.detach(ctx))
	}
	if rs != nil {
		h.childResumed(rs) // supcap.go
	}
	return nil
}

// fence appends the owner event to actor id's chain after head and waits
// until it is durable. While the previous owner still appends (its lease
// is valid by its own clock until its next renewal fails), the head moves
// under the fence: it reads the head again and retries, for up to one
// node TTL, by which time that owner has stopped writing.
func (n *Node) fence(ctx context.Context, id string, head chainstore.Head, owner *chain.Owner) (*chainstore.Appender, error) {
	deadline := time.Now().Add(n.ttl())
	// The first retries come soon: the previous owner may already have
	// stopped serving (its lease renewal failed) and the actor answers
	// nothing until the fence holds.
	wait := time.Millisecond
	for {
		app, err := n.store.Appender(id, head)
		if err != nil {
			return nil, err
		}
		p, err := app.Append(ctx, owner)
		if err == nil {
			err = p.Wait(ctx)
		}
		if err == nil {
			return app, nil
		}
		_ = app.Close(context.WithoutCancel(ctx))
		if !errors.Is(err, chainstore.ErrFenced) || time.Now().After(deadline) {
			return nil, err
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
		wait = min(2*wait, 500*time.Millisecond)
		if head, err = n.store.Head(ctx, id); err != nil {
			return nil, fmt.Errorf("%w: chain head of %q: %w", wire.ErrNATS, id, err)
		}
	}
}

// snapshotOverhead is room left in a message for a snapshot event's
// fields and headers around the state.
const snapshotOverhead = 4096

// mailboxStart is the lifecycle event that says where a re-spawned
// actor's mailbox starts: after the sends of the actor that had the id.
const mailboxStart = "mailbox_start"

// onFailure publishes the failed event; the runtime calls it on a
// goroutine of its own.
func (h *hosted) onFailure(f actor.Failure) {
	h.n.event(h.id, wire.EventFailed, f.Error())
}

func (h *hosted) limit() int { return h.entry.Manifest.Limits.MaxMessageBytes }

// serving reports whether the actor may handle a message now: its lease
// is valid by this node's clock and it is not stopping.
func (h *hosted) serving() bool {
	select {
	case <-h.stopping:
		return false
	default:
	}
	return h.lease.valid() && h.app.Err() == nil
}

// handle runs one handler call and appends its event; it holds the turn.
// The effects go to the releaser, which publishes them once the event is
// durable. A handler that fails is recorded as a failure and releases
// nothing but the error to a requester.
func (h *hosted) handle(call chain.Call, from, msgID string, mbox uint64, payload []byte, respond func([]byte, error)) error {
	ctx := h.n.ctx
	var reply, st []byte
	var err error
	if err := h.wakeAhead(ctx); err != nil {
		return err
	}
	start := time.Now()
	if call == chain.CallSend {
		st, err = h.a.Deliver(ctx, payload)
	} else {
		reply, err = h.a.Request(ctx, payload)
	}
	h.n.metrics.handledCall(h, string(call), time.Since(start), err)
	inputs, out := h.rec.Take()
	writes, timers := h.rec.Writes(), h.rec.TimerOps()
	pubs := h.rec.Publications()
	if errors.Is(err, actor.ErrStopped) || errors.Is(err, actor.ErrKilled) || errors.Is(err, actor.ErrClosed) || ctx.Err() != nil {
		h.rec.Drop(writes)
		return err // nothing ran to completion: nothing to record
	}
	herr := err
	if herr != nil {
		h.sv.handlerFailed(herr)
	}
	if size := eventBytes(from, msgID, payload, reply, inputs, out); size > h.n.maxEvent() {
		h.rec.Drop(writes) // its outcome is not kept
		return h.tooLarge(ctx, call, from, msgID, mbox, payload, size, herr, respond)
	}
	var p *chainstore.Pending
	if herr != nil {
		// A failed handler is its handled event (the inputs it consumed,
		// the state kept, no reply, no sends) and a failure, in one
		// message (a frame): replay runs it and expects that failure.
		reason := cmp.Or(failureReason(herr), "failed")
		out = nil
		h.rec.Drop(writes) // a failed handler leaves no write behind
		writes, timers, pubs = nil, nil, nil
		bodies := h.withWake(
			&chain.Handled{Call: call, From: from, MsgID: msgID, MailboxSeq: mbox, Payload: payload, Inputs: inputs, State: h.stateHash},
			&chain.Failure{Reason: reason, Call: call, Detail: failureDetail(herr), MsgID: msgID, MailboxSeq: mbox})
		ps, err := h.app.AppendAll(ctx, bodies...)
		if errors.Is(err, chainstore.ErrTooLarge) {
			// The pair does not fit in one message (a long error text
			// beside a near-limit payload): refused before anything was
			// sent, so it is recorded as too large instead, behind its
			// wake if it opened an instance.
			if len(bodies) == 3 {
				if _, err := h.app.Append(ctx, bodies[0]); err != nil {
					return err
				}
			}
			return h.tooLarge(ctx, call, from, msgID, mbox, payload, eventBytes(from, msgID, payload, nil, inputs, nil)+len(herr.Error()), herr, respond)
		}
		if err != nil {
			return err
		}
		p = ps[len(ps)-1]
		h.childFailed(herr, p)
	} else {
		if st == nil {
			st = h.a.State()
		}
		hs := chain.Sum(st)
		// The wake event of an instance wakeAhead did not see coming (the
		// idle timer fired after it looked) goes right before the call's.
		for _, b := range h.withWake(&chain.Handled{Call: call, From: from, MsgID: msgID, MailboxSeq: mbox, Payload: payload,
			Inputs: inputs, State: hs, Reply: reply, Out: out}) {
			if p, err = h.app.Append(ctx, b); err != nil {
				h.rec.Drop(writes)
				return err
			}
		}
		h.stateHash = hs
	}
	if mbox > 0 {
		h.mbox = mbox
		h.handled.Store(mbox)
	}
	r := release{p: p, out: out, mbox: mbox, writes: writes, timers: timers, pubs: pubs}
	if respond != nil {
		r.respond = func(err error) {
			if err == nil {
				err = herr
			}
			respond(reply, err)
		}
	}
	h.rels <- r
	if herr == nil {
		if h.sinceSnap++; h.sinceSnap >= h.n.snapshotEvery && h.stateHash != h.snapHash {
			sp, err := h.app.Append(ctx, &chain.Snapshot{State: st})
			if err != nil {
				return err
			}
			h.snapHash, h.sinceSnap = h.stateHash, 0
			if call == chain.CallSend {
				h.seen.add(from, seenKey(h.id, msgID)) // the point holds what the chain holds
			}
			h.rels <- release{p: sp, point: h.pointAt()}
			if err := h.afterSnapshot(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// releaser publishes each handler call's sends and reply, in chain order,
// once its event is durable. A failed append releases nothing of it or of
// anything after it, and lets the actor go.
func (h *hosted) releaser() {
	defer close(h.relDone)
	var failed error
	for r := range h.rels {
		if r.p != nil && failed == nil {
			if err := r.p.Wait(context.Background()); err != nil {
				failed = err
				h.n.log.Warn("chain append failed; letting the actor go", "actor", h.id, "err", err)
				go h.lose()
			}
		}
		if failed != nil {
			h.rec.Drop(r.writes)
			// Fenced, another node owns the actor now and answers the
			// request (every node hosting it receives it): an error from
			// here would race that answer.
			if r.respond != nil && !errors.Is(failed, chainstore.ErrFenced) {
				r.respond(fmt.Errorf("%w: %q: its chain append failed: %w", wire.ErrUnavailable, h.id, failed))
			}
			continue
		}
		seq := r.seq
		if r.p != nil {
			seq = r.p.Seq()
		}
		h.applyWrites(seq, r.writes)
		h.applyTimers(seq, r.timers)
		h.applyPublications(seq, r.pubs)
		for i, o := range r.out {
			h.publish(seq, i, o)
		}
		if r.point != nil {
			h.writePoint(r.p, r.point)
		}
		if r.respond != nil {
			r.respond(nil)
		}
		if r.mbox > 0 {
			h.durable.Store(r.mbox)
			if h.unpurged++; h.unpurged >= h.n.purgeEvery() {
				h.purge(h.n.ctx, r.mbox)
			}
		}
	}
}

// publish sends the i-th message of the event at chain sequence seq with
// its derived id, retrying a failed publish with backoff while the node
// runs.
func (h *hosted) publish(seq uint64, i int, o chain.Outgoing) {
	wait := 50 * time.Millisecond
	for try := 0; ; try++ {
		m := nats.NewMsg(h.n.cfg.Layout.SendSubject(o.To))
		m.Data = o.Payload
		m.Header.Set(wire.FromHeader, h.id)
		err := wire.PublishSend(h.n.ctx, h.n.js, m, chain.MessageID(h.id, seq, i))
		if err == nil {
			return
		}
		if h.n.ctx.Err() != nil || try >= 20 {
			h.n.log.Error("cannot deliver a recorded send", "actor", h.id, "to", o.To, "seq", seq, "index", i, "err", err)
			h.unreleased.Store(true)
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-h.n.ctx.Done():
			t.Stop()
		}
		wait = min(2*wait, time.Second)
	}
}

// onRequest answers one request on <prefix>.actor.<id>.req. The reply is
// published only once the handler's event is durable. Without a valid
// lease the node does not answer at all: another node may own the actor
// now, and its answer is the one the requester should get.
func (h *hosted) onRequest(m *nats.Msg) {
	if h.refuseStopping(m) || !h.serving() {
		return
	}
	if wire.Expired(m.Header, time.Now()) {
		return // the requester has given up: nobody reads the answer
	}
	if tag := m.Header.Get(wire.TypesHeader); tag != "" && tag != h.tag {
		h.n.replyErr(m, fmt.Errorf("%w: %q was spawned with other types than the request was encoded under (tag %s, the actor's %s); read its entry again",
			wire.ErrTypesChanged, h.id, tag, h.tag))
		return
	}
	enc, err := wire.MsgEncoding(m)
	if err != nil {
		h.n.replyErr(m, err)
		return
	}
	if h.types.Request == nil {
		h.n.replyErr(m, fmt.Errorf("%w: actor %q takes no requests (its manifest has no types.request)", wire.ErrBadType, h.id))
		return
	}
	payload, err := wire.CheckPayload(m.Data, enc, h.types.Request, h.limit())
	if err != nil {
		h.n.replyErr(m, err)
		return
	}
	respond := func(reply []byte, err error) {
		if err != nil {
			h.n.replyErr(m, classify(fmt.Errorf("node: actor %q: %w", h.id, err)))
			return
		}
		out := &nats.Msg{Data: reply}
		if enc == wire.JSON {
			if out.Data, err = codec.ToJSON(h.types.Reply, reply); err != nil {
				h.n.replyErr(m, fmt.Errorf("%w: reply: %w", wire.ErrInternal, err))
				return
			}
			out.Header = nats.Header{wire.ContentTypeHeader: []string{wire.ContentJSON}}
		}
		if err := m.RespondMsg(out); err != nil {
			h.n.log.Warn("cannot reply", "actor", h.id, "err", err)
		}
	}
	if err := h.lockUp(requestDeadline(m)); err != nil {
		if !h.lost.Load() {
			h.n.replyErr(m, err)
		}
		return
	}
	if h.refuseStopping(m) || !h.serving() || wire.Expired(m.Header, time.Now()) {
		h.turn.Unlock()
		return
	}
	err = h.handle(chain.CallRequest, m.Header.Get(wire.FromHeader), "", 0, payload, respond)
	h.turn.Unlock()
	if err != nil {
		if !errors.Is(err, chainstore.ErrFenced) { // the new owner answers
			h.n.replyErr(m, classify(fmt.Errorf("node: actor %q: %w", h.id, err)))
		}
		if h.app.Err() != nil {
			go h.lose()
		}
	}
}

// refuseStopping answers a request to an actor whose stop has begun with
// [wire.ErrStopped], or one being given up on with [wire.ErrGaveUp], and
// reports whether it did. An actor this node lost
// answers nothing: its new owner's answer is the one that counts.
func (h *hosted) refuseStopping(m *nats.Msg) bool {
	if h.lost.Load() {
		return false
	}
	if h.sv.gaveUp.Load() != nil {
		// Being given up on: gave_up at once, not silence until the
		// requester's timeout (supcap.go's agents poll for a successor).
		h.n.replyErr(m, h.sv.refusal())
		return true
	}
	if !h.stopReq.Load() {
		return false
	}
	h.n.replyErr(m, fmt.Errorf("%w: %q is stopping", wire.ErrStopped, h.id))
	return true
}

// drain waits until the pump has handled every send stored for the actor
// when the stop began, or ctx ends, or the pump ends (the actor was lost).
// What is left is logged: the next spawn of the id starts after it.
func (h *hosted) drain(ctx context.Context) {
	last, err := h.n.mailbox.GetLastMsgForSubject(ctx, h.n.cfg.Layout.SendSubject(h.id))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return
	}
	if err != nil {
		h.n.log.Warn("stop: cannot read the mailbox end; not draining", "actor", h.id, "err", err)
		return
	}
	h.onWake(nil)
	for h.handled.Load() < last.Sequence {
		select {
		case <-h.progress:
		case <-h.pumpDone:
			return
		case <-ctx.Done():
			h.n.log.Warn("stop: its context ended before the mailbox was drained; the sends left are not handled",
				"actor", h.id, "handled", h.handled.Load(), "stored", last.Sequence)
			return
		}
	}
}

// replyErr answers a request with an error code header and the message.
func (n *Node) replyErr(m *nats.Msg, err error) {
	if m.Reply == "" {
		return
	}
	code, _ := wire.CodeOf(err)
	out := &nats.Msg{Data: []byte(err.Error()), Header: nats.Header{wire.ErrorHeader: []string{code}}}
	if rerr := m.RespondMsg(out); rerr != nil {
		n.log.Warn("cannot reply", "err", rerr)
	}
}

func (h *hosted) checkSend(data []byte, enc wire.Encoding) ([]byte, error) {
	if h.types.Send == nil {
		return nil, fmt.Errorf("%w: actor %q takes no sends (its manifest has no types.send)", wire.ErrBadType, h.id)
	}
	payload, err := wire.CheckPayload(data, enc, h.types.Send, h.limit())
	return payload, classify(err)
}

// purge removes the durably handled sends from the actor's mailbox
// subject, up to and including upTo.
func (h *hosted) purge(ctx context.Context, upTo uint64) {
	err := h.n.mailbox.Purge(ctx, jetstream.WithPurgeSubject(h.n.cfg.Layout.SendSubject(h.id)), jetstream.WithPurgeSequence(upTo+1))
	if err != nil {
		if ctx.Err() == nil {
			h.n.log.Warn("cannot purge mailbox", "actor", h.id, "err", err)
		}
		return
	}
	h.unpurged = 0
}

// stopIntake stops taking messages: no more mailbox reads, and requests
// are answered "stopping" (or, when the actor is lost, not at all) until
// the request subscription ends with the detach.
func (h *hosted) stopIntake() {
	h.stopOnce.Do(func() {
		close(h.stopping)
		if h.wakeSub != nil {
			_ = h.wakeSub.Unsubscribe()
		}
		if h.stopTimers != nil {
			h.stopTimers() // fired timers wait in the stream for the next host
		}
		if h.stopDelayed != nil {
			h.stopDelayed() // so do delayed spawns
		}
		if h.stopChannels != nil {
			h.stopChannels() // publications wait in the stream for the next host
		}
		if h.pumpDone != nil {
			<-h.pumpDone
		}
	})
}

// endRequests ends the request subscription: from here on a request finds
// no responder.
func (h *hosted) endRequests() {
	for _, sub := range []*nats.Subscription{h.sub, h.stopSub} {
		if sub != nil {
			_ = sub.Unsubscribe()
		}
	}
}

// lose lets go of an actor this node no longer owns (its lease was taken,
// or an append failed or was fenced): it stops taking messages and ends
// the actor without running anything more and without writing anything;
// the effects of events already durable are still released.
func (h *hosted) lose() {
	<-h.ready // host has finished setting the actor up
	h.sv.unsupervise(context.Background())
	h.detachOne.Do(func() {
		h.lost.Store(true)
		h.endRequests() // first: a request now finds no responder at once
		h.stopIntake()
		h.turn.Lock()
		defer h.turn.Unlock()
		_ = h.a.Kill(context.Background())
		close(h.rels)
		<-h.relDone
		_ = h.app.Close(context.Background())
		h.n.mu.Lock()
		if h.n.hosted[h.id] == h {
			delete(h.n.hosted, h.id)
		}
		h.n.mu.Unlock()
		// A lease another node took is left alone (releaseLease deletes at
		// our revision only); one still ours, after an append the server
		// refused, is given back, or the actor would stay leased to a live
		// node that does not host it.
		rctx, cancel := context.WithTimeout(context.Background(), detachTimeout)
		h.n.releaseLease(rctx, h.lease)
		cancel()
		h.detachErr = fmt.Errorf("%w: %q is no longer this node's", wire.ErrStopped, h.id)
		h.n.event(h.id, wire.EventStopped, "taken over by another node")
	})
}

// detachTimeout bounds the writes of a detach (snapshot, stop event,
// registry entry, lease), which use a context of their own: a caller's
// context that ended while the handler ran must not leave the registry
// saying running with nothing hosting the actor.
const detachTimeout = 30 * time.Second

// lockTurn takes the turn, or, when ctx ends first, kills the actor (which
// aborts the handler holding the turn) and then takes it. It reports
// whether it killed the actor.
func (h *hosted) lockTurn(ctx context.Context) bool {
	if h.turn.TryLock() {
		return false
	}
	got := make(chan struct{})
	go func() {
		h.turn.Lock()
		close(got)
	}()
	select {
	case <-got:
		return false
	case <-ctx.Done():
		_ = h.inst().Kill(context.Background())
		<-got
		return true
	}
}

// detach stops taking messages for the actor, lets the current handler
// finish (or kills the actor when ctx ends first), stops it, appends a
// snapshot (and a stop event when the actor was stopped), waits until
// every event is durable and its effects released, writes the registry
// entry and gives the lease back. A stop that completes publishes the
// stopped event, once however many stops wait on it.
func (h *hosted) detach(ctx context.Context) error {
	h.sv.unsupervise(ctx)
	h.detachOne.Do(func() {
		stopped := h.stopReq.Load()
		if stopped {
			// The request subscription waits behind a busy handler; a
			// second one answers at once that the actor is stopping.
			var err error
			h.stopSub, err = h.n.nc.Subscribe(h.n.cfg.Layout.RequestSubject(h.id), func(m *nats.Msg) { h.refuseStopping(m) })
			if err != nil {
				h.n.log.Warn("stop: cannot answer requests with stopping", "actor", h.id, "err", err)
			}
			// Sends stored before the stop are handled first: each was
			// acknowledged to its sender.
			h.drain(ctx)
		} else {
			// A shutdown: the actor goes on elsewhere or after a restart,
			// and a requester is told at once that nothing answers here.
			h.endRequests()
		}
		h.stopIntake()
		var errs []error
		killed := h.lockTurn(ctx)
		defer h.turn.Unlock()
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), detachTimeout)
		defer cancel()
		detail := ""
		switch {
		case killed:
			detail = "killed: the stop ran past its context while a handler ran"
		case stopped:
			// On the caller's ctx: Actor.Stop kills the actor if its
			// on-stop handler runs past it.
			err := h.a.Stop(ctx)
			inputs, out := h.rec.Take()
			// Its store writes and timer operations are dropped: a
			// stopped actor has no later handler to see them.
			h.rec.Drop(h.rec.Writes())
			h.rec.TimerOps()
			// Its publications are released like its sends.
			pubs := h.rec.Publications()
			switch {
			case errors.Is(err, actor.ErrKilled):
				detail = "killed: the on-stop handler ran past the stop's context"
			case err == nil || failureReason(err) != "":
				// theater_on_stop is an event like any handler: its
				// inputs recorded, its sends released once it is durable;
				// a failed one (with its failure) releases nothing.
				if h.app.Err() == nil && !h.lease.isLost() {
					if rerr := h.recordStop(wctx, err, inputs, out, pubs); rerr != nil {
						errs = append(errs, rerr)
					}
				}
			default:
				errs = append(errs, err)
			}
		default:
			// A node shutdown: the actor goes on elsewhere or after a
			// restart, so its on-stop handler does not run.
			errs = append(errs, h.a.Kill(wctx))
		}
		st := h.a.State()
		ok := h.app.Err() == nil && !h.lease.isLost()
		if ok && chain.Sum(st) != h.snapHash {
			// A stop handler's state change is recorded by the snapshot.
			p, err := h.app.Append(wctx, &chain.Snapshot{State: st})
			errs = append(errs, err)
			if err == nil && !stopped {
				h.rels <- release{p: p, point: h.pointAt()}
			}
		}
		var stopEvent *chainstore.Pending
		if ok && stopped {
			if b := h.parentStop(); b != nil { // supcap.go
				_, err := h.app.Append(wctx, b)
				errs = append(errs, err)
			}
			var err error
			stopEvent, err = h.app.Append(wctx, &chain.Stop{Reason: "stopped"})
			errs = append(errs, err)
		}
		close(h.rels)
		<-h.relDone
		h.endRequests()
		cerr := h.app.Close(wctx)
		if err := h.app.Err(); cerr == nil && !errors.Is(err, chainstore.ErrClosed) {
			// Close ends a failed appender without an error of its own: a
			// refused append means the stop (or its on-stop event) is not
			// in the chain.
			cerr = err
		}
		errs = append(errs, cerr)
		recorded := false
		if cerr != nil {
			// Nothing is recorded: give the lease back (unless another
			// node holds it now), so the actor is hosted again from its
			// chain and the stop can be asked again, instead of staying
			// leased here and hosted nowhere.
			h.n.releaseLease(wctx, h.lease)
		}
		if ok && cerr == nil {
			e := h.entry
			e.Node, e.MailboxSeq, e.State, e.Updated = h.n.name, h.durable.Load(), st, time.Now().UTC()
			if stopped {
				e.Status = wire.StatusStopped
			}
			if err := h.n.putEntry(wctx, h.id, e); err != nil {
				errs = append(errs, err)
			} else {
				recorded = true
			}
			if h.unpurged > 0 {
				h.purge(wctx, h.durable.Load())
			}
			h.n.releaseLease(wctx, h.lease)
		}
		h.n.mu.Lock()
		delete(h.n.hosted, h.id)
		h.n.mu.Unlock()
		h.detachErr = errors.Join(errs...)
		if stopped && recorded && h.detachErr == nil {
			h.n.event(h.id, wire.EventStopped, detail)
			h.childStopped(stopEvent.Seq())
			h.endChildren()
		}
	})
	return h.detachErr
}

// failureReason names the kind of a handler's failure as the chain
// records it; "" when err is not an actor failure.
func failureReason(err error) string {
	var f actor.Failure
	var pf *actor.Failure
	switch {
	case errors.As(err, &f):
		return replay.Reason(f.Kind)
	case errors.As(err, &pf):
		return replay.Reason(pf.Kind)
	}
	return ""
}

// recordStop appends theater_on_stop's event (herr is its failure, if
// it failed) and hands its sends to the releaser.
func (h *hosted) recordStop(ctx context.Context, herr error, inputs []chain.Input, out []chain.Outgoing, pubs []actor.Publication) error {
	hs := chain.Sum(h.a.State())
	if herr != nil {
		_, err := h.app.AppendAll(ctx, h.withWake(
			&chain.Handled{Call: chain.CallStop, Inputs: inputs, State: hs},
			&chain.Failure{Reason: failureReason(herr), Call: chain.CallStop, Detail: herr.Error()})...)
		return err
	}
	var p *chainstore.Pending
	var err error
	for _, b := range h.withWake(&chain.Handled{Call: chain.CallStop, Inputs: inputs, State: hs, Out: out}) {
		if p, err = h.app.Append(ctx, b); err != nil {
			return err
		}
	}
	h.stateHash = hs
	h.rels <- release{p: p, out: out, pubs: pubs}
	return nil
}

// putEntry writes a registry entry. The state in it is a convenience for
// `theater state` of a stopped actor (the chain has it anyway): an entry
// the bucket refuses with it is written without it.
func (n *Node) putEntry(ctx context.Context, id string, e wire.Entry) error {
	b, _ := json.Marshal(e)
	_, err := n.actors.Put(ctx, id, b)
	if err != nil && e.State != nil {
		e.State = nil
		b, _ = json.Marshal(e)
		_, err = n.actors.Put(ctx, id, b)
	}
	if err != nil {
		return fmt.Errorf("%w: registry %q: %w", wire.ErrNATS, id, err)
	}
	return nil
}
