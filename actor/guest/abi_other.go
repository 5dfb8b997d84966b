//go:build !wasip1

package guest

// Outside a wasip1 guest there is no host: the host functions exist so
// that actor code compiles and can be unit tested natively, and they all
// fail with ErrNotWasm.

// Log writes one log line. Here it fails with ErrNotWasm.
func Log(level Level, msg string) error { return ErrNotWasm }

// SelfID returns the actor's id. Here it fails with ErrNotWasm.
func SelfID() (string, error) { return "", ErrNotWasm }

// Send sends a one-way message. Here it fails with ErrNotWasm.
func Send(to string, payload []byte) error { return ErrNotWasm }

// Request sends a request and waits for the reply. Here it fails with ErrNotWasm.
func Request(to string, payload []byte, timeoutMS uint32) ([]byte, error) { return nil, ErrNotWasm }

// Now returns the wall-clock time. Here it fails with ErrNotWasm.
func Now() (uint64, error) { return 0, ErrNotWasm }

// RandomBytes returns n random bytes. Here it fails with ErrNotWasm.
func RandomBytes(n int) ([]byte, error) { return nil, ErrNotWasm }
