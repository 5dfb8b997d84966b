package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/wire"
	"github.com/theater-go/theater/wit/codec"
)

// ErrConfig reports a [Config] a node cannot start with. Every other
// error of a node wraps a sentinel of package wire, so that it matches
// the same way when a remote node answers it.
var ErrConfig = errors.New("node: invalid configuration")

// classify maps the errors of the packages a node calls to the sentinels
// of package wire, keeping the original text. A handler's failure comes
// first: it may wrap the error of what the guest returned (a reply or
// state not of its type, or over its limit), which is the handler's
// fault, not the requester's input. A request that ran out of time (in
// the queue or the handler) failed; one cancelled because the node shuts
// down is unavailable.
func classify(err error) error {
	var tl *actor.TooLargeError
	var f actor.Failure
	var pf *actor.Failure
	switch {
	case err == nil:
		return nil
	case errors.Is(err, wire.ErrFailed), errors.Is(err, wire.ErrUnavailable):
		return err
	case errors.Is(err, actor.ErrRefused), errors.Is(err, actor.ErrUnknownModule):
		// A module refused at spawn may carry the Failure that refused it.
		return fmt.Errorf("%w: %w", wire.ErrRefused, err)
	case errors.As(err, &f), errors.As(err, &pf):
		return fmt.Errorf("%w: %w", wire.ErrFailed, err)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %w", wire.ErrFailed, err)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%w: %w", wire.ErrUnavailable, err)
	case errors.Is(err, codec.ErrMalformed), errors.Is(err, codec.ErrInvalid), errors.Is(err, codec.ErrLimit):
		return wire.CodecError(err)
	case errors.Is(err, actor.ErrInvalidMessage):
		return fmt.Errorf("%w: %w", wire.ErrBadType, err)
	case errors.As(err, &tl), errors.Is(err, actor.ErrTooLarge), errors.Is(err, nats.ErrMaxPayload):
		return fmt.Errorf("%w: %w", wire.ErrTooLarge, err)
	case errors.Is(err, actor.ErrStopped), errors.Is(err, actor.ErrClosed):
		return fmt.Errorf("%w: %w", wire.ErrStopped, err)
	case errors.Is(err, actor.ErrExists):
		return fmt.Errorf("%w: %w", wire.ErrExists, err)
	case errors.Is(err, actor.ErrInvalidID), errors.Is(err, transport.ErrConfig):
		return fmt.Errorf("%w: %w", wire.ErrInvalidID, err)
	case errors.Is(err, manifest.ErrInvalid):
		return fmt.Errorf("%w: %w", wire.ErrBadManifest, err)
	case errors.Is(err, actor.ErrMailboxFull):
		return fmt.Errorf("%w: %w", wire.ErrMailboxFull, err)
	}
	return err
}
