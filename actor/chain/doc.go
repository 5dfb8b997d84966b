// Package chain is the model of an actor's hash-chained history: the
// events, their one canonical encoding, their hashes, and the verifier
// that finds every changed, removed, reordered or inserted event. It is
// pure: no NATS, no wazero. Package transport/chainstore stores chains in
// JetStream; docs/CHAIN.md describes the format for people and for
// independent checkers.
//
// # Events
//
// An [Event] is one step of one actor: its id, its sequence (1-based, per
// actor), the [Hash] of the event before it (zero for the first), and a
// [Body] saying what happened: [Spawn], [Handled] (one per handler call,
// with every nondeterministic host-call result as an [Input] and the
// outcome: new state hash, reply, [Outgoing] messages), [Failure],
// [Restart], [Stop], [Snapshot], [Owner] (node and incarnation token) and
// the generic [Lifecycle] for transitions such as supervision's that need
// no fields of their own.
//
// Messages an actor sends while handling the event at sequence s get the
// id [MessageID](actor, s, i), so a replayed or retried handler sends
// them under the same ids and the mailbox stream stores each once.
//
// # Encoding and hashing
//
// [Event.Encode] writes a msgpack map with fixed keys in fixed order,
// integers in their smallest form, bytes as bin and text as UTF-8 str;
// every field is always present, so an event has exactly one encoding.
// [Decode] accepts exactly those bytes and nothing else. An event's hash
// is SHA-256 over its payload, the bytes stored in the stream ([Sum]);
// [Seal] encodes and hashes, and [Sealed.Header] gives the
// [HeaderKind], [HeaderSeq] and [HeaderHash] headers the event is stored
// with, so `nats stream view` is readable without decoding.
//
// # Frames
//
// A group commit stores several consecutive events in one message, a
// frame: [EncodeFrame] writes a msgpack array of their payloads with the
// [FrameKind], [HeaderSeq], [HeaderLastSeq], [HeaderEvents] and
// [HeaderHash] headers, and [Payloads] splits any stored message back
// into event payloads. Every event keeps its own payload and hash, so
// framing changes no hash.
//
// # Verifying
//
// A [Verifier] takes one actor's stored messages ([Record]) in stream
// order (plain events or frames) and reports every [Finding] at its
// event's sequence, inside a frame or not: [Modified],
// [Removed], [Reordered], [Inserted], and [Truncated] against a head the
// caller knows. It links events by hash, not by position, so a message
// deleted and republished with different content shows as modified at
// its sequence, not as a cascade.
package chain
