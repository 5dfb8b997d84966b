package guest

import (
	"errors"
	"fmt"
)

// ConfigError is the WIT variant config.error, returned by Config when
// the host answers with status 1.
type ConfigError struct {
	Case string // unknown, missing
	Name string
}

func (e *ConfigError) Error() string { return "theater: config: " + e.Case + ": " + e.Name }

func decodeConfigError(b []byte) error {
	var me *MessageError
	if err := decodeMessageError(b); errors.As(err, &me) {
		return &ConfigError{Case: me.Case, Name: me.Detail}
	}
	return fmt.Errorf("theater: malformed config error %x", b)
}
