// Package chainstore keeps actor chains (package [chain]) in JetStream:
// one subject per actor, <prefix>.chain.<id>, in the layout's chain
// stream. It appends with a fence and group commit, reads events back in
// order, finds a chain's head, and verifies a stored chain.
//
// # Appending
//
// [Store.Appender] starts the one writer of an actor's chain after a
// known [Head]. [Appender.Append] seals the next event at once (its
// sequence and hash are final, so ids can be derived from them) and
// queues it; the returned [Pending] completes when the record is durable.
// That is the gate on effects: a node releases a handler's reply and
// sends only then, while the actor goes on to its next message. At most
// one append per actor is in flight, and records that arrive meanwhile
// are taken together when it is done. [Appender.AppendAll] appends events
// that must land together in one atomic batch.
//
// Every append carries Nats-Expected-Last-Subject-Sequence, the stream
// sequence of the chain's last event, so the chain never forks: when
// another writer appended first, the append fails with [ErrFenced] and
// the appender stops, acknowledging nothing after it. Any failure stops
// the appender; the caller re-reads the head before writing again.
//
// # Batches
//
// Queued records go as one atomic batch (ADR-50, via
// [github.com/synadia-io/orbit.go/jetstreamext]) when there are enough of
// them ([WithAtomicMin]); fewer go one after another, each fenced on the
// one before, because staging an atomic batch costs a single-replica
// file stream about 2 ms. A Store bounds the atomic batches its appenders
// have in flight ([WithMaxInflight]; the server allows 50 per stream).
//
// # Reading and verifying
//
// [Store.Records] and [Store.Read] read with direct batch gets, without a
// consumer, so reading a chain costs the server no state. Read checks
// every link and stops with [ErrBroken] at the first that does not hold;
// [Store.ReadFrom] reads the events after a known head (a snapshot's),
// starting at its stream sequence;
// [Store.Verify] reads everything and reports every finding
// ([chain.Verifier]). [Store.Head] is one direct get of the subject's
// last message.
//
// # The stream
//
// The stream is transport's ChainStreamConfig (which allows atomic
// batch publish); docs/CHAIN.md lists what the store relies on.
package chainstore
