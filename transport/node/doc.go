// Package node runs Theater on NATS: a [Node] hosts actors of the
// caller's [github.com/theater-go/theater/actor.Runtime] on the caller's
// NATS connection, and answers for them to clients anywhere on the same
// servers ([github.com/theater-go/theater/transport/client]). The theater
// CLI is one user of it; docs/NATS.md describes every subject, stream,
// bucket and endpoint it uses.
//
// # Nodes
//
// [Start] takes a [Config] with the connection and the runtime. It
// ensures the layout (streams, buckets, object store), registers a micro
// service named after the prefix with spawn, stop, state, list and info
// endpoints, heartbeats into the nodes bucket and resumes the actors the
// registry says it owns, so a node restarted under its name after a
// crash carries on where it stopped, as far as no other node claimed its
// actors meanwhile: every node watches the heartbeats and claims the
// actors of a node whose key is deleted (graceful shutdown) or expires
// (crash). [Node.Close] shuts down gracefully: no new messages, current
// handlers finish, every actor's state and mailbox position are recorded;
// the survivors then take the actors over, and only when none is alive
// does a restart under the same name resume them. The connection and the
// runtime stay open: they are the caller's.
//
// A long handler holds up nothing but its own actor: the heartbeat never
// waits on an actor, the list and info endpoints read what they report
// without the actor's turn, and every control request runs on its own
// goroutine, so a stop that waits for a busy actor's handler does not
// delay the node's other stops, lists and spawns.
//
// # Registry and modules
//
// Each actor has a [wire.Entry] in the actors bucket, keyed by id: its
// node, its manifest with module and WIT named by SHA-256 digest, its
// status and its last recorded state and mailbox sequence. Modules and
// WIT files live in the object store under those digests, so any node can
// start any actor. Entries are written with compare-and-set on their
// revision: a node that lost an actor cannot overwrite it. An actor's
// spec comes from [github.com/theater-go/theater/actor.SpecFromManifest],
// exactly as a program embedding the runtime gets it.
//
// # Messages
//
// Requests are core NATS request/reply on the actor's req subject, to
// which only the hosting node subscribes; the reply is published after
// the handler finished. Sends are JetStream publishes to the actor's send
// subject, stored by the mailbox stream; the hosting node reads them with
// one ordered consumer per actor, starting after the recorded sequence,
// and records each handled send's sequence with the state it left before
// handing over the next one (retrying that write until it lands, the
// actor is fenced or the node shuts down), which makes them exactly-once
// across crashes. A state is bounded so that its entry fits the actors
// bucket: a larger one is a fault of the handler that returned it.
// Payloads are msgpack of the actor's WIT types, or JSON when the
// Content-Type header says so; bad input is answered with a
// [wire.ErrorHeader] code and a message, and never reaches the actor. The
// node's [Router] carries guests' own sends and requests over the same
// subjects, so actors reach each other by id on any node.
//
// # Errors
//
// Errors wrap the sentinels of package wire (their text starts with
// "theater: "), or [ErrConfig] for a [Config] a node cannot start with;
// an error answered by a remote node is a [*wire.RemoteError], which
// unwraps to the sentinel of its code, so errors.Is works the same on
// both sides.
package node
