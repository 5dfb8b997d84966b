package replay

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
)

// Input.Call names of the host calls a [Recorder] records (docs/CHAIN.md,
// "Inputs"). Each one's Data encoding is documented there.
const (
	// CallClock is one clock.now read; Data is the Unix time in
	// nanoseconds as a msgpack int, in its smallest form.
	CallClock = "clock"
	// CallRandom is one random.bytes call; Data is the bytes as given,
	// or empty when the source failed and the guest got "unavailable".
	CallRandom = "random"
	// CallRequest is one message.request; Data is the msgpack map
	// {"to": str, "result": {"ok": bin} | {"err": {case: value}}}, the
	// error being the WIT message.error variant the guest received.
	CallRequest = "request"
)

// Recorder stands between one actor and its Clock, Entropy and Router; it
// records what the host gives the guest during a handler and holds the
// handler's outgoing sends.
//
// Put [Recorder.Clock], [Recorder.Entropy] and [Recorder.Router] in the
// actor's [actor.Spec], and call [Recorder.Take] after every handler call
// (init included) to get what goes into its [chain.Handled] event. One
// Recorder serves one actor, whose handlers run one at a time.
//
// Clock reads, random bytes and the outcomes of requests are inputs, in
// the order the guest received them. A send is not delivered: it is held
// in out and the guest is told it was accepted; the owner releases out
// only after the handler's event is durable, the i-th under the id
// [chain.MessageID](actor, seq, i), and reports a send it cannot deliver
// (no such actor) as an event of its own. The guest sees unknown-actor at
// once only for a target that is not a valid actor id, which no actor can
// ever have, so replay answers the same without a record.
//
// A request is the one effect that is not deferred: the guest waits for
// the reply, so it goes out live, before the handler's event is durable.
// If that handler then fails, or its event never lands, the target has
// handled a request this actor's chain does not show, and a retry of the
// handler asks again. Use send for messages that must take effect exactly
// once.
type Recorder struct {
	clock   actor.Clock
	entropy actor.Entropy
	router  actor.Router

	mu     sync.Mutex
	inputs []chain.Input
	out    []chain.Outgoing
	store  *recStore  // store.go; nil until Store is called
	timers *recTimers // timer.go; nil until Timers is called

	channels *recChannels // channel.go; nil until Channels is called
}

// NewRecorder returns a recorder over the given sources. A nil clock is
// the system clock and a nil entropy crypto/rand, as in [actor.Spec]; a
// nil router makes requests fail with "unavailable" (recorded as an
// error), while sends are held all the same.
func NewRecorder(clock actor.Clock, entropy actor.Entropy, router actor.Router) *Recorder {
	return &Recorder{clock: clock, entropy: entropy, router: router}
}

// Clock returns the clock to put in the actor's spec.
func (r *Recorder) Clock() actor.Clock { return recClock{r} }

// Entropy returns the random source to put in the actor's spec.
func (r *Recorder) Entropy() actor.Entropy { return recEntropy{r} }

// Router returns the message router to put in the actor's spec.
func (r *Recorder) Router() actor.Router { return recRouter{r} }

// Take returns and resets what the handler that just ended recorded: its
// inputs in order, and the sends it made, for its [chain.Handled] event.
// A failed handler's sends must be dropped, not released.
func (r *Recorder) Take() (inputs []chain.Input, out []chain.Outgoing) {
	r.mu.Lock()
	defer r.mu.Unlock()
	inputs, out = r.inputs, r.out
	r.inputs, r.out = nil, nil
	if r.store != nil {
		r.store.endHandler()
	}
	if r.timers != nil {
		r.timers.endHandler()
	}
	if r.channels != nil {
		r.channels.endHandler()
	}
	return inputs, out
}

func (r *Recorder) record(call string, data []byte) {
	r.mu.Lock()
	r.inputs = append(r.inputs, chain.Input{Call: call, Data: data})
	r.mu.Unlock()
}

type recClock struct{ r *Recorder }

func (c recClock) Now() time.Time {
	var now time.Time
	if c.r.clock != nil {
		now = c.r.clock.Now()
	} else {
		now = time.Now()
	}
	// The host hands the guest UnixNano; recording that (not the
	// monotonic reading or the location) is what makes replay exact.
	now = time.Unix(0, now.UnixNano())
	c.r.record(CallClock, encodeClock(now.UnixNano()))
	return now
}

type recEntropy struct{ r *Recorder }

func (e recEntropy) Read(p []byte) (int, error) {
	var n int
	var err error
	if e.r.entropy != nil {
		n, err = e.r.entropy.Read(p)
	} else {
		n, err = rand.Read(p)
	}
	if err != nil {
		// The host answers "unavailable" without looking at p. Empty
		// Data records that: the host never asks for 0 bytes.
		e.r.record(CallRandom, []byte{})
		return n, fmt.Errorf("replay: entropy: %w", err)
	}
	e.r.record(CallRandom, append([]byte(nil), p[:n]...))
	return n, nil
}

type recRouter struct{ r *Recorder }

func (rt recRouter) Send(_ context.Context, _, to string, payload []byte) error {
	if !validTarget(to) {
		return fmt.Errorf("%w: %q", actor.ErrUnknownActor, to)
	}
	rt.r.mu.Lock()
	// payload is a view of guest memory, valid only during this call.
	rt.r.out = append(rt.r.out, chain.Outgoing{To: to, Payload: append([]byte{}, payload...)})
	rt.r.mu.Unlock()
	return nil
}

func (rt recRouter) Request(ctx context.Context, from, to string, payload []byte, timeout time.Duration) ([]byte, error) {
	var reply []byte
	var err error
	switch {
	case !validTarget(to):
		err = fmt.Errorf("%w: %q", actor.ErrUnknownActor, to)
	case rt.r.router == nil:
		err = errUnavailable
	default:
		reply, err = rt.r.router.Request(ctx, from, to, payload, timeout)
	}
	res := resultOf(reply, err)
	rt.r.record(CallRequest, res.encode(to))
	if err != nil {
		return nil, err
	}
	return reply, nil
}

var errUnavailable = fmt.Errorf("replay: no router: unavailable")

// validTarget is the rule for actor ids on a node and in the chain (1 to
// 128 of [A-Za-z0-9_-], transport.ValidID's): a message to anything else
// can never be delivered, wherever the actor runs.
func validTarget(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
