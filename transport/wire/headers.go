package wire

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/theater-go/theater/actor/manifest"
)

// Headers of Theater messages, and their values.
const (
	// ErrorHeader carries the error code of a failed request; the body is
	// the human-readable message.
	ErrorHeader = "Theater-Error"
	// ContentTypeHeader with the value ContentJSON marks a JSON payload;
	// without it a payload is msgpack.
	ContentTypeHeader = "Content-Type"
	ContentJSON       = "application/json"
	// EventHeader names the kind of a lifecycle event and NodeHeader the
	// node that published it, so `nats sub` output is readable as is.
	EventHeader = "Theater-Event"
	NodeHeader  = "Theater-Node"
	// FromHeader names the actor that sent a message, when an actor did.
	FromHeader = "Theater-From"
	// DeadlineHeader carries the requester's deadline, in Unix
	// milliseconds (UTC), on a request to an actor: a node does not start
	// a request whose deadline has passed, since nobody waits for its
	// answer. Clocks of requester and node are assumed to agree to well
	// under a request's timeout.
	DeadlineHeader = "Theater-Deadline"
	// TypesHeader carries, on a request, the [TypesTag] of the types the
	// requester encoded it under; a node refuses the request with
	// [ErrTypesChanged] when the tag is not the hosted actor's. A request
	// without it is checked against the actor's types only.
	TypesHeader = "Theater-Types"
	// ChildEventHeader marks a send a node publishes into a supervisor
	// agent's mailbox about one of its children: the payload is the WIT
	// supervisor.child-event, checked against that type rather than the
	// actor's types.send. FromHeader names the child.
	ChildEventHeader = "Theater-Child-Event"
)

// TypesTag is a short tag of the request and reply types of an actor
// spawned from m: a hash of its WIT object's name (which names its
// digest) and the two type references. Two spawns with the same tag
// take and answer the same values.
func TypesTag(m *manifest.Manifest) string {
	h := sha256.New()
	for _, s := range []string{m.WIT, m.Types.Request, m.Types.Reply} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// SetDeadline puts deadline d in m's [DeadlineHeader].
func SetDeadline(m *nats.Msg, d time.Time) {
	if m.Header == nil {
		m.Header = nats.Header{}
	}
	m.Header[DeadlineHeader] = []string{strconv.FormatInt(d.UnixMilli(), 10)}
}

// Expired reports whether the [DeadlineHeader] in h names a time before
// now. A message without one, or with one that does not parse, has not
// expired.
func Expired(h nats.Header, now time.Time) bool {
	v := h[DeadlineHeader]
	if len(v) == 0 {
		return false
	}
	ms, err := strconv.ParseInt(v[0], 10, 64)
	return err == nil && now.UnixMilli() > ms
}

// Encoding is the encoding of a payload on the wire.
type Encoding uint8

// Encodings. Msgpack is the default: a message without a
// [ContentTypeHeader] is msgpack.
const (
	Msgpack Encoding = iota
	JSON
)

func (e Encoding) String() string {
	if e == JSON {
		return "json"
	}
	return "msgpack"
}
