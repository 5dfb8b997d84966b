package guest

import (
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// ChildSpec is the WIT record supervisor.child-spec: a child to spawn
// with the supervisor capability. Set Manifest (a manifest the host knows
// by name) or Digest ("sha256:<hex>") and ManifestTOML (the manifest
// fields, without name and module).
type ChildSpec struct {
	ID           string
	Manifest     string
	Digest       string
	ManifestTOML string
	// Restart is "permanent", "transient" or "temporary" (empty:
	// temporary, so that the parent decides); StartFrom "initial" or
	// "last" (empty: last).
	Restart    string
	StartFrom  string
	ShutdownMS uint32
	// DelayMS starts the child after this many milliseconds; Spawn returns
	// at once.
	DelayMS uint32
}

// AppendChildSpec appends c as canonical msgpack of supervisor.child-spec.
func AppendChildSpec(b []byte, c ChildSpec) []byte {
	restart, from := c.Restart, c.StartFrom
	if restart == "" {
		restart = "temporary"
	}
	if from == "" {
		from = "last"
	}
	b = AppendMapHeader(b, 6)
	b = AppendString(AppendString(b, "id"), c.ID)
	b = AppendMapHeader(AppendString(b, "source"), 1)
	if c.Manifest != "" {
		b = AppendString(AppendString(b, "manifest"), c.Manifest)
	} else {
		b = AppendMapHeader(AppendString(b, "module"), 2)
		b = AppendString(AppendString(b, "digest"), c.Digest)
		b = AppendString(AppendString(b, "manifest"), c.ManifestTOML)
	}
	b = AppendString(AppendString(b, "restart"), restart)
	b = AppendString(AppendString(b, "start-from"), from)
	b = AppendUint(AppendString(b, "shutdown-ms"), uint64(c.ShutdownMS))
	return AppendUint(AppendString(b, "delay-ms"), uint64(c.DelayMS))
}

// ChildExit is the WIT record supervisor.child-exit: how a child ended.
// Reason is an exit-reason case: "stopped", "killed", "trap", "deadline",
// "out-of-fuel", "memory-limit", "proc-exit", "fault", "guest-error", "abi" or
// "start-failed".
type ChildExit struct {
	ID         string
	Reason     string
	Detail     string
	Restarting bool
	Restarts   uint32
}

// ParseChildEvent reads a one-way message as the supervisor.child-event
// the host sends a parent when a child ends; ok is false for any other
// message, which the handler then treats as its own.
func ParseChildEvent(msg []byte) (x ChildExit, ok bool) {
	n, rest, err := ReadMapHeader(msg)
	if err != nil || n != 1 {
		return x, false
	}
	c, rest, err := ReadString(rest)
	if err != nil || c != "child-exit" {
		return x, false
	}
	n, rest, err = ReadMapHeader(rest)
	if err != nil {
		return x, false
	}
	var seen [5]bool // each field exactly once
	for range n {
		var k string
		if k, rest, err = ReadString(rest); err != nil {
			return x, false
		}
		f := -1
		switch k {
		case "id":
			f = 0
			x.ID, rest, err = ReadString(rest)
		case "reason":
			f = 1
			x.Reason, rest, err = ReadString(rest)
		case "detail":
			f = 2
			x.Detail, rest, err = ReadString(rest)
		case "restarting":
			f = 3
			x.Restarting, rest, err = ReadBool(rest)
		case "restarts":
			f = 4
			var u uint64
			u, rest, err = ReadUint(rest)
			x.Restarts = uint32(u)
			if u > math.MaxUint32 {
				return x, false
			}
		}
		if f < 0 || err != nil || seen[f] {
			return x, false
		}
		seen[f] = true
	}
	ok = seen == [5]bool{true, true, true, true, true} && len(rest) == 0 &&
		exitReasons[x.Reason] && utf8.ValidString(x.ID) && utf8.ValidString(x.Detail)
	return x, ok
}

// exitReasons are the cases of the WIT enum supervisor.exit-reason.
var exitReasons = map[string]bool{
	"stopped": true, "killed": true, "trap": true, "deadline": true, "out-of-fuel": true, "memory-limit": true,
	"proc-exit": true, "fault": true, "guest-error": true, "abi": true, "start-failed": true,
}

// ChildInfo is the WIT record supervisor.child-info.
type ChildInfo struct {
	ID       string
	Restart  string
	Running  bool
	Restarts uint32
}

func decodeChildInfos(b []byte) ([]ChildInfo, error) {
	bad := fmt.Errorf("theater: malformed child list %x", b)
	n, rest, err := ReadArrayHeader(b)
	if err != nil {
		return nil, bad
	}
	infos := make([]ChildInfo, n)
	for i := range infos {
		var m int
		if m, rest, err = ReadMapHeader(rest); err != nil || m != 4 {
			return nil, bad
		}
		for range m {
			var k string
			if k, rest, err = ReadString(rest); err != nil {
				return nil, bad
			}
			switch k {
			case "id":
				infos[i].ID, rest, err = ReadString(rest)
			case "restart":
				infos[i].Restart, rest, err = ReadString(rest)
			case "running":
				infos[i].Running, rest, err = ReadBool(rest)
			case "restarts":
				var u uint64
				u, rest, err = ReadUint(rest)
				infos[i].Restarts = uint32(u)
			default:
				err = bad
			}
			if err != nil {
				return nil, bad
			}
		}
	}
	return infos, nil
}

// SupervisorError is the WIT variant supervisor.error, returned by the
// supervisor functions when the host answers with status 1.
type SupervisorError struct {
	Case   string // denied, too-many, exists, unknown-child, invalid, failed
	Detail string
}

func (e *SupervisorError) Error() string { return "theater: supervisor: " + e.Case + ": " + e.Detail }

func decodeSupervisorError(b []byte) error {
	var me *MessageError
	if err := decodeMessageError(b); errors.As(err, &me) {
		return &SupervisorError{Case: me.Case, Detail: me.Detail}
	}
	return fmt.Errorf("theater: malformed supervisor error %x", b)
}
