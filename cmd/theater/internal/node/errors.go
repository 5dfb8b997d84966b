package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/wit/codec"
)

// Sentinel errors. Every error of this package starts with "node: " and
// wraps one of these (or a context error); an error answered by a remote
// node is a *RemoteError that unwraps to the sentinel of its code.
var (
	ErrInvalidID    = errors.New("node: invalid actor id")
	ErrUnknownActor = errors.New("node: unknown actor")
	ErrStopped      = errors.New("node: actor stopped")
	ErrExists       = errors.New("node: actor already exists")
	ErrBadMsgpack   = errors.New("node: malformed msgpack")
	ErrBadJSON      = errors.New("node: malformed JSON")
	ErrBadType      = errors.New("node: value does not fit the actor's type")
	ErrTooLarge     = errors.New("node: payload too large")
	ErrBadManifest  = errors.New("node: invalid manifest")
	ErrRefused      = errors.New("node: module refused")
	ErrFailed       = errors.New("node: handler failed")
	ErrMailboxFull  = errors.New("node: mailbox full")
	ErrUnavailable  = errors.New("node: no node answered")
	// ErrNATS wraps a failed NATS or JetStream operation (a lost
	// connection, a missing stream); the error of nats.go follows it.
	ErrNATS     = errors.New("node: NATS")
	ErrInternal = errors.New("node: internal error")
)

// Error codes travel in the ErrorHeader of a reply, so a client in any
// language (or a person with `nats req`) can tell them apart without
// parsing the message. docs/NATS.md lists them.
const (
	CodeInvalidID    = "invalid_id"
	CodeUnknownActor = "unknown_actor"
	CodeStopped      = "stopped"
	CodeExists       = "exists"
	CodeBadMsgpack   = "bad_msgpack"
	CodeBadJSON      = "bad_json"
	CodeBadType      = "bad_type"
	CodeTooLarge     = "too_large"
	CodeBadManifest  = "bad_manifest"
	CodeRefused      = "refused"
	CodeFailed       = "failed"
	CodeMailboxFull  = "mailbox_full"
	CodeUnavailable  = "unavailable"
	CodeInternal     = "internal"
)

// Headers of Theater messages.
const (
	// ErrorHeader carries the error code of a failed request; the body is
	// the human-readable message.
	ErrorHeader = "Theater-Error"
	// ContentTypeHeader with the value ContentJSON marks a JSON payload;
	// without it a payload is msgpack.
	ContentTypeHeader = "Content-Type"
	ContentJSON       = "application/json"
	// EventHeader names the kind of a lifecycle event and NodeHeader the
	// node that published it, so `nats sub` output is readable as is.
	EventHeader = "Theater-Event"
	NodeHeader  = "Theater-Node"
)

var codeErrs = []struct {
	code string
	err  error
	// status is the micro service error code (HTTP-like), which
	// `nats micro stats` counts.
	status string
}{
	{CodeInvalidID, ErrInvalidID, "400"},
	{CodeUnknownActor, ErrUnknownActor, "404"},
	{CodeStopped, ErrStopped, "410"},
	{CodeExists, ErrExists, "409"},
	{CodeBadMsgpack, ErrBadMsgpack, "400"},
	{CodeBadJSON, ErrBadJSON, "400"},
	{CodeBadType, ErrBadType, "400"},
	{CodeTooLarge, ErrTooLarge, "413"},
	{CodeBadManifest, ErrBadManifest, "400"},
	{CodeRefused, ErrRefused, "422"},
	{CodeFailed, ErrFailed, "500"},
	{CodeMailboxFull, ErrMailboxFull, "503"},
	{CodeUnavailable, ErrUnavailable, "503"},
	{CodeInternal, ErrInternal, "500"},
}

// RemoteError is an error answered by a node, with its code.
type RemoteError struct {
	Code string
	Msg  string
}

func (e *RemoteError) Error() string { return e.Msg }

// Unwrap returns the sentinel of the code, ErrInternal for a code this
// version does not know.
func (e *RemoteError) Unwrap() error {
	for _, c := range codeErrs {
		if c.code == e.Code {
			return c.err
		}
	}
	return ErrInternal
}

// codeOf classifies an error for the wire: the code and the micro status.
func codeOf(err error) (code, status string) {
	for _, c := range codeErrs {
		if errors.Is(err, c.err) {
			return c.code, c.status
		}
	}
	return CodeInternal, "500"
}

// classify maps the errors of the packages a node calls to this package's
// sentinels, keeping the original text. A handler's failure comes first:
// it may wrap the error of what the guest returned (a reply or state not
// of its type, or over its limit), which is the handler's fault, not the
// requester's input. A request that ran out of time (in the queue or the
// handler) failed; one cancelled because the node shuts down is
// unavailable.
func classify(err error) error {
	var tl *actor.TooLargeError
	var f actor.Failure
	var pf *actor.Failure
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrFailed), errors.Is(err, ErrUnavailable):
		return err
	case errors.Is(err, actor.ErrRefused), errors.Is(err, actor.ErrUnknownModule):
		// A module refused at spawn may carry the Failure that refused it.
		return fmt.Errorf("%w: %w", ErrRefused, err)
	case errors.As(err, &f), errors.As(err, &pf):
		return fmt.Errorf("%w: %w", ErrFailed, err)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %w", ErrFailed, err)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	case errors.Is(err, codec.ErrMalformed):
		return fmt.Errorf("%w: %w", ErrBadMsgpack, err)
	case errors.Is(err, codec.ErrInvalid), errors.Is(err, codec.ErrLimit), errors.Is(err, actor.ErrInvalidMessage):
		return fmt.Errorf("%w: %w", ErrBadType, err)
	case errors.As(err, &tl), errors.Is(err, actor.ErrTooLarge), errors.Is(err, nats.ErrMaxPayload):
		return fmt.Errorf("%w: %w", ErrTooLarge, err)
	case errors.Is(err, actor.ErrStopped), errors.Is(err, actor.ErrClosed):
		return fmt.Errorf("%w: %w", ErrStopped, err)
	case errors.Is(err, actor.ErrExists):
		return fmt.Errorf("%w: %w", ErrExists, err)
	case errors.Is(err, actor.ErrInvalidID), errors.Is(err, transport.ErrConfig):
		return fmt.Errorf("%w: %w", ErrInvalidID, err)
	case errors.Is(err, manifest.ErrInvalid):
		return fmt.Errorf("%w: %w", ErrBadManifest, err)
	case errors.Is(err, actor.ErrMailboxFull):
		return fmt.Errorf("%w: %w", ErrMailboxFull, err)
	}
	return err
}
