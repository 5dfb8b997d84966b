package replay

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
)

// What names the kind of a [Divergence].
type What string

// The ways a replay can differ from its record.
const (
	// DivergedCall: the guest made a host call the record does not have
	// at this index: past the recorded inputs, or another call than the
	// one recorded there.
	DivergedCall What = "unrecorded host call"
	// DivergedUnconsumed: the handler returned without making the
	// recorded host call at this index.
	DivergedUnconsumed What = "recorded input not consumed"
	// DivergedInput: the recorded input cannot answer the call: its Data
	// is malformed, its random bytes are not as many as asked, or the
	// request went to another actor.
	DivergedInput What = "input does not fit the call"
	// DivergedFailure: the handler failed where the record says it did
	// not, did not where it did, or failed of another kind.
	DivergedFailure What = "failure"
	// DivergedState: the state the handler returned has another hash.
	DivergedState What = "state"
	// DivergedReply: the handler's reply differs.
	DivergedReply What = "reply"
	// DivergedOut: the handler's outgoing messages differ.
	DivergedOut What = "out"
	// DivergedSnapshot: a snapshot event's state is not the state replay
	// reached, or a restart names a state replay never had.
	DivergedSnapshot What = "snapshot"
	// DivergedModule: a later spawn event (the actor spawned again)
	// names another module than the spec replay runs, and no
	// [WithSpecFor] gives the spec for it.
	DivergedModule What = "module"
)

// Divergence is the first place a replay differs from its record.
type Divergence struct {
	// Seq is the event's sequence in the chain.
	Seq  uint64
	What What
	// Call is the index of the host call in the event's inputs, and
	// Name its name ("clock", "random", "request"), when the divergence
	// is about a host call; Call is -1 otherwise.
	Call int
	Name string
	// Want is what the record says, Got what replay produced.
	Want, Got string
}

func (d *Divergence) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "event %d: %s", d.Seq, d.What)
	if d.Call >= 0 {
		fmt.Fprintf(&b, " (host call %d, %s)", d.Call, d.Name)
	}
	fmt.Fprintf(&b, ": recorded %s, replayed %s", d.Want, d.Got)
	return b.String()
}

// Report is the outcome of a replay.
type Report struct {
	Actor string
	// Events is how many events were replayed, Handled how many of them
	// re-ran a handler, and StatesEqual how many handler outcomes
	// (state hash, reply, out, failure) matched their record.
	Events, Handled, StatesEqual int
	// Last is the sequence of the last event replayed.
	Last uint64
	// State is the state replay ended with.
	State []byte
	// Divergence is the first difference; nil when the replay matched.
	Divergence *Divergence
}

// OK reports whether the replay matched its record.
func (r *Report) OK() bool { return r.Divergence == nil }

func (r *Report) String() string {
	if r.Divergence != nil {
		return fmt.Sprintf("%s: diverged at %s (%d events replayed, %d outcomes equal)",
			r.Actor, r.Divergence, r.Events, r.StatesEqual)
	}
	return fmt.Sprintf("%s: %d events replayed to seq %d, %d handler outcomes, all states equal",
		r.Actor, r.Events, r.Last, r.StatesEqual)
}

// Option configures [Replay].
type Option func(*options)

type options struct {
	to       uint64
	progress func(done, total int)
	specFor  func(context.Context, *chain.Spawn) (actor.Spec, error)
}

// WithTo stops the replay after the event at sequence seq.
func WithTo(seq uint64) Option { return func(o *options) { o.to = seq } }

// WithProgress calls fn after every event with how many of the events to
// replay are done; fn runs on Replay's goroutine.
func WithProgress(fn func(done, total int)) Option { return func(o *options) { o.progress = fn } }

// WithSpecFor gives Replay the spec of every spawn event after the first
// (the actor stopped and spawned again, perhaps with another module or
// manifest): fn returns the actor as that event spawned it, and Replay
// runs the events after it with that spec, which must run the module the
// event names. Without it, Replay keeps its spec and reports a later
// spawn of another module as a divergence ([DivergedModule]) at that
// event.
func WithSpecFor(fn func(ctx context.Context, spawn *chain.Spawn) (actor.Spec, error)) Option {
	return func(o *options) { o.specFor = fn }
}

// TooLarge is the failure reason of a handler call whose outcome its
// owner did not keep because the record would not fit in the chain: the
// owner reverted the state and closed the instance, so replay does not
// run the call; it closes its instance and checks the state is unchanged.
const TooLarge = "too_large"

// skipped reports whether a recorded failure is one replay does not run
// again: a call whose outcome was not kept ([TooLarge]) or that ran past
// the wall-clock deadline, which is the node's backstop and not
// deterministic (a stalled or slower machine). Either way the owner kept
// the state before the call and closed the instance; fuel is the
// deterministic limit.
func skipped(f *chain.Failure) bool {
	return f != nil && (f.Reason == TooLarge || f.Reason == Reason(actor.Deadline))
}

// Reason is the failure reason a [chain.Failure] records for a failure
// kind: "trap", "deadline", "memory", "exit", "fault", "guest_error",
// "abi" or "out_of_fuel".
func Reason(k actor.FailureKind) string {
	switch k {
	case actor.MemoryLimit:
		return "memory"
	case actor.ProcExit:
		return "exit"
	case actor.GuestError:
		return "guest_error"
	case actor.OutOfFuel:
		return "out_of_fuel"
	}
	return k.String()
}

// Replay re-executes an actor's chain in rt: from its spawn event (or a
// snapshot) through every handled event, answering every host call the
// guest makes from the event's recorded inputs, and compares each
// handler's outcome with the record. It stops at the first divergence,
// which the report carries; an error means the chain could not be
// replayed at all.
//
// spec describes the actor as it was spawned (module, capabilities,
// limits, types, allow-list); its ID is the chain's actor (empty takes
// it), and Replay replaces its Clock, Entropy, Router, HTTP, Store, Timers,
// Channels, Supervision (when it has one or is granted supervisor), callbacks and failure policy, and disables hibernation; its Secrets
// answer the guest's secrets, each checked against the recorded digest.
// rt must not host an actor of that id; Replay kills its actor before it
// returns.
//
// Events are handled as docs/CHAIN.md says: an init event runs
// theater_init on the state in its payload, in a fresh instance; a
// handled event followed by a failure event must fail of that kind (the
// failure is part of the same step); restart recreates the instance from
// the state it names; stop ends the instance; snapshot is compared with
// the state replay reached (one right before a stop with what
// theater_on_stop returns, which replay runs for it); a spawn after the
// first (the actor spawned again) runs what follows with the spec
// [WithSpecFor] gives for it, or is a [DivergedModule] divergence when
// it names another module and there is no WithSpecFor. An owner event
// and a [chain.Wake] lifecycle event end the instance, so the next call
// runs in a fresh one, as it did live: every call's fuel and every WASI
// clock reading are the recorded run's. Other lifecycle events change
// nothing.
//
// The first event is the spawn, a snapshot (a restore: the calls after
// it run in a fresh instance), or the handled init event a snapshot
// follows (a restore from init's snapshot: init runs again, so the calls
// after it run in init's instance, as they did live).
func Replay(ctx context.Context, rt *actor.Runtime, spec actor.Spec, events []chain.Event, opts ...Option) (Report, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if rt == nil {
		return Report{}, errors.New("replay: no runtime")
	}
	if len(events) == 0 {
		return Report{}, fmt.Errorf("%w: no events", ErrChain)
	}
	id := events[0].Actor
	if spec.ID == "" {
		spec.ID = id
	}
	if spec.ID != id {
		return Report{}, fmt.Errorf("%w: the chain is actor %q's, the spec actor %q's", ErrChain, id, spec.ID)
	}
	for i, e := range events {
		if e.Actor != id || e.Seq != events[0].Seq+uint64(i) || e.Body == nil {
			return Report{}, fmt.Errorf("%w: event %d of the list (seq %d, actor %q) does not follow seq %d of %q",
				ErrChain, i, e.Seq, e.Actor, events[0].Seq, id)
		}
	}
	r := &replayer{rt: rt, report: Report{Actor: id}}
	switch b := events[0].Body.(type) {
	case *chain.Spawn:
		if digest := specDigest(spec); digest != b.Module {
			return Report{}, fmt.Errorf("%w: the chain runs module %s, the spec %s", ErrModule, b.Module, digest)
		}
	case *chain.Snapshot:
	case *chain.Handled:
		if b.Call != chain.CallInit {
			return Report{}, fmt.Errorf("%w: the first event (seq %d) is a %s call, not init", ErrChain, events[0].Seq, b.Call)
		}
		r.initial = b.Payload
	default:
		return Report{}, fmt.Errorf("%w: the first event (seq %d) is %s, not spawn, snapshot or init", ErrChain, events[0].Seq, events[0].Kind())
	}
	if o.to > 0 {
		n := 0
		for n < len(events) && events[n].Seq <= o.to {
			n++
		}
		// A handler's failure is part of its step.
		if _, failed := at(events, n).(*chain.Failure); failed {
			if _, handled := at(events, n-1).(*chain.Handled); handled {
				n++
			}
		}
		events = events[:n]
	}

	r.specFor = o.specFor
	if err := r.use(ctx, spec); err != nil {
		return Report{}, err
	}
	defer r.end()

	for i := 0; i < len(events); i++ {
		if err := ctx.Err(); err != nil {
			return r.report, err
		}
		e := events[i]
		var next chain.Body
		if i+1 < len(events) {
			next = events[i+1].Body
		}
		if err := r.event(ctx, e, next); err != nil {
			return r.report, err
		}
		_, isHandled := e.Body.(*chain.Handled)
		_, failed := next.(*chain.Failure)
		failure := isHandled && failed
		r.report.Events++
		r.report.Last = e.Seq
		if failure && r.report.Divergence == nil {
			i++
			r.report.Events++
			r.report.Last = events[i].Seq
		}
		if o.progress != nil {
			o.progress(i+1, len(events))
		}
		if r.report.Divergence != nil {
			break
		}
	}
	r.report.State = r.state
	return r.report, nil
}

func at(events []chain.Event, i int) chain.Body {
	if i < 0 || i >= len(events) {
		return nil
	}
	return events[i].Body
}

type replayer struct {
	rt      *actor.Runtime
	spec    actor.Spec
	specFor func(context.Context, *chain.Spawn) (actor.Spec, error)
	a       *actor.Actor
	play    player

	initial  []byte // the spawn event's state
	snapshot []byte // the last snapshot's state
	state    []byte // the state the last handler left
	report   Report
}

// specDigest is the digest of the module spec runs.
func specDigest(spec actor.Spec) chain.Hash {
	if spec.Module != nil {
		return chain.Hash(sha256.Sum256(spec.Module))
	}
	return chain.Hash(spec.Digest)
}

// use makes spec the one replay spawns from: its host calls answered from
// the record, no callbacks, no hibernation.
func (r *replayer) use(ctx context.Context, spec actor.Spec) error {
	spec.ID = r.report.Actor
	spec.Clock, spec.Entropy, spec.Router = playClock{&r.play}, playEntropy{&r.play}, playRouter{&r.play}
	spec.HTTP = playHTTP{&r.play}
	// Large store values are digests in the chain: the caller's store, if
	// it keeps values by digest, answers a get of one, checked against it.
	values, _ := spec.Store.(storeValues)
	spec.Store = playStore{&r.play, values}
	spec.Timers = playTimers{&r.play}
	spec.Channels = playChannels{&r.play}
	if spec.Supervision != nil || slices.Contains(spec.Capabilities, "supervisor") {
		// A node serves the capability to every actor granted it, and
		// records each call's outcome.
		spec.Supervision = playSupervision{&r.play}
	}
	// Secrets are not in the chain: the caller's source answers, checked
	// against the recorded digests.
	spec.Secrets = playSecrets{&r.play, spec.Secrets}
	spec.OnFailure, spec.OnExit, spec.OnHibernate = nil, nil, nil
	spec.FailurePolicy = actor.RecreateOnFailure
	spec.Limits.IdleTimeout = -1
	spec.KeepLive = true // the runtime's live bound must not close it between calls
	if spec.Module != nil {
		// Compile once, so that every spawn of the replay (one per init
		// or restart) names the module by digest.
		d, err := r.rt.Compile(ctx, spec.Module)
		if err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		spec.Module, spec.Digest = nil, d
	}
	r.spec = spec
	return nil
}

// respawn switches to the spec of a spawn event after the first.
func (r *replayer) respawn(ctx context.Context, seq uint64, b *chain.Spawn) error {
	if r.specFor == nil {
		if got := specDigest(r.spec); got != b.Module {
			r.diverge(Divergence{Seq: seq, What: DivergedModule, Call: -1,
				Want: "module " + b.Module.String(), Got: "module " + got.String()})
		}
		return nil
	}
	spec, err := r.specFor(ctx, b)
	if err != nil {
		return fmt.Errorf("replay: event %d: the spec of the spawn: %w", seq, err)
	}
	if spec.ID != "" && spec.ID != r.report.Actor {
		return fmt.Errorf("%w: event %d: the spec is actor %q's", ErrChain, seq, spec.ID)
	}
	if got := specDigest(spec); got != b.Module {
		return fmt.Errorf("%w: event %d spawns module %s, its spec runs %s", ErrModule, seq, b.Module, got)
	}
	return r.use(ctx, spec)
}

func (r *replayer) end() {
	if r.a != nil {
		_ = r.a.Kill(context.Background())
		r.a = nil
	}
}

func (r *replayer) diverge(d Divergence) {
	if r.report.Divergence == nil {
		r.report.Divergence = &d
	}
}

// event replays one event; next is the one after it (nil at the end),
// which says whether a handled event failed and whether a snapshot
// records what theater_on_stop left.
func (r *replayer) event(ctx context.Context, e chain.Event, next chain.Body) error {
	switch b := e.Body.(type) {
	case *chain.Spawn:
		r.initial, r.state = b.State, b.State
		r.end()
		if r.report.Events > 0 {
			return r.respawn(ctx, e.Seq, b)
		}
	case *chain.Snapshot:
		if _, stop := next.(*chain.Stop); stop && r.a != nil {
			// The node snapshots the state theater_on_stop returned,
			// then records the stop: run on_stop here, with no inputs.
			r.play.load(e.Seq, nil)
			err := r.a.Stop(ctx)
			r.play.finish(r)
			if err != nil && !isFailure(err) {
				return fmt.Errorf("replay: event %d: stop: %w", e.Seq, err)
			}
			r.state, r.a = r.a.State(), nil
			if r.report.Divergence != nil {
				return nil
			}
		}
		if r.report.Events > 0 && !bytes.Equal(b.State, r.state) {
			r.diverge(Divergence{Seq: e.Seq, What: DivergedSnapshot, Call: -1,
				Want: "state " + chain.Sum(b.State).String(), Got: "state " + chain.Sum(r.state).String()})
			return nil
		}
		r.snapshot, r.state = b.State, b.State
	case *chain.Owner:
		// A new hosting: the node restored the actor into a new instance.
		r.end()
	case *chain.Lifecycle:
		if b.What == chain.Wake {
			r.end()
		}
	case *chain.Restart:
		found := false
		for _, s := range [][]byte{r.state, r.initial, r.snapshot} {
			if s != nil && chain.Sum(s) == b.State {
				r.state, found = s, true
				break
			}
		}
		if !found {
			r.diverge(Divergence{Seq: e.Seq, What: DivergedSnapshot, Call: -1,
				Want: "restart from state " + b.State.String(), Got: "no such state (last " + chain.Sum(r.state).String() + ")"})
			return nil
		}
		r.end()
	case *chain.Stop:
		r.end()
	case *chain.Handled:
		failure, _ := next.(*chain.Failure)
		return r.handled(ctx, e.Seq, b, failure)
	}
	return nil
}

func (r *replayer) handled(ctx context.Context, seq uint64, h *chain.Handled, failure *chain.Failure) error {
	r.report.Handled++
	if skipped(failure) {
		r.end()
		if chain.Sum(r.state) != h.State {
			r.diverge(Divergence{Seq: seq, What: DivergedState, Call: -1, Want: h.State.String(), Got: chain.Sum(r.state).String()})
			return nil
		}
		r.report.StatesEqual++
		return nil
	}
	r.play.load(seq, h.Inputs)
	var reply []byte
	var err error
	switch h.Call {
	case chain.CallInit:
		r.end()
		spec := r.spec
		spec.State, spec.Resume = h.Payload, false
		r.state = h.Payload // what a failed init leaves
		r.a, err = r.rt.Spawn(ctx, spec)
		if err == nil {
			r.state = r.a.State()
		} else if !isFailure(err) {
			return fmt.Errorf("replay: event %d: init: %w", seq, err)
		}
	case chain.CallSend, chain.CallRequest:
		if r.a == nil {
			spec := r.spec
			spec.State, spec.Resume = r.state, true
			if r.a, err = r.rt.Spawn(ctx, spec); err != nil {
				return fmt.Errorf("replay: event %d: resume: %w", seq, err)
			}
		}
		if h.Call == chain.CallSend {
			var st []byte
			if st, err = r.a.Deliver(ctx, h.Payload); err == nil {
				r.state = st
			}
		} else if reply, err = r.a.Request(ctx, h.Payload); err == nil {
			r.state = r.a.State()
		}
		if err != nil && !isFailure(err) {
			return fmt.Errorf("replay: event %d: %s: %w", seq, h.Call, err)
		}
	case chain.CallStop:
		if r.a == nil {
			spec := r.spec
			spec.State, spec.Resume = r.state, true
			if r.a, err = r.rt.Spawn(ctx, spec); err != nil {
				return fmt.Errorf("replay: event %d: resume: %w", seq, err)
			}
		}
		if err = r.a.Stop(ctx); err == nil {
			r.state = r.a.State()
		} else if !isFailure(err) {
			return fmt.Errorf("replay: event %d: stop: %w", seq, err)
		}
	default:
		return fmt.Errorf("%w: event %d calls %q", ErrChain, seq, h.Call)
	}
	if h.Call == chain.CallStop {
		defer func() { r.a = nil }() // stopped: the next event is the stop
	}
	out := r.play.finish(r)
	if r.report.Divergence != nil {
		return nil
	}
	var f actor.Failure
	failed := errors.As(err, &f)
	if failed {
		r.state = r.stateNow()
	}
	switch {
	case failure == nil && failed:
		r.diverge(Divergence{Seq: seq, What: DivergedFailure, Call: -1, Want: "success", Got: Reason(f.Kind) + ": " + f.Error()})
	case failure != nil && !failed:
		r.diverge(Divergence{Seq: seq, What: DivergedFailure, Call: -1, Want: failure.Reason, Got: "success"})
	case failure != nil && failure.Reason != Reason(f.Kind) && failure.Reason != f.Kind.String():
		r.diverge(Divergence{Seq: seq, What: DivergedFailure, Call: -1, Want: failure.Reason, Got: Reason(f.Kind) + ": " + f.Error()})
	case chain.Sum(r.state) != h.State:
		r.diverge(Divergence{Seq: seq, What: DivergedState, Call: -1, Want: h.State.String(), Got: chain.Sum(r.state).String()})
	case !failed && !bytes.Equal(reply, h.Reply):
		r.diverge(Divergence{Seq: seq, What: DivergedReply, Call: -1, Want: fmt.Sprintf("%x", h.Reply), Got: fmt.Sprintf("%x", reply)})
	case !failed:
		if d := compareOut(h.Out, out); d != "" {
			r.diverge(Divergence{Seq: seq, What: DivergedOut, Call: -1, Want: fmt.Sprintf("%d messages", len(h.Out)), Got: d})
		}
	}
	if r.report.Divergence == nil {
		r.report.StatesEqual++
	}
	return nil
}

// stateNow is the last good state after a failure: the actor keeps it,
// and a failed init leaves the state it was given.
func (r *replayer) stateNow() []byte {
	if r.a != nil {
		return r.a.State()
	}
	return r.state
}

func isFailure(err error) bool {
	var f actor.Failure
	return errors.As(err, &f)
}

func compareOut(want, got []chain.Outgoing) string {
	for i := 0; i < max(len(want), len(got)); i++ {
		switch {
		case i >= len(want):
			return fmt.Sprintf("%d messages: out[%d] to %s is not recorded", len(got), i, got[i].To)
		case i >= len(got):
			return fmt.Sprintf("%d messages: out[%d] to %s was not sent", len(got), i, want[i].To)
		case want[i].To != got[i].To:
			return fmt.Sprintf("out[%d] to %s, recorded to %s", i, got[i].To, want[i].To)
		case !bytes.Equal(want[i].Payload, got[i].Payload):
			return fmt.Sprintf("out[%d] to %s: payload %x, recorded %x", i, got[i].To, got[i].Payload, want[i].Payload)
		}
	}
	return ""
}
