package guest

import "fmt"

// TimerError is the WIT variant timer.error, returned by SetTimer and
// CancelTimer when the host answers with status 1. N is the payload of
// too-large and budget.
type TimerError struct {
	Case   string // invalid, too-large, budget, failed
	Detail string
	N      uint64
}

func (e *TimerError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("theater: timer: %s: %d", e.Case, e.N)
	}
	return "theater: timer: " + e.Case + ": " + e.Detail
}

// ParseTimerError reads the msgpack of a timer.error.
func ParseTimerError(b []byte) error {
	bad := fmt.Errorf("theater: malformed timer error %x", b)
	n, rest, err := ReadMapHeader(b)
	if err != nil || n != 1 {
		return bad
	}
	e := &TimerError{}
	if e.Case, rest, err = ReadString(rest); err != nil {
		return bad
	}
	switch e.Case {
	case "too-large", "budget":
		e.N, rest, err = ReadUint(rest)
	case "invalid", "failed":
		e.Detail, rest, err = ReadString(rest)
	default:
		return bad
	}
	if err != nil || len(rest) != 0 {
		return bad
	}
	return e
}
