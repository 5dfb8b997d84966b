//go:build !wasip1

package guest

// SetTimer sets a timer. Here it fails with ErrNotWasm.
func SetTimer(id string, delayMs, intervalMs uint32, payload []byte) error { return ErrNotWasm }

// CancelTimer cancels a timer. Here it fails with ErrNotWasm.
func CancelTimer(id string) error { return ErrNotWasm }
