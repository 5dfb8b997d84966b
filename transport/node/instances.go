package node

import (
	"context"

	"github.com/theater-go/theater/actor/chain"
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

// afterSnapshot closes the instance once a snapshot is appended, so that
// the next call opens a fresh one (recorded as a wake), as a restore from
// that snapshot does. The state is kept; the caller holds the turn.
func (h *hosted) afterSnapshot(ctx context.Context) { _ = h.a.Hibernate(ctx) }

// isInit reports whether b is init's handled event.
func isInit(b chain.Body) bool {
	hd, ok := b.(*chain.Handled)
	return ok && hd.Call == chain.CallInit
}
