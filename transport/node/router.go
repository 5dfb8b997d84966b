package node

import (
	"context"
	"encoding/json"
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
	nc     *nats.Conn
	js     jetstream.JetStream
	actors jetstream.KeyValue // the registry, for sends to ids that do not exist
	layout transport.Layout
}

var _ actor.Router = (*Router)(nil)

// Send publishes a durable send to actor to's mailbox and returns once
// JetStream has stored it. The target's node validates it when it reads
// it; an invalid one is recorded as rejected and skipped. A send to an id
// with no registry entry, or a stopped actor's, is refused before
// anything is stored, as the client refuses it: nobody would handle it.
// The actors a node hosts do not send through here: their sends wait for
// their handler's chain event and go out under ids derived from it.
func (r *Router) Send(ctx context.Context, from, to string, payload []byte) error {
	if err := transport.ValidID(to); err != nil {
		return fmt.Errorf("%w: %w", wire.ErrInvalidID, err)
	}
	if err := r.registered(ctx, to); err != nil {
		return forGuest(err)
	}
	m := nats.NewMsg(r.layout.SendSubject(to))
	m.Data = payload
	if from != "" {
		m.Header.Set(wire.FromHeader, from)
	}
	return forGuest(wire.PublishSend(ctx, r.js, m, ""))
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

// registered checks that id has a registry entry that is not stopped.
func (r *Router) registered(ctx context.Context, id string) error {
	kve, err := r.actors.Get(ctx, id)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return fmt.Errorf("%w: %q", wire.ErrUnknownActor, id)
	case err != nil:
		return fmt.Errorf("%w: registry: %w", wire.ErrNATS, err)
	}
	var e wire.Entry
	if err := json.Unmarshal(kve.Value(), &e); err != nil {
		return fmt.Errorf("%w: registry entry %q: %w", wire.ErrInternal, id, err)
	}
	if e.Status == wire.StatusStopped {
		return fmt.Errorf("%w: %q", wire.ErrStopped, id)
	}
	return nil
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
