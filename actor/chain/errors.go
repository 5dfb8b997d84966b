package chain

import "errors"

// Errors of this package; returned errors wrap one of them.
var (
	// ErrInvalid means an event cannot be encoded: a missing body, a bad
	// id, sequence or call.
	ErrInvalid = errors.New("chain: invalid event")
	// ErrMalformed means a payload or header is not a canonical event.
	ErrMalformed = errors.New("chain: malformed event")
)
