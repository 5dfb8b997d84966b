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
	ErrKilled         = errors.New("actor: actor killed")
	ErrExists         = errors.New("actor: actor already exists")
	ErrUnknownActor   = errors.New("actor: unknown actor")
	ErrUnknownModule  = errors.New("actor: unknown module digest")
	ErrInvalidID      = errors.New("actor: invalid actor id")
	ErrRefused        = errors.New("actor: module refused")
	ErrMailboxFull    = errors.New("actor: mailbox full")
	ErrTooLarge       = errors.New("actor: message too large")
	ErrDenied         = errors.New("actor: target not allowed")
	ErrInvalidMessage = errors.New("actor: invalid message")
	// ErrNotRevertable: [Actor.Revert] was called when the last handler
	// call did not change the state, failed, or the actor hibernated or
	// ended since.
	ErrNotRevertable = errors.New("actor: nothing to revert")
)

// FailureKind says how a handler failed.
type FailureKind uint8

// The failure kinds. All but GuestError discard the instance and, under
// [EndOnFailure], end the actor.
const (
	Trap        FailureKind = iota + 1 // unreachable, out-of-bounds access, stack exhaustion, a host-side panic
	Deadline                           // the handler deadline passed
	MemoryLimit                        // the guest tried to grow its memory past the limit
	ProcExit                           // the guest called proc_exit
	Fault                              // an export returned a bad pointer, length or tag, or a state or reply over its size limit or not of its type
	GuestError                         // the handler returned err; the instance is kept
	ABI                                // the module broke the ABI when instantiated (version, _initialize)
	OutOfFuel                          // the handler exceeded Limits.Fuel; deterministic, unlike Deadline
)

// Sentinels for [errors.Is] on a [Failure], one per [FailureKind].
var (
	ErrTrap        = errors.New("actor: trap")
	ErrDeadline    = errors.New("actor: handler deadline exceeded")
	ErrMemoryLimit = errors.New("actor: memory limit exceeded")
	ErrProcExit    = errors.New("actor: guest exited")
	ErrFault       = errors.New("actor: fault")
	ErrGuest       = errors.New("actor: guest error")
	ErrABI         = errors.New("actor: ABI violation")
	ErrOutOfFuel   = errors.New("actor: out of fuel")
)

var kindInfo = [...]struct {
	name     string
	sentinel error
}{
	Trap:        {"trap", ErrTrap},
	Deadline:    {"deadline", ErrDeadline},
	MemoryLimit: {"memory limit", ErrMemoryLimit},
	ProcExit:    {"exit", ErrProcExit},
	Fault:       {"fault", ErrFault},
	GuestError:  {"guest error", ErrGuest},
	ABI:         {"abi", ErrABI},
	OutOfFuel:   {"out of fuel", ErrOutOfFuel},
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
	// ExitCode is the proc_exit code when Kind is ProcExit.
	ExitCode uint32
	// Fuel is the fuel the call had consumed when it failed. For
	// OutOfFuel it is the same on every run of the same call: the charge
	// of the metering point that would have exceeded the limit included.
	Fuel uint64
	Err  error
}

func (f Failure) Error() string {
	return fmt.Sprintf("actor: %q failed in %s: %s: %v", f.Actor, f.Handler, f.Kind, f.Err)
}

// Normal reports whether f is a proc_exit(0): the guest ended itself on
// purpose, which a supervisor reads as a normal exit.
func (f Failure) Normal() bool { return f.Kind == ProcExit && f.ExitCode == 0 }

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

// ExitReason says how an actor ended.
type ExitReason uint8

// The exit reasons.
const (
	Stopped ExitReason = iota + 1 // [Actor.Stop] ended it gracefully
	Killed                        // [Actor.Kill], a Stop whose context ended, or [Runtime.Close]
	Failed                        // a failure ended it ([EndOnFailure])
)

func (r ExitReason) String() string {
	switch r {
	case Stopped:
		return "stopped"
	case Killed:
		return "killed"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("ExitReason(%d)", uint8(r))
}

// Exit is how an actor ended, given to [Spec].OnExit and returned by
// [Actor.Exit].
type Exit struct {
	Actor  string
	Reason ExitReason
	// Failure is what ended the actor when Reason is Failed, and a
	// failed theater_on_stop when Reason is Stopped; nil otherwise.
	Failure *Failure
}

// Err is the ending as a supervisor reads it: nil for a stop (the owner
// asked for it, even if theater_on_stop failed) and for proc_exit(0),
// the actor's normal exit (an OTP process that returns: a transient or
// temporary child is not restarted); the [Failure] for any other
// failure, and an error wrapping [ErrKilled] for a kill, which the owner
// did not necessarily ask for.
func (x Exit) Err() error {
	switch {
	case x.Reason == Failed && x.Failure != nil && x.Failure.Normal():
		return nil
	case x.Reason == Failed && x.Failure != nil:
		return *x.Failure
	case x.Reason == Killed:
		return fmt.Errorf("%w: %q", ErrKilled, x.Actor)
	}
	return nil
}

func (x Exit) String() string {
	if x.Reason == Failed && x.Failure != nil {
		return fmt.Sprintf("%q failed: %s in %s", x.Actor, x.Failure.Kind, x.Failure.Handler)
	}
	return fmt.Sprintf("%q %s", x.Actor, x.Reason)
}

// endedError is what a message to a stopping or ended actor gets.
type endedError struct {
	id       string
	stopping bool // a graceful Stop is under way
	exit     ExitReason
	failure  *Failure // what ended it, for Failed
}

func (e *endedError) Error() string {
	switch {
	case e.stopping:
		return fmt.Sprintf("actor: %q is stopping", e.id)
	case e.failure != nil:
		return fmt.Sprintf("actor: %q has ended: it failed in %s: %s", e.id, e.failure.Handler, e.failure.Kind)
	}
	return fmt.Sprintf("actor: %q was %s", e.id, e.exit)
}

// Unwrap returns ErrStopped, and ErrKilled for a killed actor.
func (e *endedError) Unwrap() []error {
	if e.exit == Killed {
		return []error{ErrStopped, ErrKilled}
	}
	return []error{ErrStopped}
}
