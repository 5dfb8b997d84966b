package node

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/transport"
)

// FromHeader names the actor that sent a message, when an actor did.
const FromHeader = "Theater-From"

// Router is the actor.Router of a node: guests' sends and requests go over
// NATS by id, so the target may run on any node.
type Router struct {
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
		return fmt.Errorf("%w: %w", ErrInvalidID, err)
	}
	m := nats.NewMsg(r.layout.SendSubject(to))
	m.Data = payload
	if from != "" {
		m.Header.Set(FromHeader, from)
	}
	return forGuest(publishSend(ctx, r.js, m))
}

// publishSend publishes with a fresh Nats-Msg-Id, so a publish the client
// retries (after a lost ack) is stored once.
func publishSend(ctx context.Context, js jetstream.JetStream, m *nats.Msg) error {
	if _, err := js.PublishMsg(ctx, m, jetstream.WithMsgID(rand.Text())); err != nil {
		if errors.Is(err, nats.ErrMaxPayload) {
			return fmt.Errorf("%w: %w", ErrTooLarge, err)
		}
		return fmt.Errorf("%w: send to %s: %w", ErrNATS, m.Subject, err)
	}
	return nil
}

// Request sends a request to actor to and waits for the reply, at most
// timeout when it is positive.
func (r *Router) Request(ctx context.Context, from, to string, payload []byte, timeout time.Duration) ([]byte, error) {
	if err := transport.ValidID(to); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidID, err)
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	m := nats.NewMsg(r.layout.RequestSubject(to))
	m.Data = payload
	if from != "" {
		m.Header.Set(FromHeader, from)
	}
	reply, err := request(ctx, r.nc, m)
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
	case errors.Is(err, ErrUnknownActor), errors.Is(err, ErrInvalidID), errors.Is(err, ErrStopped),
		errors.Is(err, ErrUnavailable): // no node answers for the id
		sentinel = actor.ErrUnknownActor
	case errors.Is(err, ErrBadMsgpack), errors.Is(err, ErrBadJSON), errors.Is(err, ErrBadType):
		sentinel = actor.ErrInvalidMessage
	case errors.Is(err, ErrTooLarge):
		sentinel = actor.ErrTooLarge
	default:
		return err
	}
	return fmt.Errorf("%w: %w", sentinel, err)
}

// request is a core request whose error replies become *RemoteError. No
// responders means no node hosts the actor.
func request(ctx context.Context, nc *nats.Conn, m *nats.Msg) (*nats.Msg, error) {
	reply, err := nc.RequestMsgWithContext(ctx, m)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return nil, fmt.Errorf("%w: nothing answers on %s", ErrUnavailable, m.Subject)
	case err != nil:
		return nil, fmt.Errorf("%w: request %s: %w", ErrNATS, m.Subject, err)
	}
	if code := reply.Header.Get(ErrorHeader); code != "" {
		return nil, &RemoteError{Code: code, Msg: string(reply.Data)}
	}
	return reply, nil
}
