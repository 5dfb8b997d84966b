package guest

import "fmt"

// ChannelError is the WIT variant channel.error, returned by Publish
// when the host answers with status 1. N is the payload of too-large
// and budget.
type ChannelError struct {
	Case   string // denied, too-large, budget, invalid, failed
	Detail string
	N      uint64
}

func (e *ChannelError) Error() string {
	if e.Detail == "" && (e.Case == "too-large" || e.Case == "budget") {
		return fmt.Sprintf("theater: channel: %s: %d", e.Case, e.N)
	}
	return "theater: channel: " + e.Case + ": " + e.Detail
}

// ParseChannelError reads the msgpack of a channel.error.
func ParseChannelError(b []byte) error {
	bad := fmt.Errorf("theater: malformed channel error %x", b)
	n, rest, err := ReadMapHeader(b)
	if err != nil || n != 1 {
		return bad
	}
	e := &ChannelError{}
	if e.Case, rest, err = ReadString(rest); err != nil {
		return bad
	}
	switch e.Case {
	case "too-large", "budget":
		e.N, rest, err = ReadUint(rest)
	case "denied", "invalid", "failed":
		e.Detail, rest, err = ReadString(rest)
	default:
		return bad
	}
	if err != nil || len(rest) != 0 {
		return bad
	}
	return e
}

// Field is one structured field of a log line (the WIT record
// log.field).
type Field struct{ Key, Value string }

// AppendFields appends the msgpack list<log.field> of fs.
func AppendFields(b []byte, fs []Field) []byte {
	b = AppendArrayHeader(b, len(fs))
	for _, f := range fs {
		b = AppendMapHeader(b, 2)
		b = AppendString(AppendString(b, "key"), f.Key)
		b = AppendString(AppendString(b, "value"), f.Value)
	}
	return b
}
