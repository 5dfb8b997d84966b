package wit

import (
	"errors"
	"fmt"
)

// Sentinels that every [*Error] unwraps to, so callers can tell the kind
// of failure apart with [errors.Is].
var (
	// ErrSyntax marks a WIT file that does not parse.
	ErrSyntax = errors.New("wit: syntax error")
	// ErrResolve marks WIT that parses but does not resolve: unknown or
	// duplicate names, cycles, bad handles, gate misuse and the like.
	ErrResolve = errors.New("wit: resolve error")
	// ErrNotFound marks a lookup of a name the model does not have.
	ErrNotFound = errors.New("wit: not found")
)

// Error is a failure at a position in a WIT source. Err is one of
// [ErrSyntax], [ErrResolve] or [ErrNotFound]; Pos is zero for lookups that
// have no source position.
type Error struct {
	Pos Pos
	Msg string
	Err error
}

// Error returns "wit: file:line:col: msg", or "wit: msg" without a
// position.
func (e *Error) Error() string {
	if e.Pos == (Pos{}) {
		return "wit: " + e.Msg
	}
	return "wit: " + e.Pos.String() + ": " + e.Msg
}

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Err }

func resolveErr(pos Pos, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...), Err: ErrResolve}
}

func notFound(format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, args...), Err: ErrNotFound}
}
