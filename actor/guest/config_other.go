//go:build !wasip1

package guest

// Config returns a config value. Here it fails with ErrNotWasm.
func Config(name string) (string, error) { return "", ErrNotWasm }
