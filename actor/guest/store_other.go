//go:build !wasip1

package guest

// StoreGet reads a key. Here it fails with ErrNotWasm.
func StoreGet(ns, key string) (Entry, bool, error) { return Entry{}, false, ErrNotWasm }

// StorePut writes a key. Here it fails with ErrNotWasm.
func StorePut(ns, key string, value []byte, c Condition) error { return ErrNotWasm }

// StoreDelete removes a key. Here it fails with ErrNotWasm.
func StoreDelete(ns, key string, c Condition) error { return ErrNotWasm }

// StoreKeys lists keys. Here it fails with ErrNotWasm.
func StoreKeys(ns string) ([]string, error) { return nil, ErrNotWasm }
