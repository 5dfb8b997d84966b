package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/wire"
)

// Router is the actor.Router of a node: guests' sends and requests go over
// NATS by id, so the target may run on any node.
type Router struct {
	node   *Node // names the sends of the actors it hosts; may be nil
	nc     *nats.Conn
	js     jetstream.JetStream
	layout transport.Layout
}

var _ actor.Router = (*Router)(nil)

// Send publishes a durable send to actor to's mailbox and returns once
// JetStream has stored it. The target's node validates it when it reads
// it; an invalid one is reported there and skipped.
func (r *Router) Send(ctx context.Context, from, to string, payload []byte) error {
	if err := transport.ValidID(to); err != nil {
		return fmt.Errorf("%w: %w", wire.ErrInvalidID, err)
	}
	m := nats.NewMsg(r.layout.SendSubject(to))
	m.Data = payload
	if from != "" {
		m.Header.Set(wire.FromHeader, from)
	}
	return forGuest(wire.PublishSend(ctx, r.js, m, r.sendID(from)))
}

// sendID is the Nats-Msg-Id of a send that actor from makes while it
// handles a durable send on this node: its id, that send's mailbox
// sequence and the index of this send in the handler. A node that
// replays the handler after a crash (the send was handled, not yet
// recorded) makes the same sends under the same ids, so the mailbox
// stream stores them once if the replay comes within its duplicate
// window. Elsewhere (requests, init) it is "": a random id.
func (r *Router) sendID(from string) string {
	if r.node == nil || from == "" {
		return ""
	}
	h := r.node.lookup(from)
	if h == nil {
		return ""
	}
	seq := h.sending.Load()
	if seq == 0 {
		return ""
	}
	return fmt.Sprintf("%s:%d:%d", from, seq, h.sends.Add(1)-1)
}

// DefaultRequestTimeout bounds a request that names no timeout and whose
// context has no deadline.
const DefaultRequestTimeout = 10 * time.Second

// Request sends a request to actor to and waits for the reply, at most
// timeout when it is positive, and never past ctx's deadline.
func (r *Router) Request(ctx context.Context, from, to string, payload []byte, timeout time.Duration) ([]byte, error) {
	if err := transport.ValidID(to); err != nil {
		return nil, fmt.Errorf("%w: %w", wire.ErrInvalidID, err)
	}
	if dl, ok := ctx.Deadline(); ok && timeout > 0 && time.Until(dl) > timeout {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	// wait bounds the request only when ctx has no deadline.
	wait := timeout
	if wait <= 0 {
		wait = DefaultRequestTimeout
	}
	m := nats.NewMsg(r.layout.RequestSubject(to))
	m.Data = payload
	if from != "" {
		m.Header.Set(wire.FromHeader, from)
	}
	reply, err := wire.Request(ctx, r.nc, m, wait)
	if err != nil {
		return nil, forGuest(err)
	}
	return reply.Data, nil
}

// forGuest adds to a node error the actor sentinel that picks the case of
// the message.error variant a guest receives (theater.wit); anything else
// reaches the guest as failed, with the node's message.
func forGuest(err error) error {
	var sentinel error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, wire.ErrUnknownActor), errors.Is(err, wire.ErrInvalidID), errors.Is(err, wire.ErrStopped),
		errors.Is(err, wire.ErrUnavailable): // no node answers for the id
		sentinel = actor.ErrUnknownActor
	case errors.Is(err, wire.ErrBadMsgpack), errors.Is(err, wire.ErrBadJSON), errors.Is(err, wire.ErrBadType):
		sentinel = actor.ErrInvalidMessage
	case errors.Is(err, wire.ErrTooLarge):
		sentinel = actor.ErrTooLarge
	default:
		return err
	}
	return fmt.Errorf("%w: %w", sentinel, err)
}
