package codec

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// The sentinel errors every [*Error] unwraps to, for errors.Is.
var (
	// ErrInvalid means the input is well-formed but the value does not
	// fit the type.
	ErrInvalid = errors.New("codec: value does not fit type")
	// ErrMalformed means the input is not valid msgpack or JSON.
	ErrMalformed = errors.New("codec: malformed input")
	// ErrLimit means a [Limits] bound was exceeded.
	ErrLimit = errors.New("codec: limit exceeded")
	// ErrGoType means the Go value given to [Decode] cannot hold the
	// value: a Go type of another shape, or a number narrower than its
	// WIT type that the value does not fit.
	ErrGoType = errors.New("codec: Go type cannot hold the value")
	// ErrUnsupported means the type cannot be carried in a message:
	// future, stream, error-context, option<option<T>>, or a map key type
	// other than bool, an integer, char, string or enum.
	ErrUnsupported = errors.New("codec: type not supported")
)

// Error is the error of every failed conversion. Path locates the value
// that failed: [2] is a list, tuple or flags index, .name a record field or
// a variant or result case, ["k"] a map key (in its JSON spelling). Path is
// empty for the top-level value.
type Error struct {
	Path string
	Msg  string
	kind error
}

func (e *Error) Error() string {
	if e.Path == "" {
		return "codec: " + e.Msg
	}
	return "codec: " + e.Path + ": " + e.Msg
}

// Unwrap returns [ErrInvalid], [ErrMalformed], [ErrLimit], [ErrGoType]
// or [ErrUnsupported].
func (e *Error) Unwrap() error { return e.kind }

func newError(kind error, msg string) *Error { return &Error{Msg: msg, kind: kind} }

func invalid(msg string) *Error     { return newError(ErrInvalid, msg) }
func malformed(msg string) *Error   { return newError(ErrMalformed, msg) }
func unsupported(msg string) *Error { return newError(ErrUnsupported, msg) }

func mismatch(want, got string) *Error { return invalid("expected " + want + ", got " + got) }

// The at* helpers prefix the path of err while the walkers unwind, so the
// path costs nothing unless something failed.

func atIndex(err error, i int) error { return prefix(err, "["+strconv.Itoa(i)+"]") }

func atName(err error, name string) error { return prefix(err, "."+name) }

func atKey(err error, key string) error { return prefix(err, "["+strconv.Quote(key)+"]") }

func prefix(err error, seg string) error {
	if e, ok := err.(*Error); ok {
		e.Path = seg + e.Path
	}
	return err
}

// inKey marks err as about a map key, which has no path of its own.
func inKey(err error) error {
	if e, ok := err.(*Error); ok && (e.kind == ErrInvalid || e.kind == ErrGoType) {
		e.Msg = "key: " + e.Msg
	}
	return err
}

// finish turns err into the error the API returns: the path of a field
// of the top-level record does not start with a dot.
func finish(err error) error {
	if e, ok := err.(*Error); ok && len(e.Path) > 0 && e.Path[0] == '.' {
		e.Path = e.Path[1:]
	}
	return err
}

// maxQuoted is how many bytes of a string an error message shows.
const maxQuoted = 32

// quote quotes s for an error message, cutting it at a rune boundary
// when it is long.
func quote(s []byte) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(string(s))
	}
	n := maxQuoted
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strconv.Quote(string(s[:n])) + "... (" + strconv.Itoa(len(s)) + " bytes)"
}
