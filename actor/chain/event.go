package chain

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Version is the format version every event carries in its "v" field.
// A change to any encoding rule of docs/CHAIN.md takes a new version.
const Version = 1

// Hash is a SHA-256 digest: of an event's payload, a state or a module.
type Hash [32]byte

// Sum returns the SHA-256 of b. An event's hash is Sum of its payload,
// exactly the bytes stored in the stream.
func Sum(b []byte) Hash { return sha256.Sum256(b) }

// String returns the hash in lower-case hex, as in the [HeaderHash] header.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is all zeros, the parent of the first event.
func (h Hash) IsZero() bool { return h == Hash{} }

// MarshalText writes the hash in lower-case hex, as String, so JSON
// shows hashes as the Theater-Hash header does.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// ParseHash parses 64 hex digits.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*len(h) {
		return h, fmt.Errorf("%w: hash %.70q is not 64 hex digits", ErrMalformed, s)
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("%w: hash %.70q: %v", ErrMalformed, s, err)
	}
	return h, nil
}

// Kind names the type of an event's body; it is the "kind" field of the
// payload and the [HeaderKind] header.
type Kind string

// The kinds of events. docs/CHAIN.md lists the fields of each.
const (
	KindSpawn     Kind = "spawn"
	KindHandled   Kind = "handled"
	KindFailure   Kind = "failure"
	KindRestart   Kind = "restart"
	KindStop      Kind = "stop"
	KindSnapshot  Kind = "snapshot"
	KindOwner     Kind = "owner"
	KindLifecycle Kind = "lifecycle"
)

// Headers every stored event carries, so `nats stream view` is readable
// without decoding the payload. [Verifier] checks they agree with it.
const (
	HeaderKind = "Theater-Kind"
	HeaderSeq  = "Theater-Seq"
	HeaderHash = "Theater-Hash"
)

// Event is one entry of an actor's chain: who, where in the chain, the
// hash of the event before it, and what happened.
type Event struct {
	// Actor is the actor's id.
	Actor string
	// Seq is the event's position in the actor's chain, from 1.
	Seq uint64
	// Parent is the hash of event Seq-1; zero for the first event.
	Parent Hash
	// Body is what happened: one of [*Spawn], [*Handled], [*Failure],
	// [*Restart], [*Stop], [*Snapshot], [*Owner], [*Lifecycle].
	Body Body
}

// Kind returns the kind of the event's body, or "" without one.
func (e *Event) Kind() Kind {
	if e.Body == nil {
		return ""
	}
	return e.Body.Kind()
}

// Head is the position of a chain's last event: its sequence and hash.
// The zero Head is an empty chain.
type Head struct {
	Seq  uint64
	Hash Hash
}

// Next returns the event that follows h in actor's chain.
func (h Head) Next(actor string, body Body) Event {
	return Event{Actor: actor, Seq: h.Seq + 1, Parent: h.Hash, Body: body}
}

// Sealed is an encoded event: the canonical payload, its hash, and the
// headers to store it with.
type Sealed struct {
	Event   Event
	Payload []byte
	Hash    Hash
}

// Seal encodes e canonically and hashes the payload.
func Seal(e Event) (Sealed, error) {
	p, err := e.Encode()
	if err != nil {
		return Sealed{}, err
	}
	return Sealed{Event: e, Payload: p, Hash: Sum(p)}, nil
}

// Head is the chain position s leaves behind it.
func (s *Sealed) Head() Head { return Head{Seq: s.Event.Seq, Hash: s.Hash} }

// Header returns the headers s is stored with: kind, sequence and hash.
func (s *Sealed) Header() map[string][]string {
	return map[string][]string{
		HeaderKind: {string(s.Event.Kind())},
		HeaderSeq:  {strconv.FormatUint(s.Event.Seq, 10)},
		HeaderHash: {s.Hash.String()},
	}
}

// MessageID is the id of the index-th message (from 0) that actor sends
// while handling the message recorded at chain sequence seq:
// "<actor>:<seq>:<index>". Replaying or retrying that handler makes the
// same sends under the same ids, so the mailbox stream's Nats-Msg-Id
// dedup stores each once.
func MessageID(actor string, seq uint64, index int) string {
	return actor + ":" + strconv.FormatUint(seq, 10) + ":" + strconv.Itoa(index)
}

// ParseMessageID splits an id made by [MessageID]; ok is false for any
// other string. The actor part may itself hold colons: the last two
// fields are the sequence and the index.
func ParseMessageID(id string) (actor string, seq uint64, index int, ok bool) {
	i := strings.LastIndexByte(id, ':')
	if i < 0 {
		return "", 0, 0, false
	}
	j := strings.LastIndexByte(id[:i], ':')
	if j <= 0 {
		return "", 0, 0, false
	}
	seq, err := strconv.ParseUint(id[j+1:i], 10, 64)
	if err != nil || seq == 0 {
		return "", 0, 0, false
	}
	idx, err := strconv.Atoi(id[i+1:])
	if err != nil || idx < 0 {
		return "", 0, 0, false
	}
	if MessageID(id[:j], seq, idx) != id { // no "+1", "01": one spelling per id
		return "", 0, 0, false
	}
	return id[:j], seq, idx, true
}

// Body is the kind-specific part of an event. The set of bodies is
// closed; [Lifecycle] carries events that need no fields of their own.
type Body interface {
	Kind() Kind
	encode(*writer)
	decode(*reader)
}

// Spawn starts a chain: what the actor runs and the state it starts from.
type Spawn struct {
	// Module is the SHA-256 of the Wasm module.
	Module Hash
	// Manifest is the actor's manifest, as given at spawn.
	Manifest []byte
	// State is the initial state, before init.
	State []byte
}

// Call says how a handler was invoked.
type Call string

// The calls a handler runs for.
const (
	CallSend    Call = "send"
	CallRequest Call = "request"
	CallInit    Call = "init"
	// CallStop is theater_on_stop, run when the actor is stopped (not at
	// a node shutdown, after which it goes on elsewhere).
	CallStop Call = "stop"
)

// Handled records one handler call: its input, every nondeterministic
// value the host gave the guest during it, and its outcome.
type Handled struct {
	// Call is send, request, init or stop.
	Call Call
	// From is the sender's actor id, "" when it is not an actor.
	From string
	// MsgID is the message's id (Nats-Msg-Id of a send), "" if none.
	MsgID string
	// MailboxSeq is the send's sequence in the mailbox stream, 0 for a
	// request or init: the chain records which sends were handled.
	MailboxSeq uint64
	// Payload is the message as the guest received it.
	Payload []byte
	// Inputs are the host-call results not derived deterministically
	// (clock reads, random bytes, replies from other actors...), in the
	// order the guest received them. Replay answers from this list.
	Inputs []Input
	// State is the SHA-256 of the state the handler returned.
	State Hash
	// Reply is the reply to a request, empty otherwise.
	Reply []byte
	// Out are the messages the handler sent, in order; the i-th has id
	// [MessageID](actor, seq, i).
	Out []Outgoing
}

// Input is one nondeterministic host-call result.
type Input struct {
	// Call names the host call, e.g. "clock.now" or "random".
	Call string
	// Data is the result as the guest received it.
	Data []byte
}

// Outgoing is one message a handler sent.
type Outgoing struct {
	// To is the receiving actor's id.
	To string
	// Payload is the message.
	Payload []byte
}

// Failure records a handler that failed: nothing it did is released.
type Failure struct {
	// Reason is the failure kind: trap, deadline, memory, exit, fault,
	// guest_error...
	Reason string
	// Call is the handler that failed: send, request or init.
	Call Call
	// Detail is the failure's message.
	Detail string
	// MsgID and MailboxSeq name the message being handled, as in
	// [Handled].
	MsgID      string
	MailboxSeq uint64
}

// Restart records the actor starting again, and from which state.
type Restart struct {
	Reason string
	// State is the SHA-256 of the state it restarts with.
	State Hash
}

// Stop records the actor stopping; the chain may continue if it is
// started again.
type Stop struct {
	Reason string
}

// Snapshot carries the full state, so a restore reads the last snapshot
// and the events after it.
type Snapshot struct {
	State []byte
}

// Owner records a change of the node hosting the actor.
type Owner struct {
	// Node is the node's name.
	Node string
	// Incarnation is the token of this hosting (the lease), different
	// every time a node takes the actor.
	Incarnation string
}

// Lifecycle is a generic event with named fields, for transitions that
// need no body of their own (supervision: child started, exited,
// escalated...). What names the transition.
type Lifecycle struct {
	What   string
	Fields map[string]string
}

// Wake is the What of a lifecycle event (no fields) that says the next
// handler call runs in a new instance of the module that nothing else in
// the chain explains: the actor was woken from hibernation or evicted,
// or its instance was closed after a failure. A call's fuel and a guest's
// WASI clocks depend on what its instance did before, so replay starts a
// fresh instance here, as it does at an owner, restart, snapshot or init
// event (docs/CHAIN.md, "Instances").
const Wake = "wake"

func (*Spawn) Kind() Kind     { return KindSpawn }
func (*Handled) Kind() Kind   { return KindHandled }
func (*Failure) Kind() Kind   { return KindFailure }
func (*Restart) Kind() Kind   { return KindRestart }
func (*Stop) Kind() Kind      { return KindStop }
func (*Snapshot) Kind() Kind  { return KindSnapshot }
func (*Owner) Kind() Kind     { return KindOwner }
func (*Lifecycle) Kind() Kind { return KindLifecycle }

// newBody returns an empty body of kind k, or nil for an unknown kind.
func newBody(k Kind) Body {
	switch k {
	case KindSpawn:
		return &Spawn{}
	case KindHandled:
		return &Handled{}
	case KindFailure:
		return &Failure{}
	case KindRestart:
		return &Restart{}
	case KindStop:
		return &Stop{}
	case KindSnapshot:
		return &Snapshot{}
	case KindOwner:
		return &Owner{}
	case KindLifecycle:
		return &Lifecycle{}
	}
	return nil
}
