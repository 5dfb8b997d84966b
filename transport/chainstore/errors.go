package chainstore

import "errors"

// Errors of this package; returned errors wrap one of them.
var (
	// ErrFenced means another writer appended to the chain since this
	// appender's head: the append failed and the appender stopped, so
	// nothing after it is acknowledged. The caller no longer owns the
	// chain's end; it re-reads the head (and its lease) before writing.
	ErrFenced = errors.New("chainstore: fenced: another writer appended to the chain")
	// ErrAppend means an append failed for another reason (the server
	// refused the message, or its outcome could not be learned); the
	// appender stopped, nothing of that batch or after it is
	// acknowledged.
	ErrAppend = errors.New("chainstore: append failed")
	// ErrTooLarge means events that must land together do not fit in
	// one message of the chain stream: the append is refused before
	// anything is sent, and the appender goes on.
	ErrTooLarge = errors.New("chainstore: too large for one chain message")
	// ErrClosed means the appender was closed.
	ErrClosed = errors.New("chainstore: appender closed")
	// ErrInvalid means a bad argument: an id, a head or an option.
	ErrInvalid = errors.New("chainstore: invalid argument")
	// ErrBroken means Read met a stored event that does not continue the
	// chain; [Store.Verify] says what is wrong with it.
	ErrBroken = errors.New("chainstore: chain does not verify")
)
