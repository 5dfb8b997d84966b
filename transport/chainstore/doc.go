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
// that must land together: they are always in one message.
//
// Every append carries Nats-Expected-Last-Subject-Sequence, the stream
// sequence of the chain's last message, so the chain never forks: when
// another writer appended first, the append fails with [ErrFenced] and
// the appender stops, acknowledging nothing after it. Any failure stops
// the appender; the caller re-reads the head before writing again.
//
// # Frames
//
// The records taken together go in one message, a frame
// ([chain.EncodeFrame]: a msgpack array of the events' payloads, each
// event keeping its own hash), one fenced publish however many records it
// holds, up to [WithMaxBatch] records and the stream's max message size;
// more go in several frames, each fenced on the one before. A lone record
// is a plain message. No atomic batch is used: nats-server stages each
// atomic batch of a single-replica file stream in a file store of its
// own (about 2 ms a batch), and a frame needs nothing of the server but
// a publish. Events that must land together and do not fit in one
// message are refused with [ErrTooLarge].
//
// # Reading and verifying
//
// [Store.Records], [Store.Read] and [Store.ReadFrom] read with direct
// batch gets, without a consumer, so reading a chain costs the server no
// state. Read checks every link and stops with [ErrBroken] at the first
// that does not hold; ReadFrom reads only the events after a known head
// (from the message holding it), for a restore; [Store.Verify] reads
// everything and reports every finding ([chain.Verifier]). [Store.Head]
// is one direct get of the subject's last message (its last event, when
// it is a frame).
//
// # The stream
//
// The stream is transport's ChainStreamConfig; docs/CHAIN.md lists what
// the store relies on.
package chainstore
