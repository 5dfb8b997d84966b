package embedded

import "errors"

// Sentinel errors. Every error this package returns starts with
// "embedded: " and wraps one of these (or a context error).
var (
	// ErrConfig reports a configuration that cannot work: an unparsable
	// address, routes without a cluster name, a bad config file.
	ErrConfig = errors.New("embedded: invalid configuration")
	// ErrStart reports that the server did not start or did not become
	// ready in time (a port in use, an unwritable store dir).
	ErrStart = errors.New("embedded: server did not start")
)

// wrapped is an error with its own message that still matches a sentinel
// and its cause, without repeating the sentinel's text.
type wrapped struct {
	msg      string
	sentinel error
	cause    error
}

func (e *wrapped) Error() string { return e.msg }

func (e *wrapped) Unwrap() []error {
	if e.cause == nil {
		return []error{e.sentinel}
	}
	return []error{e.sentinel, e.cause}
}

func configError(msg string, cause error) error {
	return &wrapped{msg: msg, sentinel: ErrConfig, cause: cause}
}

func startError(msg string, cause error) error {
	return &wrapped{msg: msg, sentinel: ErrStart, cause: cause}
}
