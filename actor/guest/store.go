package guest

import (
	"fmt"
	"strconv"
)

// Entry is the WIT record store.entry: a value and the revision of the
// write that stored it (0 for a value this handler wrote, not stored
// until the handler's event is durable).
type Entry struct {
	Value    []byte
	Revision uint64
}

// Condition is the WIT variant store.condition: when a put or delete
// applies.
type Condition struct {
	kind     uint8 // 0 always, 1 absent, 2 revision
	revision uint64
}

// The conditions of a write: Always (last write wins), Absent
// (create-only) and IfRevision (compare-and-set).
var (
	Always = Condition{}
	Absent = Condition{kind: 1}
)

// IfRevision applies a write only if the key's value has revision rev.
func IfRevision(rev uint64) Condition { return Condition{kind: 2, revision: rev} }

// AppendCondition appends the canonical msgpack of c.
func AppendCondition(b []byte, c Condition) []byte {
	b = AppendMapHeader(b, 1)
	switch c.kind {
	case 1:
		return AppendNil(AppendString(b, "absent"))
	case 2:
		return AppendUint(AppendString(b, "revision"), c.revision)
	}
	return AppendNil(AppendString(b, "always"))
}

// StoreError is the WIT variant store.error, returned by the store
// functions when the host answers with status 1. N is the payload of
// budget (the budget) and conflict (the key's revision, 0 for none).
type StoreError struct {
	Case   string // denied, too-large, budget, conflict, invalid, failed
	Detail string
	N      uint64
}

func (e *StoreError) Error() string {
	if e.Case == "budget" || e.Case == "conflict" {
		return "theater: store: " + e.Case + ": " + strconv.FormatUint(e.N, 10)
	}
	return "theater: store: " + e.Case + ": " + e.Detail
}

// ParseStoreError reads the msgpack of a store.error.
func ParseStoreError(b []byte) error {
	bad := fmt.Errorf("theater: malformed store error %x", b)
	n, rest, err := ReadMapHeader(b)
	if err != nil || n != 1 {
		return bad
	}
	e := &StoreError{}
	if e.Case, rest, err = ReadString(rest); err != nil {
		return bad
	}
	switch e.Case {
	case "budget", "conflict":
		e.N, rest, err = ReadUint(rest)
	case "denied", "too-large", "invalid", "failed":
		e.Detail, rest, err = ReadString(rest)
	default:
		return bad
	}
	if err != nil || len(rest) != 0 {
		return bad
	}
	return e
}

// ParseEntry reads the msgpack of an option<store.entry>; found is false
// for none.
func ParseEntry(b []byte) (e Entry, found bool, err error) {
	bad := fmt.Errorf("theater: malformed store entry %x", b)
	if len(b) == 1 && b[0] == mpNil {
		return Entry{}, false, nil
	}
	n, rest, err := ReadMapHeader(b)
	if err != nil || n != 2 {
		return e, false, bad
	}
	seen := map[string]bool{}
	for range n {
		var k string
		if k, rest, err = ReadString(rest); err != nil || seen[k] {
			return e, false, bad
		}
		seen[k] = true
		switch k {
		case "value":
			e.Value, rest, err = ReadBytes(rest)
		case "revision":
			e.Revision, rest, err = ReadUint(rest)
		default:
			err = bad
		}
		if err != nil {
			return e, false, bad
		}
	}
	if len(rest) != 0 {
		return e, false, bad
	}
	return e, true, nil
}

// ParseKeys reads the msgpack of a list<string>.
func ParseKeys(b []byte) ([]string, error) {
	n, rest, err := ReadArrayHeader(b)
	if err != nil {
		return nil, fmt.Errorf("theater: malformed key list %x", b)
	}
	var keys []string // n is untrusted: no capacity from it
	for range n {
		var k string
		if k, rest, err = ReadString(rest); err != nil {
			return nil, fmt.Errorf("theater: malformed key list %x", b)
		}
		keys = append(keys, k)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("theater: malformed key list %x", b)
	}
	return keys, nil
}
