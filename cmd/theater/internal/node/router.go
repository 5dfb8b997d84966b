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
		return fmt.Errorf("%w: %w", ErrInvalidID, err)
	}
	m := nats.NewMsg(r.layout.SendSubject(to))
	m.Data = payload
	if from != "" {
		m.Header.Set(FromHeader, from)
	}
	return forGuest(publishSend(ctx, r.js, m, r.sendID(from)))
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

// publishSend publishes with Nats-Msg-Id id, or a random one when id is
// empty. JetStream stores a message once per id within the mailbox's
// duplicate window: a random id only protects the one publish call (the
// client retrying after a lost ack); a caller that retries with a new
// call gets a new id and a second message.
func publishSend(ctx context.Context, js jetstream.JetStream, m *nats.Msg, id string) error {
	if id == "" {
		id = rand.Text()
	}
	if _, err := js.PublishMsg(ctx, m, jetstream.WithMsgID(id)); err != nil {
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
