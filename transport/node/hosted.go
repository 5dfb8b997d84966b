package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/transport/wire"
	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

// purgeEvery is how many handled sends an actor's mailbox subject keeps
// before the node purges them: purging costs a JetStream request, and the
// mailbox's per-subject bound (MailboxDepth) is far larger.
const purgeEvery = 256

// hosted is one actor this node runs.
type hosted struct {
	n     *Node
	id    string
	a     *actor.Actor
	types actor.Types

	// turn is held while a message is handed to the actor and its result
	// recorded: requests and durable sends take turns, so the state
	// recorded with a mailbox sequence is exactly the state that send
	// left.
	turn sync.Mutex
	// Guarded by turn.
	entry   wire.Entry
	rev     uint64
	dirty   bool // a request changed the state since the last record
	unpurge int  // handled sends not yet purged
	// fenced is set when a record found the entry changed by another
	// node: the actor is no longer this node's to record or purge.
	fenced bool

	// sending is the mailbox sequence being delivered (0 otherwise) and
	// sends counts the guest's own sends in that handler: they name the
	// guest's sends for deduplication (Router.Send).
	sending atomic.Uint64
	sends   atomic.Uint64

	// handled mirrors entry.MailboxSeq and stopReq asks detach to record
	// the actor stopped: both are read without the turn, which a handler
	// may hold for its whole deadline.
	handled atomic.Uint64
	stopReq atomic.Bool

	sub      *nats.Subscription
	msgs     jetstream.MessagesContext
	pumpDone chan struct{}
	// ready is closed once the actor is listed in hosted, before the pump
	// hands it a send (Router.Send finds it there).
	ready chan struct{}
	// stopping is closed when detach starts: a pump retrying a record
	// gives up, and detach records itself.
	stopping  chan struct{}
	detachOne sync.Once
	detachErr error
}

// host spawns the actor of a registry entry on this node, subscribes to
// its requests and starts reading its mailbox. rev is the entry's
// revision, already naming this node; resume continues from the recorded
// state instead of running init.
func (n *Node) host(ctx context.Context, id string, e wire.Entry, rev uint64, resume bool) error {
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
	// The same spec an embedding program gets from the manifest: limits,
	// capabilities, log level, allow-list, types, initial state.
	spec, err := actor.SpecFromManifest(id, &e.Manifest, model)
	if err != nil {
		return classify(err)
	}
	if _, ok := e.Manifest.ModuleDigest(); !ok {
		return fmt.Errorf("%w: module %q is not named by its digest", wire.ErrBadManifest, e.Manifest.Module)
	}
	digest := spec.Digest
	types := spec.Types
	spec.Logger = n.cfg.ActorLogger
	// No supervisor is wired into the node yet: a failed actor keeps its
	// id and the next message recreates its instance from its last state.
	spec.FailurePolicy = actor.RecreateOnFailure
	n.mu.Lock()
	known := n.compiled[digest]
	n.mu.Unlock()
	if !known {
		if spec.Module, err = wire.GetObject(ctx, n.obs, e.Digest); err != nil {
			return err
		}
	}
	if resume {
		spec.State, spec.Resume = e.State, true
	}
	if e.Manifest.Capabilities.Message != nil {
		spec.Router = n.router
	}
	// The state is recorded in the entry, base64 in JSON: a state that
	// would make the entry too large for the bucket is a fault of the
	// handler that returned it (state unchanged), not an entry that
	// cannot be written.
	maxState, err := n.maxState(e)
	if err != nil {
		return err
	}
	if spec.Limits.MaxStateSize <= 0 {
		spec.Limits.MaxStateSize = actor.DefaultLimits.MaxStateSize
	}
	spec.Limits.MaxStateSize = min(spec.Limits.MaxStateSize, maxState)
	h := &hosted{n: n, id: id, types: types, entry: e, rev: rev,
		stopping: make(chan struct{}), ready: make(chan struct{})}
	h.handled.Store(e.MailboxSeq)
	spec.OnFailure = h.onFailure
	// The id is reserved while the actor starts and listed in hosted only
	// once it is complete, so control requests never see half an actor.
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
		n.mu.Lock()
		delete(n.starting, id)
		n.mu.Unlock()
		return classify(err)
	}
	if h.a, err = n.rt.Spawn(ctx, spec); err != nil {
		return fail(fmt.Errorf("node: spawn %q: %w", id, err))
	}
	n.mu.Lock()
	n.compiled[digest] = true
	n.mu.Unlock()
	h.turn.Lock()
	h.entry.State = h.a.State()
	err = h.record(ctx)
	h.turn.Unlock()
	if err == nil {
		if h.sub, err = n.nc.Subscribe(n.cfg.Layout.RequestSubject(id), h.onRequest); err != nil {
			err = fmt.Errorf("%w: subscribe: %w", wire.ErrNATS, err)
		}
	}
	if err == nil {
		err = h.startPump(ctx)
	}
	if err != nil {
		if h.sub != nil {
			_ = h.sub.Unsubscribe()
		}
		_ = h.a.Stop(ctx)
		return fail(fmt.Errorf("node: host %q: %w", id, err))
	}
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
	if resume {
		kind = wire.EventResumed
	}
	n.event(id, kind, fmt.Sprintf("module %s, mailbox from sequence %d", e.Digest, e.MailboxSeq+1))
	return nil
}

// entryHeaders is room left in an entry's value limit for the headers
// of its KV update (expected revision), which the server counts too.
const entryHeaders = 512

// maxState is the largest state whose entry fits the actors bucket: the
// value limit, less the entry without its state (at the longest mailbox
// sequence) and the update's headers, as base64 takes it.
func (n *Node) maxState(e wire.Entry) (int, error) {
	e.State, e.MailboxSeq, e.Updated = nil, math.MaxUint64, time.Now().UTC()
	b, err := json.Marshal(e)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", wire.ErrInternal, err)
	}
	room := n.valueLimit - len(b) - len(`,"state":""`) - entryHeaders
	if room < 4 {
		return 0, fmt.Errorf("%w: the registry entry (%d bytes) leaves no room for a state in the actors bucket's %d bytes",
			wire.ErrTooLarge, len(b), n.valueLimit)
	}
	return room / 4 * 3, nil
}

// onFailure publishes the failed event; the runtime calls it on a
// goroutine of its own.
func (h *hosted) onFailure(f actor.Failure) {
	h.n.event(h.id, wire.EventFailed, f.Error())
}

// record writes the entry with compare-and-set on its revision. A
// conflict means another node took the actor: this node's write is
// refused, which is the fence.
func (h *hosted) record(ctx context.Context) error {
	h.entry.Updated = time.Now().UTC()
	b, err := json.Marshal(h.entry)
	if err != nil {
		return fmt.Errorf("%w: %w", wire.ErrInternal, err)
	}
	rev, err := h.n.actors.Update(ctx, h.id, b, h.rev)
	for i := 0; errors.Is(err, jetstream.ErrKeyExists) && i < 3; i++ {
		// The revision moved. An earlier update of this node that timed
		// out may have landed after all: while the entry still names
		// this node, take its revision and write again. Otherwise
		// another node took the actor, and this is the fence.
		e, cur, gerr := h.n.entry(ctx, h.id)
		if gerr != nil && !errors.Is(gerr, wire.ErrUnknownActor) {
			return gerr
		}
		if gerr != nil || e.Node != h.n.name {
			h.fenced = true
			return fmt.Errorf("%w: %q was taken over by another node (its registry entry moved past revision %d)", wire.ErrStopped, h.id, h.rev)
		}
		h.rev = cur
		rev, err = h.n.actors.Update(ctx, h.id, b, h.rev)
	}
	if err != nil {
		return fmt.Errorf("%w: record %q at revision %d: %w", wire.ErrNATS, h.id, h.rev, err)
	}
	h.rev, h.dirty = rev, false
	return nil
}

func (h *hosted) limit() int { return h.entry.Manifest.Limits.MaxMessageBytes }

// onRequest answers one request on <prefix>.actor.<id>.req. The reply is
// published after the handler returned and its state was taken.
func (h *hosted) onRequest(m *nats.Msg) {
	enc := wire.EncodingOf(m.Header)
	if h.types.Request == nil {
		h.n.replyErr(m, fmt.Errorf("%w: actor %q takes no requests (its manifest has no types.request)", wire.ErrBadType, h.id))
		return
	}
	payload, err := wire.CheckPayload(m.Data, enc, h.types.Request, h.limit())
	if err != nil {
		h.n.replyErr(m, err)
		return
	}
	// The node's context, not one per request: the runtime bounds the
	// handler by its deadline, and the turn (not the actor's queue, which
	// honours a context) is where a request waits. A context.WithTimeout
	// here cost a timer and an allocation per request on the hot path.
	h.turn.Lock()
	reply, err := h.a.Request(h.n.ctx, payload)
	if err == nil {
		h.dirty = true
	}
	h.turn.Unlock()
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

// startPump reads the actor's mailbox subject after the recorded sequence
// with an ordered consumer: ephemeral, no acks, recreated by the client
// if it falls behind, so it costs the server nothing once the actor is
// gone.
func (h *hosted) startPump(ctx context.Context) error {
	l := h.n.cfg.Layout
	cons, err := h.n.js.OrderedConsumer(ctx, l.MailboxStream(), jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{l.SendSubject(h.id)},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    h.entry.MailboxSeq + 1,
	})
	if err != nil {
		return fmt.Errorf("%w: mailbox consumer: %w", wire.ErrNATS, err)
	}
	if h.msgs, err = cons.Messages(); err != nil {
		return fmt.Errorf("%w: mailbox consumer: %w", wire.ErrNATS, err)
	}
	h.pumpDone = make(chan struct{})
	go h.pump()
	return nil
}

func (h *hosted) pump() {
	defer close(h.pumpDone)
	select {
	case <-h.ready:
	case <-h.stopping:
	}
	for {
		m, err := h.msgs.Next()
		if err != nil {
			if !errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				h.n.log.Error("mailbox stopped", "actor", h.id, "err", err)
			}
			return
		}
		meta, err := m.Metadata()
		if err != nil {
			h.n.log.Error("mailbox message without metadata", "actor", h.id, "err", err)
			continue
		}
		if err := h.deliver(meta.Sequence.Stream, m); err != nil {
			// Only a fence, a stopped actor or a node shutting down end
			// here; other failures are retried in deliver.
			h.n.log.Info("mailbox stopped", "actor", h.id, "err", err)
			if h.isFenced() {
				// Let go of the actor: its new owner answers for it now.
				go func() { _ = h.detach(h.n.ctx) }()
			}
			return
		}
	}
}

// deliver hands one stored send to the actor and records its sequence with
// the state it left. A sequence at or below the recorded one was handled
// before a crash and is skipped: that is the exactly-once. An invalid
// stored send is recorded as handled and reported, never given to the
// actor.
func (h *hosted) deliver(seq uint64, m jetstream.Msg) error {
	ctx := h.n.ctx
	h.turn.Lock()
	defer h.turn.Unlock()
	if seq <= h.entry.MailboxSeq {
		return nil
	}
	state := h.a.State()
	payload, err := h.checkSend(m.Data(), wire.EncodingOf(m.Headers()))
	if err != nil {
		h.n.event(h.id, wire.EventRejected, fmt.Sprintf("mailbox sequence %d: %v", seq, err))
	} else if st, err := h.handle(ctx, seq, payload); err != nil {
		if errors.Is(err, actor.ErrStopped) || ctx.Err() != nil {
			return err
		}
		// The actor failed on this message; its supervisor is told
		// (OnFailure) and its state is unchanged. The message counts as
		// handled, so a poison message is not retried forever.
		h.n.log.Warn("send failed", "actor", h.id, "seq", seq, "err", err)
	} else {
		state = st // exactly the state this send left
	}
	h.entry.MailboxSeq, h.entry.State = seq, state
	h.handled.Store(seq)
	if err := h.recordRetrying(ctx, seq); err != nil {
		return err
	}
	if h.unpurge++; h.unpurge >= purgeEvery {
		h.purge(ctx)
	}
	return nil
}

// handle runs the send handler with the sequence that names the guest's
// own sends.
func (h *hosted) handle(ctx context.Context, seq uint64, payload []byte) ([]byte, error) {
	h.sends.Store(0)
	h.sending.Store(seq)
	defer h.sending.Store(0)
	return h.a.Deliver(ctx, payload)
}

// Bounds of the backoff between attempts to record a handled send.
const (
	recordRetryMin = 50 * time.Millisecond
	recordRetryMax = 5 * time.Second
)

// recordRetrying records a handled send, retrying a failed write with
// backoff until it lands: the next send is not taken before, so the entry
// always pairs a sequence with the state it left. It gives up only when
// the actor was fenced, the node shuts down or detach starts (which
// records itself); then the pump stops.
func (h *hosted) recordRetrying(ctx context.Context, seq uint64) error {
	wait := recordRetryMin
	for {
		err := h.record(ctx)
		if err == nil || h.fenced {
			return err
		}
		h.dirty = true // not recorded: the state is ahead of the entry
		if ctx.Err() != nil {
			return err
		}
		h.n.log.Warn("cannot record a handled send; retrying", "actor", h.id, "seq", seq, "retry_in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		case <-h.stopping:
			t.Stop()
			return err
		}
		wait = min(2*wait, recordRetryMax)
	}
}

func (h *hosted) checkSend(data []byte, enc wire.Encoding) ([]byte, error) {
	if h.types.Send == nil {
		return nil, fmt.Errorf("%w: actor %q takes no sends (its manifest has no types.send)", wire.ErrBadType, h.id)
	}
	payload, err := wire.CheckPayload(data, enc, h.types.Send, h.limit())
	return payload, classify(err)
}

func (h *hosted) isFenced() bool {
	h.turn.Lock()
	defer h.turn.Unlock()
	return h.fenced
}

// purge removes the handled sends from the actor's mailbox subject.
func (h *hosted) purge(ctx context.Context) {
	l := h.n.cfg.Layout
	s, err := h.n.js.Stream(ctx, l.MailboxStream())
	if err == nil {
		err = s.Purge(ctx, jetstream.WithPurgeSubject(l.SendSubject(h.id)), jetstream.WithPurgeSequence(h.entry.MailboxSeq+1))
	}
	if err != nil {
		h.n.log.Warn("cannot purge mailbox", "actor", h.id, "err", err)
		return
	}
	h.unpurge = 0
}

// detach stops taking messages for the actor, lets the current handler
// finish, stops it and records its state; the registry keeps status
// running (a node shutdown) unless stop set it otherwise.
func (h *hosted) detach(ctx context.Context) error {
	h.detachOne.Do(func() {
		close(h.stopping)
		var errs []error
		if h.sub != nil {
			errs = append(errs, h.sub.Drain())
		}
		if h.msgs != nil {
			h.msgs.Stop()
			<-h.pumpDone
		}
		h.turn.Lock()
		defer h.turn.Unlock()
		errs = append(errs, h.a.Stop(ctx))
		if h.stopReq.Load() {
			h.entry.Status = wire.StatusStopped
		}
		if !h.fenced {
			h.entry.State = h.a.State()
			if err := h.record(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		// A fenced node's sequence may be ahead of what its successor
		// recorded; purging up to it could lose sends.
		if h.unpurge > 0 && !h.fenced {
			h.purge(ctx)
		}
		h.n.mu.Lock()
		delete(h.n.hosted, h.id)
		h.n.mu.Unlock()
		h.detachErr = errors.Join(errs...)
	})
	return h.detachErr
}
