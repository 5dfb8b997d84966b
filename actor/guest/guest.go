package guest

import (
	"errors"
	"fmt"
)

// ABIVersion is the ABI version this SDK implements, returned by the
// theater_abi_version export.
const ABIVersion = 1

// Handlers are an actor's entry points. Each receives the current state
// bytes and returns the new state; returning an error leaves the state
// unchanged and reports the error's text (for a request, to the caller).
// A panic in a handler is reported the same way, as an error.
type Handlers struct {
	// Init receives the manifest's initial state (empty when it has none).
	// Nil means: start from the initial state unchanged.
	Init func(state []byte) ([]byte, error)
	// Send handles a one-way message.
	Send func(state, msg []byte) ([]byte, error)
	// Request handles a request and returns the reply too.
	Request func(state, msg []byte) (newState, reply []byte, err error)
	// OnStop runs before a graceful stop. Nil means: state unchanged.
	OnStop func(state []byte) ([]byte, error)
}

var handlers Handlers

// Handle registers the actor's handlers. Call it from an init function.
func Handle(h Handlers) { handlers = h }

// Level is a log line's importance (the WIT enum log.level).
type Level uint32

const (
	Debug Level = iota
	Info
	Warn
	Error
)

// Status is a host function's non-zero result code (ABI.md, "The
// import's i32 return value is the status").
type Status int32

const (
	StatusFault       Status = -1
	StatusInvalid     Status = -2
	StatusNoMemory    Status = -3
	StatusTooLarge    Status = -4
	StatusUnavailable Status = -5
)

func (s Status) Error() string {
	switch s {
	case StatusFault:
		return "theater: host call fault (pointer outside memory)"
	case StatusInvalid:
		return "theater: host call argument invalid"
	case StatusNoMemory:
		return "theater: host call could not allocate guest memory"
	case StatusTooLarge:
		return "theater: host call argument too large"
	case StatusUnavailable:
		return "theater: host unavailable"
	}
	return fmt.Sprintf("theater: host call status %d", int32(s))
}

// ErrNotWasm is returned by host functions when the code does not run as
// a wasip1 guest (for example in native unit tests).
var ErrNotWasm = errors.New("theater: not running as a wasm guest")

// MessageError is the WIT variant message.error, returned by Send and
// Request when the host answers with status 1.
type MessageError struct {
	Case   string // unknown-actor, denied, invalid, too-large, timeout, failed
	Detail string // the case's payload as text ("" for timeout)
}

func (e *MessageError) Error() string {
	if e.Detail == "" {
		return "theater: " + e.Case
	}
	return "theater: " + e.Case + ": " + e.Detail
}

// decodeMessageError reads the msgpack one-key map {case: payload} the host
// writes for a message.error.
func decodeMessageError(b []byte) error {
	n, rest, err := ReadMapHeader(b)
	if err != nil || n != 1 {
		return fmt.Errorf("theater: malformed message error %x", b)
	}
	c, rest, err := ReadString(rest)
	if err != nil {
		return fmt.Errorf("theater: malformed message error %x", b)
	}
	e := &MessageError{Case: c}
	switch {
	case len(rest) > 0 && rest[0] == mpNil:
	default:
		if s, _, err := ReadString(rest); err == nil {
			e.Detail = s
		} else if u, _, err := ReadUint(rest); err == nil {
			e.Detail = fmt.Sprint(u)
		}
	}
	return e
}

// statusErr turns a host call's status into an error; retErr decodes the
// error value for status 1 (nil for functions whose WIT result has no
// error case).
func statusErr(status int32, retErr func() error) error {
	switch status {
	case 0:
		return nil
	case 1:
		if retErr != nil {
			return retErr()
		}
	}
	return Status(status)
}

// call runs one handler, turning a panic into an error so the host gets
// a clear guest error instead of a Go runtime abort.
func call(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}
