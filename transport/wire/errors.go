package wire

import (
	"errors"
	"fmt"

	"github.com/theater-go/theater/wit/codec"
)

// Sentinel errors shared by the node and the client. Their text starts
// with "theater: " rather than "wire: ": they are the system's error
// vocabulary, returned alike by a node in this process and, through
// [RemoteError], by one across the network.
var (
	ErrInvalidID    = errors.New("theater: invalid id")
	ErrUnknownActor = errors.New("theater: unknown actor")
	ErrStopped      = errors.New("theater: actor stopped")
	ErrExists       = errors.New("theater: actor already exists")
	ErrBadMsgpack   = errors.New("theater: malformed msgpack")
	ErrBadJSON      = errors.New("theater: malformed JSON")
	ErrBadType      = errors.New("theater: value does not fit the actor's type")
	ErrTooLarge     = errors.New("theater: payload too large")
	ErrBadManifest  = errors.New("theater: invalid manifest")
	ErrRefused      = errors.New("theater: module refused")
	ErrFailed       = errors.New("theater: handler failed")
	ErrMailboxFull  = errors.New("theater: mailbox full")
	ErrUnavailable  = errors.New("theater: no node answered")
	// ErrTypesChanged refuses a request sent under types (its
	// [TypesHeader]) other than the hosted actor's: the actor was spawned
	// again with other types since the requester looked. Nothing ran.
	ErrTypesChanged = errors.New("theater: actor types changed")
	// ErrGaveUp answers messages to an actor whose supervisor gave up on
	// it (a temporary child that failed, or more restarts than its
	// intensity allows): its status is [StatusFailed], its mailbox kept.
	ErrGaveUp = errors.New("theater: actor failed and its supervisor gave up")
	// ErrDenied refuses a request its sender may not make: a spawn that
	// names a parent outside the nodes' own subject, or a parent that is
	// not a running supervisor agent.
	ErrDenied = errors.New("theater: not allowed")
	// ErrNATS wraps a failed NATS or JetStream operation (a lost
	// connection, a missing stream); the error of nats.go follows it.
	ErrNATS     = errors.New("theater: NATS")
	ErrInternal = errors.New("theater: internal error")
)

// Errors of the headers of a message.
var (
	// ErrBadHeader is a message whose header block does not parse;
	// ErrContentType one whose Content-Type names no encoding a node
	// reads. Neither is read under a guessed encoding.
	ErrBadHeader   = errors.New("theater: malformed header block")
	ErrContentType = errors.New("theater: unsupported content type")
)

// Error codes travel in the [ErrorHeader] of a reply, so a client in any
// language (or a person with `nats req`) can tell them apart without
// parsing the message. docs/NATS.md lists them.
const (
	CodeInvalidID    = "invalid_id"
	CodeUnknownActor = "unknown_actor"
	CodeStopped      = "stopped"
	CodeExists       = "exists"
	CodeBadMsgpack   = "bad_msgpack"
	CodeBadJSON      = "bad_json"
	CodeBadHeader    = "bad_header"
	CodeContentType  = "unsupported_content_type"
	CodeBadType      = "bad_type"
	CodeTooLarge     = "too_large"
	CodeBadManifest  = "bad_manifest"
	CodeRefused      = "refused"
	CodeFailed       = "failed"
	CodeMailboxFull  = "mailbox_full"
	CodeUnavailable  = "unavailable"
	CodeTypesChanged = "types_changed"
	CodeGaveUp       = "gave_up"
	CodeDenied       = "denied"
	CodeInternal     = "internal"
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
	{CodeBadHeader, ErrBadHeader, "400"},
	{CodeContentType, ErrContentType, "415"},
	{CodeBadType, ErrBadType, "400"},
	{CodeTooLarge, ErrTooLarge, "413"},
	{CodeBadManifest, ErrBadManifest, "400"},
	{CodeRefused, ErrRefused, "422"},
	{CodeFailed, ErrFailed, "500"},
	{CodeMailboxFull, ErrMailboxFull, "503"},
	{CodeUnavailable, ErrUnavailable, "503"},
	{CodeTypesChanged, ErrTypesChanged, "409"},
	{CodeGaveUp, ErrGaveUp, "410"},
	{CodeDenied, ErrDenied, "403"},
	{CodeInternal, ErrInternal, "500"},
}

// RemoteError is an error answered by a node, with its code. It unwraps
// to the sentinel of its code, so errors.Is(err, [ErrUnknownActor]) holds
// whether the node ran in this process or on another machine, as
// jetstream's APIError does for JetStream's codes.
type RemoteError struct {
	Code string
	Msg  string
}

func (e *RemoteError) Error() string { return e.Msg }

// Unwrap returns the sentinel of the code, [ErrInternal] for a code this
// version does not know.
func (e *RemoteError) Unwrap() error {
	for _, c := range codeErrs {
		if c.code == e.Code {
			return c.err
		}
	}
	return ErrInternal
}

// CodeOf classifies an error for the wire: its code and the micro service
// status, [CodeInternal] and "500" for an error wrapping no sentinel.
func CodeOf(err error) (code, status string) {
	for _, c := range codeErrs {
		if errors.Is(err, c.err) {
			return c.code, c.status
		}
	}
	return CodeInternal, "500"
}

// CodecError maps an error of package codec to the sentinel a sender
// sees: malformed bytes are [ErrBadMsgpack], a value that does not fit
// or exceeds a limit is [ErrBadType]. Other errors are returned as they
// are.
func CodecError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, codec.ErrMalformed):
		return fmt.Errorf("%w: %w", ErrBadMsgpack, err)
	case errors.Is(err, codec.ErrInvalid), errors.Is(err, codec.ErrLimit):
		return fmt.Errorf("%w: %w", ErrBadType, err)
	}
	return err
}
