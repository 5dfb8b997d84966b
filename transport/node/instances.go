package node

import (
	"context"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/transport/chainstore"
)

// Instances (docs/CHAIN.md, "Instances"): a call's fuel and a guest's WASI
// clocks depend on what its instance ran before, so replay must start a
// fresh instance exactly where this node did. The chain accounts for an
// instance at an init (init's own), an owner or restart event (the next
// call's, in a resumed actor) and a wake event; every other instance the
// actor opens (woken from hibernation, evicted by the live bound, after a
// failure or a revert) gets a wake event before the call that opened it.
// A snapshot is where a restore starts, in a fresh instance: the node
// closes its instance after writing one, so the calls after it run as a
// restore runs them. Init's snapshot is the exception (closing that
// instance would make every spawn instantiate twice): a restore from it
// runs init again instead (restore.go).

// accountInstances records that the chain accounts for the actor's
// instances so far, and for one more if it has none yet (a resumed actor
// opens it at its first call); the caller holds the turn or has not
// started the pump.
func (h *hosted) accountInstances() { h.opens = max(h.a.Instances(), 1) }

// woke reports whether the call just made opened an instance the chain
// does not account for yet, and accounts for it; the caller holds the
// turn.
func (h *hosted) woke() bool {
	n := h.a.Instances()
	w := n > h.opens
	h.opens = max(h.opens, n)
	return w
}

// withWake puts a wake event before a call's events when the call opened
// an instance the chain does not account for.
func (h *hosted) withWake(bodies ...chain.Body) []chain.Body {
	if h.woke() {
		return append([]chain.Body{&chain.Lifecycle{What: chain.Wake}}, bodies...)
	}
	return bodies
}

// wakeAhead appends the wake event before a call when the actor has no
// instance, so the call will open one the chain does not account for
// yet: on a single-replica stream two queued records go one after the
// other, each waiting for the ack of the one before, and appended ahead
// the wake's round trip overlaps the instantiation and the handler
// instead of delaying the reply. A call that finds the instance closed
// after this check (the idle timer) gets its wake after it (withWake).
// The caller holds the turn.
func (h *hosted) wakeAhead(ctx context.Context) error {
	_, err := h.appendWake(ctx)
	return err
}

// appendWake is wakeAhead; it returns the wake event's pending append, or
// nil when none was needed.
func (h *hosted) appendWake(ctx context.Context) (*chainstore.Pending, error) {
	if h.a.Live() || h.a.Instances() < h.opens {
		return nil, nil // live, or the chain accounts for the next instance already
	}
	p, err := h.app.Append(ctx, &chain.Lifecycle{What: chain.Wake})
	if err != nil {
		return nil, err
	}
	h.opens = h.a.Instances() + 1
	return p, nil
}

// hibernated is told that the runtime closed the actor's instance (its
// idle timeout, the live bound): the wake event is appended now, while
// the actor is idle, so the call that wakes it waits for no extra
// append. It takes the turn on a goroutine of its own; a call that took
// the turn first has recorded its wake itself, and so does the first call
// of an actor that hibernated before its hosting was complete.
func (h *hosted) hibernated() {
	select {
	case <-h.ready:
	default:
		return // host still sets the actor up, without the turn
	}
	go func() {
		h.turn.Lock()
		defer h.turn.Unlock()
		if h.serving() {
			_ = h.wakeAhead(h.n.ctx) // a failed append fails the next call's too, which lets the actor go
		}
	}()
}

// afterSnapshot closes the instance once a snapshot is appended, so that
// the next call opens a fresh one, as a restore from that snapshot does,
// and appends the wake event that says so, behind the snapshot. The
// state is kept; the caller holds the turn.
func (h *hosted) afterSnapshot(ctx context.Context) error {
	if err := h.a.Hibernate(ctx); err != nil {
		return nil // the node is closing: its next owner restores from the chain
	}
	return h.wakeAhead(ctx)
}

// isInit reports whether b is init's handled event.
func isInit(b chain.Body) bool {
	hd, ok := b.(*chain.Handled)
	return ok && hd.Call == chain.CallInit
}
