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
// sends left in its mailbox and its chain. The chain is purged, not kept:
// removing is the owner saying the actor's history is no longer wanted,
// and a later spawn of the id starts a chain of its own instead of
// continuing one whose actor is gone. A running actor is refused
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
	for _, p := range []struct{ stream, subject string }{
		{lay.MailboxStream(), lay.SendSubject(id)},
		{lay.ChainStream(), lay.ChainSubject(id)},
	} {
		s, err := n.js.Stream(ctx, p.stream)
		if err == nil {
			err = s.Purge(ctx, jetstream.WithPurgeSubject(p.subject))
		}
		if err != nil {
			return wire.ActorInfo{}, fmt.Errorf("%w: remove %q: purge %s: %w", wire.ErrNATS, id, p.subject, err)
		}
	}
	// Last, at the revision read: the entry is what says the actor
	// exists, so a removal cut short can be run again.
	if err := n.actors.Delete(ctx, id, jetstream.LastRevision(rev)); err != nil {
		return wire.ActorInfo{}, fmt.Errorf("%w: remove %q: registry: %w", wire.ErrNATS, id, err)
	}
	n.event(id, wire.EventRemoved, "entry, mailbox and chain deleted")
	return wire.ActorInfo{ID: id, Node: e.Node, Name: e.Manifest.Name, Digest: e.Digest, Status: wire.StatusRemoved, MailboxSeq: e.MailboxSeq}, nil
}
