package guest

import (
	"errors"
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

// malformed is the error of a store answer that does not parse, naming
// at most its first 64 bytes. It is built only on failure: formatting
// costs more than a parse in a guest, and an entry may be megabytes.
func malformed(what string, b []byte) error {
	if len(b) > 64 {
		return fmt.Errorf("theater: malformed %s %x... (%d bytes)", what, b[:64], len(b))
	}
	return fmt.Errorf("theater: malformed %s %x", what, b)
}

// ParseStoreError reads the msgpack of a store.error.
func ParseStoreError(b []byte) error {
	n, rest, err := ReadMapHeader(b)
	if err != nil || n != 1 {
		return malformed("store error", b)
	}
	e := &StoreError{}
	if e.Case, rest, err = ReadString(rest); err != nil {
		return malformed("store error", b)
	}
	switch e.Case {
	case "budget", "conflict":
		e.N, rest, err = ReadUint(rest)
	case "denied", "too-large", "invalid", "failed":
		e.Detail, rest, err = ReadString(rest)
	default:
		return malformed("store error", b)
	}
	if err != nil || len(rest) != 0 {
		return malformed("store error", b)
	}
	return e
}

var errMalformed = errors.New("malformed")

// ParseEntry reads the msgpack of an option<store.entry>; found is false
// for none.
func ParseEntry(b []byte) (e Entry, found bool, err error) {
	if len(b) == 1 && b[0] == mpNil {
		return Entry{}, false, nil
	}
	n, rest, err := ReadMapHeader(b)
	if err != nil || n != 2 {
		return e, false, malformed("store entry", b)
	}
	var seenValue, seenRevision bool // the two fields, each once
	for range n {
		var k string
		if k, rest, err = ReadString(rest); err != nil {
			return e, false, malformed("store entry", b)
		}
		switch {
		case k == "value" && !seenValue:
			seenValue = true
			e.Value, rest, err = ReadBytes(rest)
		case k == "revision" && !seenRevision:
			seenRevision = true
			e.Revision, rest, err = ReadUint(rest)
		default:
			err = errMalformed
		}
		if err != nil {
			return e, false, malformed("store entry", b)
		}
	}
	if len(rest) != 0 {
		return e, false, malformed("store entry", b)
	}
	return e, true, nil
}

// ParseKeys reads the msgpack of a list<string>.
func ParseKeys(b []byte) ([]string, error) {
	n, rest, err := ReadArrayHeader(b)
	if err != nil {
		return nil, malformed("key list", b)
	}
	var keys []string // n is untrusted: no capacity from it
	for range n {
		var k string
		if k, rest, err = ReadString(rest); err != nil {
			return nil, malformed("key list", b)
		}
		keys = append(keys, k)
	}
	if len(rest) != 0 {
		return nil, malformed("key list", b)
	}
	return keys, nil
}
