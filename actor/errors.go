package actor

import (
	"errors"
	"fmt"
)

// Errors returned to callers of the runtime. Every error of this package
// wraps one of these sentinels (or a [Failure] kind sentinel).
var (
	ErrClosed         = errors.New("actor: runtime closed")
	ErrStopped        = errors.New("actor: actor stopped")
	ErrExists         = errors.New("actor: actor already exists")
	ErrUnknownActor   = errors.New("actor: unknown actor")
	ErrUnknownModule  = errors.New("actor: unknown module digest")
	ErrInvalidID      = errors.New("actor: invalid actor id")
	ErrRefused        = errors.New("actor: module refused")
	ErrMailboxFull    = errors.New("actor: mailbox full")
	ErrTooLarge       = errors.New("actor: message too large")
	ErrDenied         = errors.New("actor: target not allowed")
	ErrInvalidMessage = errors.New("actor: invalid message")
)

// FailureKind says how a handler failed.
type FailureKind uint8

// The failure kinds. All but GuestError discard the instance.
const (
	Trap        FailureKind = iota + 1 // unreachable, out-of-bounds access, stack exhaustion, a host-side panic
	Deadline                           // the handler deadline passed
	MemoryLimit                        // the guest tried to grow its memory past the limit
	Exit                               // the guest called proc_exit
	Fault                              // an export returned a bad pointer, length or tag, or a state or reply over its size limit or not of its type
	GuestError                         // the handler returned err; the instance is kept
	ABI                                // the module broke the ABI when instantiated (version, _initialize)
)

// Sentinels for [errors.Is] on a [Failure], one per [FailureKind].
var (
	ErrTrap        = errors.New("actor: trap")
	ErrDeadline    = errors.New("actor: handler deadline exceeded")
	ErrMemoryLimit = errors.New("actor: memory limit exceeded")
	ErrExit        = errors.New("actor: guest exited")
	ErrFault       = errors.New("actor: fault")
	ErrGuest       = errors.New("actor: guest error")
	ErrABI         = errors.New("actor: ABI violation")
)

var kindInfo = [...]struct {
	name     string
	sentinel error
}{
	Trap:        {"trap", ErrTrap},
	Deadline:    {"deadline", ErrDeadline},
	MemoryLimit: {"memory limit", ErrMemoryLimit},
	Exit:        {"exit", ErrExit},
	Fault:       {"fault", ErrFault},
	GuestError:  {"guest error", ErrGuest},
	ABI:         {"abi", ErrABI},
}

func (k FailureKind) String() string {
	if int(k) < len(kindInfo) && kindInfo[k].name != "" {
		return kindInfo[k].name
	}
	return fmt.Sprintf("FailureKind(%d)", uint8(k))
}

// Failure is a failed guest call: what went wrong, in which actor and
// handler. It is given to the actor's owner ([Spec].OnFailure) and
// returned to a requester, as a value: use errors.As with a *Failure
// target. errors.Is matches the kind's sentinel ([ErrTrap], ...) and the
// cause.
type Failure struct {
	Kind    FailureKind
	Actor   string
	Handler string // the export that was running: "theater_handle_send", "_initialize", ...
	// ExitCode is the proc_exit code when Kind is Exit.
	ExitCode uint32
	Err      error
}

func (f Failure) Error() string {
	return fmt.Sprintf("actor: %q failed in %s: %s: %v", f.Actor, f.Handler, f.Kind, f.Err)
}

// Unwrap returns the kind's sentinel and the cause.
func (f Failure) Unwrap() []error {
	var s error
	if int(f.Kind) < len(kindInfo) {
		s = kindInfo[f.Kind].sentinel
	}
	return []error{s, f.Err}
}

// TooLargeError is a message over a size limit; it wraps [ErrTooLarge].
type TooLargeError struct{ Size, Limit int }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%v: %d bytes, limit %d", ErrTooLarge, e.Size, e.Limit)
}

func (e *TooLargeError) Unwrap() error { return ErrTooLarge }
