//go:build !wasip1

package guest

// Publish publishes to a topic. Here it fails with ErrNotWasm.
func Publish(topic string, payload []byte) error { return ErrNotWasm }

// LogFields writes one log line with fields. Here it fails with ErrNotWasm.
func LogFields(level Level, msg string, fields ...Field) error { return ErrNotWasm }
