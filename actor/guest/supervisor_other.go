//go:build !wasip1

package guest

// Spawn starts a child. Here it fails with ErrNotWasm.
func Spawn(c ChildSpec) error { return ErrNotWasm }

// StopChild stops a child. Here it fails with ErrNotWasm.
func StopChild(id string) error { return ErrNotWasm }

// RestartChild restarts a child. Here it fails with ErrNotWasm.
func RestartChild(id string) error { return ErrNotWasm }

// Children lists the children. Here it fails with ErrNotWasm.
func Children() ([]ChildInfo, error) { return nil, ErrNotWasm }

// ChildState returns a child's state. Here it fails with ErrNotWasm.
func ChildState(id string) ([]byte, error) { return nil, ErrNotWasm }
