package replay

import "errors"

// Errors of this package; returned errors wrap one of them.
var (
	// ErrChain means the events cannot be replayed: they do not start
	// with a spawn or a snapshot, belong to several actors, or skip a
	// sequence.
	ErrChain = errors.New("replay: cannot replay chain")
	// ErrModule means the spec's module is not the one the chain's
	// spawn event names.
	ErrModule = errors.New("replay: module does not match the chain")
	// ErrMalformedInput means a recorded input's Data is not in its
	// one encoding (docs/CHAIN.md, "Inputs").
	ErrMalformedInput = errors.New("replay: malformed input")
)
