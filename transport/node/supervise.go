package node

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/replay"
	"github.com/theater-go/theater/supervisor"
	"github.com/theater-go/theater/transport/chainstore"
	"github.com/theater-go/theater/transport/wire"
)

// Chain lifecycle events of supervision (docs/SUPERVISION.md).
const (
	// lifeRestart precedes the chain.Restart of a restart by the actor's
	// supervisor: fields attempt, reason, start_from, delay.
	lifeRestart = "restart"
	// lifeSupStop: the supervisor stopped the actor for a sibling's
	// restart or its own escalation; fields by.
	lifeSupStop = "supervisor_stop"
	// lifeGaveUp precedes the chain.Stop of an actor its supervisor gave
	// up on: fields reason, restarts.
	lifeGaveUp = "gave_up"
	// stopFailed is the Reason of that chain.Stop: a restore that finds
	// it refuses to resurrect the actor.
	stopFailed = "failed"
	// lifeExited precedes the chain.Stop of an actor that exited
	// normally (proc_exit(0)) and is not restarted: fields reason,
	// restarts; stopExited is that stop's Reason.
	lifeExited = "exited"
	stopExited = "exited"
)

// errDown answers a request that waited for a restarting actor until its
// deadline.
var errDown = fmt.Errorf("%w: the actor is restarting", wire.ErrUnavailable)

// nodeSupervision is the node's root supervisor: every actor hosted here
// is supervised under it, by a one-child supervisor built from its
// manifest's [supervision] (so intensity is per actor) or by the tree it
// was started in. The root's children are temporary: the root never
// restarts a supervisor that gave up, the actor's failure is final.
type nodeSupervision struct {
	once sync.Once
	root *supervisor.Supervisor
	err  error

	mu    sync.Mutex
	trees map[string]*treeRun // by name (tree.go)
}

// rootSup returns the node's root supervisor, started on first use.
func (n *Node) rootSup() (*supervisor.Supervisor, error) {
	n.sv.once.Do(func() {
		n.sv.root, n.sv.err = supervisor.New(supervisor.Spec{Name: "node/" + n.name})
		if n.sv.err == nil {
			n.sv.err = n.sv.root.Start(context.Background(), supervisor.StartInitial, nil)
		}
	})
	return n.sv.root, n.sv.err
}

// stopRoot stops the root supervisor at the node's close, after every
// actor has been detached (each left it on its own).
func (n *Node) stopRoot(ctx context.Context) {
	if r, err := n.rootSup(); err == nil {
		_ = r.Stop(ctx)
	}
}

// supervised is a hosted actor as a [supervisor.Child]: the hosted
// wrapper (subscriptions, mailbox pump, chain appender, lease) lives as
// long as the node hosts the actor; what the supervisor stops and starts
// is its instance, an *actor.Actor spawned with [actor.EndOnFailure].
// While the instance is down (between a failure and its restart, during
// a backoff) the pump and requests wait at the up gate: sends stay in the
// durable mailbox and are handled, once each, when it is back.
type supervised struct {
	h *hosted
	// spec spawns an instance (recorder's clock, entropy, router);
	// initial is the spawn's state, for a restart from the initial state.
	spec    actor.Spec
	initial []byte

	mu       sync.Mutex
	up       chan struct{} // closed while an instance runs
	down     bool
	gen      uint64      // the running instance's; exits of others are stale
	exited   func(error) // the supervisor's, for gen
	pending  error       // an exit before the supervisor attached
	early    bool        // pending is set
	attached bool        // the supervisor has started the child once
	restarts int         // restarts on this node
	failure  string      // the failure the next restart follows
	last     string      // the last failure's reason, for theater tree
	delay    time.Duration
	sup      *supervisor.Supervisor // the actor's own supervisor (nil in a tree)
	// owner is the supervisor the actor (or its own supervisor) is a
	// child of, under the id parent: the root, or a tree's supervisor.
	owner  *supervisor.Supervisor
	parent string

	ending atomic.Bool   // detached, lost or given up: exits and stops are the node's
	ended  chan struct{} // closed with ending: nothing waits for a restart any more
	gaveUp atomic.Pointer[string]
}

func newSupervised(h *hosted, spec actor.Spec, initial []byte) *supervised {
	s := &supervised{h: h, spec: spec, initial: initial, up: make(chan struct{}), gen: 1, ended: make(chan struct{})}
	close(s.up)
	return s
}

// onExit is the OnExit of instance gen.
func (s *supervised) onExit(gen uint64) func(actor.Exit) {
	return func(x actor.Exit) {
		if s.ending.Load() {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if gen != s.gen {
			return
		}
		if !s.attached {
			s.pending, s.early = x.Err(), true
			return
		}
		if s.exited != nil {
			s.exited(x.Err())
		}
	}
}

// normalExit reports whether f is a proc_exit(0).
func normalExit(f *actor.Failure) bool { return f != nil && f.Normal() }

// handlerFailed is told of every failed handler, under the turn: a
// failure that ended the instance (any kind but a guest error, which is
// an answer) closes the up gate before the turn is released, so nothing
// is handed to the ended instance.
func (s *supervised) handlerFailed(err error) {
	var f actor.Failure
	if !errors.As(err, &f) {
		var pf *actor.Failure
		if !errors.As(err, &pf) {
			return
		}
		f = *pf
	}
	s.mu.Lock()
	s.failure, s.last = f.Kind.String(), f.Kind.String()
	if f.Kind != actor.GuestError {
		s.markDownLocked()
	}
	s.mu.Unlock()
}

func (s *supervised) markDownLocked() {
	if !s.down {
		s.down = true
		s.up = make(chan struct{})
	}
}

func (s *supervised) gate() (chan struct{}, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.up, s.down
}

// lockUp takes the actor's turn once its instance is up. It waits while
// the instance is down, until the actor stops being hosted (the error
// then says why) or deadline passes (zero: no deadline).
func (h *hosted) lockUp(deadline time.Time) error {
	for {
		up, down := h.sv.gate()
		if !down { // the usual case: no timer
			h.turn.Lock()
			if _, down = h.sv.gate(); !down {
				return nil
			}
			h.turn.Unlock()
			continue
		}
		var expire <-chan time.Time
		if !deadline.IsZero() {
			t := time.NewTimer(time.Until(deadline))
			defer t.Stop()
			expire = t.C
		}
		select {
		case <-up:
		case <-h.stopping:
			return h.sv.refusal()
		case <-h.sv.ended: // a stop while down: no restart will come
			return h.sv.refusal()
		case <-expire:
			return errDown
		}
		h.turn.Lock()
		if _, down := h.sv.gate(); !down {
			return nil
		}
		h.turn.Unlock()
	}
}

// refusal is what a message gets once the actor is no longer taking any.
func (s *supervised) refusal() error {
	if r := s.gaveUp.Load(); r != nil {
		return fmt.Errorf("%w: %q: %s", wire.ErrGaveUp, s.h.id, *r)
	}
	return fmt.Errorf("%w: %q is stopping", wire.ErrStopped, s.h.id)
}

// Start is [supervisor.Child.Start]. The first start attaches to the
// instance host spawned; every later one is a restart: a new instance
// from the last state the chain records or from the spawn's initial
// state (running init again), recorded in the chain as a lifecycle
// restart event and a chain.Restart (and, from the initial state, init's
// handled event and a snapshot) in one frame.
func (s *supervised) Start(ctx context.Context, from supervisor.StartFrom, exited func(error)) error {
	s.mu.Lock()
	if !s.attached {
		s.attached, s.exited = true, exited
		early, pending := s.early, s.pending
		s.mu.Unlock()
		if early {
			exited(pending)
		}
		return nil
	}
	s.mu.Unlock()
	h := s.h
	h.turn.Lock()
	defer h.turn.Unlock()
	if s.ending.Load() {
		return fmt.Errorf("%w: %q is no longer hosted here", wire.ErrStopped, h.id)
	}
	last := h.a.State()
	spec := s.spec
	s.mu.Lock()
	gen := s.gen + 1
	reason, delay := s.failure, s.delay
	attempt := s.restarts + 1
	s.mu.Unlock()
	spec.OnExit = s.onExit(gen)
	restartFrom := last
	if from == supervisor.StartInitial {
		spec.State, spec.Resume, restartFrom = s.initial, false, s.initial
	} else {
		spec.State, spec.Resume = last, true
	}
	a, err := h.n.rt.Spawn(ctx, spec)
	inputs, out := h.rec.Take()
	if err != nil {
		return fmt.Errorf("node: restart %q: %w", h.id, err)
	}
	if reason == "" {
		reason = "stopped by its supervisor"
	}
	st := a.State()
	bodies := []chain.Body{
		&chain.Lifecycle{What: lifeRestart, Fields: map[string]string{
			"attempt": strconv.Itoa(attempt), "reason": reason, "start_from": string(from), "delay": delay.String()}},
		&chain.Restart{Reason: reason, State: chain.Sum(restartFrom)},
	}
	if from == supervisor.StartInitial {
		bodies = append(bodies,
			&chain.Handled{Call: chain.CallInit, Payload: s.initial, Inputs: inputs, State: chain.Sum(st), Out: out})
	}
	// From the last state the two events need not land together (a
	// lifecycle event alone changes nothing on replay; queued together
	// they go in one frame anyway); init's handled event must land with
	// the restart that explains it, so they are one group, which must fit
	// in one chain message (chainstore.ErrTooLarge otherwise). The
	// snapshot of init's state goes after it on its own: without it a
	// restore runs init again, as it does from that snapshot
	// (instances.go), and the group holds the state only once.
	var ps []*chainstore.Pending
	if from == supervisor.StartInitial {
		if ps, err = h.app.AppendAll(ctx, bodies...); err == nil {
			var p *chainstore.Pending
			if p, err = h.app.Append(ctx, &chain.Snapshot{State: st}); err == nil {
				ps = append(ps, p)
			}
		}
	} else {
		for _, b := range bodies {
			var p *chainstore.Pending
			if p, err = h.app.Append(ctx, b); err != nil {
				break
			}
			ps = append(ps, p)
		}
	}
	if err != nil {
		_ = a.Kill(context.WithoutCancel(ctx))
		go h.lose()
		return fmt.Errorf("node: restart %q: %w", h.id, err)
	}
	h.sv.mu.Lock()
	h.a = a
	h.sv.mu.Unlock()
	h.accountInstances()
	h.stateHash = chain.Sum(st)
	if from == supervisor.StartInitial {
		h.snapHash, h.sinceSnap = h.stateHash, 0
		h.rels <- release{p: ps[2], out: out}
	}
	s.mu.Lock()
	s.gen, s.exited, s.restarts = gen, exited, attempt
	s.failure, s.delay = "", 0
	if s.down {
		s.down = false
		close(s.up)
	}
	s.mu.Unlock()
	h.n.metrics.restarted(h)
	h.n.event(h.id, wire.EventRestarted, fmt.Sprintf("attempt %d after %s, from the %s state", attempt, reason, from))
	return nil
}

// Stop is [supervisor.Child.Stop]: the supervisor stops the instance (a
// sibling's one_for_all or rest_for_one restart, or its escalation). The
// actor stays hosted, its instance down until the next Start. A stop of
// the actor itself (theater stop, the node's shutdown, a takeover) is the
// node's, which has ended the supervision first: then this does nothing.
func (s *supervised) Stop(ctx context.Context) error {
	if s.ending.Load() {
		return nil
	}
	h := s.h
	s.mu.Lock()
	s.markDownLocked()
	s.gen++ // the exit of the instance stopped here is not a failure
	s.mu.Unlock()
	h.lockTurn(ctx)
	defer h.turn.Unlock()
	err := h.a.Kill(context.WithoutCancel(ctx))
	if !s.ending.Load() && h.app.Err() == nil {
		if _, aerr := h.app.Append(context.WithoutCancel(ctx), &chain.Lifecycle{What: lifeSupStop, Fields: map[string]string{"by": "supervisor"}}); aerr != nil {
			go h.lose()
		}
	}
	h.n.event(h.id, wire.EventSupervisorStopped, "")
	return err
}

// Record is the [supervisor.EventSink] of the actor's own supervisor.
// It runs on that supervisor's goroutine, so what waits on the
// supervisor (a give-up ends it) goes to a goroutine of its own.
func (s *supervised) Record(e supervisor.Event) {
	switch e.Kind {
	case supervisor.RestartDelayed:
		s.mu.Lock()
		s.delay = e.Delay
		s.mu.Unlock()
	case supervisor.Escalated:
		go s.h.giveUp(e.Reason)
	case supervisor.Failed:
		if s.h.entry.Manifest.WithDefaults().Supervision.Restart == supervisor.Temporary {
			go s.h.giveUp("a temporary actor is not restarted: " + e.Reason)
		}
	case supervisor.Exited:
		// A normal exit restarts only a permanent actor; its own
		// supervisor would keep a transient one down for good.
		if s.h.entry.Manifest.WithDefaults().Supervision.Restart != supervisor.Permanent {
			go s.h.exitNormally()
		}
	}
}

// supervise puts a newly hosted actor under the node's root, in a
// supervisor of its own built from its manifest's [supervision].
func (n *Node) supervise(ctx context.Context, h *hosted) error {
	if n.inTree(h) || deferToTree(ctx, h) {
		return nil // the tree's supervisor attaches to it (tree.go)
	}
	root, err := n.rootSup()
	if err != nil {
		return err
	}
	sv := h.entry.Manifest.WithDefaults().Supervision
	sup, err := supervisor.New(supervisor.Spec{Name: h.id, Intensity: sv.Intensity, Period: sv.Period, Backoff: sv.Backoff,
		Children: []supervisor.ChildSpec{h.entry.Manifest.ChildSpec(h.id, h.sv)}}, supervisor.WithEvents(h.sv))
	if err != nil {
		return fmt.Errorf("%w: supervision: %w", wire.ErrBadManifest, err)
	}
	h.sv.mu.Lock()
	h.sv.sup, h.sv.owner, h.sv.parent = sup, root, h.id
	h.sv.mu.Unlock()
	if err := root.StartChild(ctx, supervisor.ChildSpec{ID: h.id, Restart: supervisor.Temporary, Child: sup}); err != nil {
		return fmt.Errorf("%w: supervise %q: %w", wire.ErrInternal, h.id, err)
	}
	return nil
}

// unsupervise ends the supervision of an actor the node stops hosting:
// from here on its exits are not failures and its supervisor does not
// restart it. It must not be called with the turn held (a restart may be
// waiting for it).
func (s *supervised) unsupervise(ctx context.Context) {
	if s.ending.Swap(true) {
		return
	}
	close(s.ended)
	s.mu.Lock()
	owner, parent := s.owner, s.parent
	s.mu.Unlock()
	if owner == nil {
		return
	}
	if err := owner.TerminateChild(ctx, parent); err != nil && !errors.Is(err, supervisor.ErrUnknownChild) && !errors.Is(err, supervisor.ErrNotRunning) {
		s.h.n.log.Warn("cannot end the supervision of an actor", "actor", s.h.id, "err", err)
	}
}

// giveUp ends an actor its supervisor gave up on: it takes no more
// messages (requests answer [wire.ErrGaveUp]), its chain ends with a
// lifecycle gave_up event and a stop whose reason is "failed", its
// registry entry says [wire.StatusFailed] with its last state, its
// mailbox is left as it is (no purge) and its lease is given back. No
// node adopts a failed actor, and a restore refuses a chain that ends so.
func (h *hosted) giveUp(reason string) {
	h.end(reason, lifeGaveUp, stopFailed, wire.StatusFailed, wire.EventGaveUp)
}

// exitNormally ends an actor that exited normally (proc_exit(0)) and
// that its supervisor does not restart (transient, temporary): as
// giveUp, but its chain ends with a lifecycle exited event and a stop
// whose reason is "exited", and its entry says [wire.StatusStopped], so
// requests answer [wire.ErrStopped] and a spawn of the id starts anew.
func (h *hosted) exitNormally() {
	h.end("exited normally (proc_exit(0))", lifeExited, stopExited, wire.StatusStopped, wire.EventExited)
}

// end ends an actor its supervisor does not restart: the lifecycle event
// what (fields reason, restarts) and a stop with stopReason close its
// chain, its registry entry gets status, the node event kind is
// published. Its mailbox is left as it is and its lease is given back.
func (h *hosted) end(reason, what, stopReason, status, kind string) {
	<-h.ready
	if h.sv.ending.Load() {
		// The node let go of the actor first (stopped, lost, shut down):
		// its supervisor gave up on an actor that is not here any more.
		return
	}
	if status == wire.StatusFailed {
		h.sv.gaveUp.Store(&reason)
	}
	h.sv.unsupervise(context.Background())
	h.detachOne.Do(func() {
		h.stopIntake()
		h.turn.Lock()
		defer h.turn.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), detachTimeout)
		defer cancel()
		_ = h.a.Kill(ctx)
		h.sv.mu.Lock()
		restarts := h.sv.restarts
		h.sv.mu.Unlock()
		var errs []error
		var ps []*chainstore.Pending
		ok := h.app.Err() == nil && !h.lease.isLost()
		if ok {
			var err error
			ps, err = h.app.AppendAll(ctx,
				&chain.Lifecycle{What: what, Fields: map[string]string{"reason": reason, "restarts": strconv.Itoa(restarts)}},
				&chain.Stop{Reason: stopReason})
			errs = append(errs, err)
		}
		close(h.rels)
		<-h.relDone
		cerr := h.app.Close(ctx)
		errs = append(errs, cerr)
		if ok && cerr == nil {
			e := h.entry
			e.Node, e.MailboxSeq, e.State, e.Updated = h.n.name, h.durable.Load(), h.a.State(), time.Now().UTC()
			e.Status = status
			perr := h.n.putEntry(ctx, h.id, e)
			errs = append(errs, perr)
			h.n.releaseLease(ctx, h.lease)
			if perr == nil && len(ps) == 2 {
				h.childGaveUp(reason, ps[1].Seq()) // supcap.go
			}
			h.endChildren()
		}
		h.drainRequests() // supcap.go
		h.n.mu.Lock()
		if h.n.hosted[h.id] == h {
			delete(h.n.hosted, h.id)
		}
		h.n.mu.Unlock()
		h.detachErr = h.sv.refusal()
		if err := errors.Join(errs...); err != nil {
			h.n.log.Error("cannot record the end of an actor its supervisor does not restart", "actor", h.id, "status", status, "err", err)
		}
		h.n.log.Warn("actor ended; its supervisor does not restart it", "actor", h.id, "status", status, "reason", reason)
		h.n.event(h.id, kind, reason)
		h.n.beatSoon()
	})
}

// ended reports whether a restored chain ends an actor that must not be
// resumed: one its supervisor gave up on (a stop with reason failed), or
// one that was stopped, including a stop cut short by a crash after its
// on-stop handler was recorded and before the stop event or the registry
// were written (a resume would run theater_on_stop, and release its
// sends, a second time). A node restart or a takeover must not resurrect
// it. The registry is set right (failed or stopped) when the node that
// ended it did not get to write it. The takeover's owner event is already
// appended then; the chain is no worse for it (a later spawn of the id
// continues it).
//
// A chain that ends with a failure its supervisor does not restart (any
// failure of a temporary actor, a normal exit of a transient or
// temporary one) ends the actor too: the node that recorded the failure
// died, or could not append the end, before closing the chain.
func (n *Node) ended(ctx context.Context, id string, e wire.Entry, last []chain.Body) error {
	status, why := "", ""
scan:
	for i := len(last) - 1; i >= 0; i-- {
		switch b := last[i].(type) {
		case *chain.Failure:
			if status, why = notRestarted(e, b); status != "" {
				break scan
			}
		case *chain.Stop:
			status, why = wire.StatusStopped, "its chain ends with its stop"
			if b.Reason == stopFailed {
				status, why = wire.StatusFailed, "its chain ends with its supervisor's give-up"
			}
			break scan
		case *chain.Handled:
			if b.Call == chain.CallStop {
				status, why = wire.StatusStopped, "its chain ends with its on-stop handler (a stop cut short)"
			}
			break scan
		case *chain.Owner, *chain.Snapshot:
			continue
		default:
			break scan
		}
	}
	if status == "" {
		return nil
	}
	if e.Status != status {
		e.Status, e.Updated = status, time.Now().UTC()
		if err := n.putEntry(ctx, id, e); err != nil {
			n.log.Warn("cannot mark an ended actor "+status, "actor", id, "err", err)
		}
	}
	if status == wire.StatusFailed {
		return fmt.Errorf("%w: %q: %s", wire.ErrGaveUp, id, why)
	}
	return fmt.Errorf("%w: %q: %s", wire.ErrStopped, id, why)
}

// notRestarted is the status an actor ends with when failure f is the
// last thing its chain records and the manifest's restart type does not
// restart it after f, with why; "" when it restarts, or when another
// decides (a tree's supervisor, a supervisor agent, which hears of the
// failure from the chain: supcap.go). Failures that keep the instance
// (a guest error, a rejected send, a call too large) and a failed
// on-stop handler end nothing here.
func notRestarted(e wire.Entry, f *chain.Failure) (status, why string) {
	if e.Tree != "" || e.Parent != "" || f.Call == chain.CallStop {
		return "", ""
	}
	switch f.Reason {
	case "guest_error", "rejected", replay.TooLarge:
		return "", ""
	}
	restart := e.Manifest.WithDefaults().Supervision.Restart
	switch {
	case normalExitDetail(f.Detail) && restart != supervisor.Permanent:
		return wire.StatusStopped, "its chain ends with its normal exit, which a " + string(restart) + " actor is not restarted after"
	case restart == supervisor.Temporary && !normalExitDetail(f.Detail):
		return wire.StatusFailed, "its chain ends with a failure (" + f.Reason + "), which a temporary actor is not restarted after"
	}
	return "", ""
}

// normalExitPrefix starts the detail of a normal exit's failure event, so
// a restore can tell it from proc_exit with another code.
const normalExitPrefix = "proc_exit(0): "

// failureDetail is the detail a failure event records for herr.
func failureDetail(herr error) string {
	var f actor.Failure
	var pf *actor.Failure
	switch {
	case errors.As(herr, &f) && normalExit(&f):
		return normalExitPrefix + herr.Error()
	case errors.As(herr, &pf) && normalExit(pf):
		return normalExitPrefix + herr.Error()
	}
	return herr.Error()
}

func normalExitDetail(d string) bool { return strings.HasPrefix(d, normalExitPrefix) }

// inst is the actor's current instance. The turn guards h.a for the
// handlers; readers that must not wait for the turn (info, state, a kill
// that aborts a handler) take it here, since a restart replaces it.
func (h *hosted) inst() *actor.Actor {
	h.sv.mu.Lock()
	defer h.sv.mu.Unlock()
	return h.a
}

// requestWait bounds how long a request without a deadline header waits
// for a restarting actor.
const requestWait = 30 * time.Second

// requestDeadline is the deadline a request carries in its
// [wire.DeadlineHeader], or requestWait from now.
func requestDeadline(m *nats.Msg) time.Time {
	return headerDeadline(m.Header, requestWait)
}

var (
	_ supervisor.Child     = (*supervised)(nil)
	_ supervisor.EventSink = (*supervised)(nil)
)
