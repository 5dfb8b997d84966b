package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"

	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/wire"
)

func (n *Node) ctlRemove(ctx context.Context, req micro.Request) (any, error) {
	id, err := n.actorRequest(req)
	if err != nil {
		return nil, err
	}
	return n.Remove(ctx, id)
}

// Remove deletes a stopped actor and its data: its registry entry, the
// sends left in its mailbox, its channel subscriptions and its timers. Its chain stays: the chain stream is
// append-only (it denies purges), the history is the record that other
// actors' chains refer to, and a later spawn of the id continues it, so
// the sequences and the ids of its sends (chain.MessageID, which
// targets remember as handled) never repeat. A running actor is refused
// ([wire.ErrExists]; stop it first). The actor's lease is taken for the
// removal, so no spawn of the id runs meanwhile.
func (n *Node) Remove(ctx context.Context, id string) (wire.ActorInfo, error) {
	if err := transport.ValidID(id); err != nil {
		return wire.ActorInfo{}, fmt.Errorf("%w: %w", wire.ErrInvalidID, err)
	}
	l, err := n.takeLease(ctx, id, 0)
	if err != nil {
		if errors.Is(err, wire.ErrExists) {
			return wire.ActorInfo{}, fmt.Errorf("%w: %q is running; stop it first", wire.ErrExists, id)
		}
		return wire.ActorInfo{}, err
	}
	defer n.releaseLease(context.WithoutCancel(ctx), l)
	e, rev, err := n.entry(ctx, id)
	if err != nil {
		return wire.ActorInfo{}, err
	}
	if e.Status != wire.StatusStopped {
		return wire.ActorInfo{}, fmt.Errorf("%w: %q is registered as %s on node %s; stop it first", wire.ErrExists, id, e.Status, e.Node)
	}
	lay := n.cfg.Layout
	s, err := n.js.Stream(ctx, lay.MailboxStream())
	if err == nil {
		err = s.Purge(ctx, jetstream.WithPurgeSubject(lay.SendSubject(id)))
	}
	if err != nil {
		return wire.ActorInfo{}, fmt.Errorf("%w: remove %q: purge its mailbox: %w", wire.ErrNATS, id, err)
	}
	if err := n.dropSubscriptions(ctx, id); err != nil {
		return wire.ActorInfo{}, err
	}
	if err := n.dropTimers(ctx, id); err != nil {
		return wire.ActorInfo{}, err
	}
	// Last, at the revision read: the entry is what says the actor
	// exists, so a removal cut short can be run again.
	if err := n.actors.Delete(ctx, id, jetstream.LastRevision(rev)); err != nil {
		return wire.ActorInfo{}, fmt.Errorf("%w: remove %q: registry: %w", wire.ErrNATS, id, err)
	}
	n.event(id, wire.EventRemoved, "entry and mailbox deleted; the chain is kept")
	return wire.ActorInfo{ID: id, Node: e.Node, Name: e.Manifest.Name, Digest: e.Digest, Status: wire.StatusRemoved, MailboxSeq: e.MailboxSeq}, nil
}
