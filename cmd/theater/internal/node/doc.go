// Package node runs Theater on NATS: a Node hosts actors (package actor)
// on a NATS connection (package transport), and a Client spawns, stops,
// lists and messages them from anywhere on the same servers. The theater
// CLI is built on both; docs/NATS.md describes every subject, stream,
// bucket and endpoint they use.
//
// # Nodes
//
// Start ensures the layout (streams, buckets, object store), starts an
// actor.Runtime, registers a micro service named after the prefix with
// spawn, stop, state, list and info endpoints, heartbeats into the nodes
// bucket and resumes the actors the registry says it owns, so a node
// restarted under its name after a crash carries on where it stopped, as
// far as no other node claimed its actors meanwhile: every node watches
// the heartbeats and claims the actors of a node whose key is deleted
// (graceful shutdown) or expires (crash). Node.Close shuts down
// gracefully: no new messages, current handlers finish, every actor's
// state and mailbox position are recorded; the survivors then take the
// actors over, and only when none is alive does a restart under the same
// name resume them. The heartbeat never waits on an actor, so a long
// handler does not make its node look dead.
//
// # Registry and modules
//
// Each actor has an Entry in the actors bucket, keyed by id: its node, its
// manifest with module and WIT named by SHA-256 digest, its status and its
// last recorded state and mailbox sequence. Modules and WIT files live in
// the object store under those digests, so any node can start any actor.
// Entries are written with compare-and-set on their revision: a node that
// lost an actor cannot overwrite it.
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
// bucket: a larger one is a fault of the handler that returned it. Payloads are msgpack of the actor's WIT types, or JSON when the
// Content-Type header says so; bad input is answered with an ErrorHeader
// code and a message, and never reaches the actor. The node's Router
// carries guests' own sends and requests over the same subjects, so
// actors reach each other by id on any node.
//
// # Errors
//
// Every error starts with "node: " and wraps one of the Err sentinels; an
// error answered by a remote node is a *RemoteError, which unwraps to the
// sentinel of its code, so errors.Is works the same on both sides.
package node
