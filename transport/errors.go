package transport

import "errors"

// Sentinel errors. Every error this package returns starts with
// "transport: " and wraps one of these (or a context error), so callers
// can tell a configuration mistake from an unreachable server with
// [errors.Is] while people read the message.
var (
	// ErrConfig reports a configuration that cannot work: an invalid
	// prefix or id, a certificate without its key, an unparsable address.
	ErrConfig = errors.New("transport: invalid configuration")
	// ErrConnect reports that a NATS server could not be reached or
	// refused the connection.
	ErrConnect = errors.New("transport: cannot connect")
)

// wrapped is an error with its own message that still matches a sentinel
// and its cause. fmt.Errorf with two %w verbs would repeat the sentinel's
// text in the message; here the message says what happened once.
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

// configError returns an [ErrConfig] error with msg (which must start
// with "transport: ") and an optional cause.
func configError(msg string, cause error) error {
	return &wrapped{msg: msg, sentinel: ErrConfig, cause: cause}
}

// connectError returns an [ErrConnect] error with msg (which must start
// with "transport: ") and an optional cause.
func connectError(msg string, cause error) error {
	return &wrapped{msg: msg, sentinel: ErrConnect, cause: cause}
}
