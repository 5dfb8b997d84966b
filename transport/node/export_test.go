package node

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor"
)

// Busy reports whether actor id on n is inside a handler's turn, so
// tests can wait for a long handler to have started.
func Busy(n *Node, id string) bool {
	h := n.lookup(id)
	if h == nil {
		return false
	}
	if h.turn.TryLock() {
		h.turn.Unlock()
		return false
	}
	return true
}

// Classify is classify, for the tests of the error mapping.
var Classify = classify

// Stopping reports whether a stop of actor id on n has begun.
func Stopping(n *Node, id string) bool {
	h := n.lookup(id)
	if h == nil {
		return false
	}
	select {
	case <-h.stopping:
		return true
	default:
		return false
	}
}

// Hosts reports whether n hosts actor id now.
func Hosts(n *Node, id string) bool { return n.lookup(id) != nil }

// Durable is the last mailbox sequence of actor id whose handled event
// is durable and whose effects are released (0 when n does not host it).
func Durable(n *Node, id string) uint64 {
	h := n.lookup(id)
	if h == nil {
		return 0
	}
	return h.durable.Load()
}

// actorOf is the actor id runs as on n now, or nil.
func actorOf(n *Node, id string) *actor.Actor {
	h := n.lookup(id)
	if h == nil {
		return nil
	}
	h.sv.mu.Lock()
	defer h.sv.mu.Unlock()
	return h.a
}

// LastFuel is the fuel of actor id's last successful handler call on n
// (0 when n does not host it).
func LastFuel(n *Node, id string) uint64 {
	if a := actorOf(n, id); a != nil {
		return a.LastFuel()
	}
	return 0
}

// Live reports whether actor id on n has an open instance.
func Live(n *Node, id string) bool {
	a := actorOf(n, id)
	return a != nil && a.Live()
}

// Hibernate closes actor id's instance on n now, as its idle timer would.
func Hibernate(n *Node, id string) error {
	if a := actorOf(n, id); a != nil {
		return a.Hibernate(n.ctx)
	}
	return nil
}

// HibernateIdle closes actor id's instance as its idle timer does, and
// waits until the wake event the node appends for it (hibernated's
// goroutine, run here) is durable, as it is after an idle time.
func HibernateIdle(n *Node, id string) error {
	if err := Hibernate(n, id); err != nil {
		return err
	}
	h := n.lookup(id)
	h.turn.Lock()
	p, err := h.appendWake(n.ctx)
	h.turn.Unlock()
	if err != nil || p == nil {
		return err
	}
	return p.Wait(n.ctx)
}

// SetMailboxPoll sets how long an idle pump waits without a wake-up, for
// tests that must see a lost wake-up; it returns the value before.
func SetMailboxPoll(d time.Duration) time.Duration {
	old := mailboxPoll
	mailboxPoll = d
	return old
}

// SweepListed is KVStore.Sweep over a listing taken earlier, for the test
// of an object staged again after the listing.
func SweepListed(ctx context.Context, s *KVStore, infos []*jetstream.ObjectInfo, grace time.Duration) (int, error) {
	return s.sweep(ctx, infos, grace)
}
