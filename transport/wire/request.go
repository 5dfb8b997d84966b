package wire

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Request sends m as a core NATS request and returns the reply; an error
// reply (one with an [ErrorHeader]) becomes a [*RemoteError], and no
// responders means no node hosts the subject ([ErrUnavailable]).
//
// A ctx with a deadline bounds the wait; otherwise timeout does. A ctx
// that can be cancelled but has no deadline gets timeout as one. The
// common case (a deadline, or none and no cancellation) allocates no
// context: on the request hot path a context.WithTimeout per call showed
// in profiles. The deadline (ctx's, or now plus timeout) travels in m's
// [DeadlineHeader], so a node does not run a request nobody waits for.
func Request(ctx context.Context, nc *nats.Conn, m *nats.Msg, timeout time.Duration) (*nats.Msg, error) {
	var reply *nats.Msg
	var err error
	dl, hasDeadline := ctx.Deadline()
	if !hasDeadline {
		dl = time.Now().Add(timeout)
	}
	SetDeadline(m, dl)
	switch {
	case hasDeadline:
		reply, err = nc.RequestMsgWithContext(ctx, m)
	case ctx.Done() == nil:
		reply, err = nc.RequestMsg(m, timeout)
	default:
		tctx, cancel := context.WithTimeout(ctx, timeout)
		reply, err = nc.RequestMsgWithContext(tctx, m)
		cancel()
	}
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return nil, fmt.Errorf("%w: nothing answers on %s", ErrUnavailable, m.Subject)
	case errors.Is(err, nats.ErrTimeout):
		return nil, fmt.Errorf("%w: request %s: no reply within %s: %w", ErrNATS, m.Subject, timeout, context.DeadlineExceeded)
	case err != nil:
		return nil, fmt.Errorf("%w: request %s: %w", ErrNATS, m.Subject, err)
	}
	if code := reply.Header.Get(ErrorHeader); code != "" {
		return nil, &RemoteError{Code: code, Msg: string(reply.Data)}
	}
	return reply, nil
}

// PublishSend publishes a durable send with Nats-Msg-Id id, or a random
// one when id is empty, and returns once JetStream stored it. JetStream
// stores a message once per id within the mailbox's duplicate window: a
// random id only protects the one publish call (the client retrying after
// a lost ack); a caller that retries with a new call gets a new id and a
// second message.
func PublishSend(ctx context.Context, js jetstream.JetStream, m *nats.Msg, id string) error {
	if id == "" {
		id = rand.Text()
	}
	if _, err := js.PublishMsg(ctx, m, jetstream.WithMsgID(id)); err != nil {
		if errors.Is(err, nats.ErrMaxPayload) {
			return fmt.Errorf("%w: %w", ErrTooLarge, err)
		}
		// The mailbox stream discards new sends per subject at its depth;
		// the server says so only in the error's text.
		if strings.Contains(err.Error(), "maximum messages per subject exceeded") {
			return fmt.Errorf("%w: %s holds as many unhandled sends as its depth allows: %w", ErrMailboxFull, m.Subject, err)
		}
		return fmt.Errorf("%w: send to %s: %w", ErrNATS, m.Subject, err)
	}
	return nil
}
