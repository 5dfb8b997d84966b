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
// endpoints, starts heartbeating into the nodes bucket and then resumes
// the actors nobody holds: those whose lease is missing or held by a node
// without a heartbeat, and those an earlier process under its name held.
// Every node watches the heartbeats and takes the actors of a node whose
// key is deleted (graceful shutdown) or expires (crash), and sweeps for
// orphaned actors once per node TTL. [Node.Close] shuts down gracefully:
// no new messages, current handlers finish, every actor is snapshotted in
// its chain and its lease given back, so the survivors (or a later
// restart) take the actors over. The connection and the runtime stay
// open: they are the caller's.
//
// A long handler holds up nothing but its own actor: the heartbeat and
// the lease renewals never wait on an actor or on adoption, the list and
// info endpoints read what they report without the actor's turn, and
// every control request runs on its own goroutine.
//
// # Ownership
//
// An actor is owned through a lease in the leases bucket naming the node
// and an incarnation token that is new with every hosting, so two
// processes under one name never hold the same lease. The holder renews
// it after each heartbeat and serves the actor only while the lease is
// valid by its own monotonic clock; a renewal refused on the revision
// means the actor was taken, and the node lets it go at once, writing
// nothing. Taking a lease, a node appends an owner event to the actor's
// chain, fenced on the head it read: from then on the old owner's appends
// fail with [github.com/theater-go/theater/transport/chainstore.ErrFenced].
//
// # The chain and the gate
//
// Every handler call is one handled event (a failed one, handled and
// failure) in the actor's chain (docs/CHAIN.md), appended through the
// actor's chainstore appender: the next message is handled while the
// event is on its way. The reply of a request and the sends the guest
// made (held by a [github.com/theater-go/theater/actor/replay.Recorder],
// with its clock reads, random bytes and request replies as inputs) are
// released only once the event is durable, in chain order, the sends
// under ids derived from the chain. A failed append releases nothing and
// stops the actor on this node. A snapshot of the state is appended every
// [Config.SnapshotEvery] handled events and at stop; a node resuming an
// actor replays the events after the last snapshot to reach its state.
//
// # Registry and modules
//
// Each actor has a [wire.Entry] in the actors bucket, keyed by id: its
// node, its manifest with module and WIT named by SHA-256 digest and its
// status, written at spawn, takeover and stop. Modules and WIT files live
// in the object store under those digests, so any node can start any
// actor. An actor's spec comes from
// [github.com/theater-go/theater/actor.SpecFromManifest], exactly as a
// program embedding the runtime gets it.
//
// # Messages
//
// Requests are core NATS request/reply on the actor's req subject, to
// which only the hosting node subscribes. Sends are JetStream publishes to
// the actor's send subject, stored by the mailbox stream; the hosting node
// reads them by sequence with direct batch gets after the last one its
// chain records, woken by a core subscription on the send subject, so no
// consumer exists on the server for any actor. The chain's record of each
// handled send's mailbox sequence makes sends exactly-once across crashes.
// Payloads are msgpack of the actor's WIT types, or JSON when the
// Content-Type header says so, read by the HTTP rules
// ([wire.MsgEncoding]); bad input (an unknown content type and a broken
// header block included) is answered with a [wire.ErrorHeader] code and
// a message, and never reaches the actor. The
// node's [Router] carries guests' requests over the same subjects, so
// actors reach each other by id on any node. A request whose
// [wire.DeadlineHeader] has passed when its turn comes is not run, and
// one whose [wire.TypesHeader] names other types than the actor's is
// refused with [wire.ErrTypesChanged].
//
// # Supervision
//
// Every actor runs under a supervisor of package
// [github.com/theater-go/theater/supervisor], below the node's root: one
// of its own, built from its manifest's [supervision] (restart type,
// start_from, intensity and period, backoff), or the tree it was started
// in ([Node.SpawnTree]: supervisors and actors nested as a TOML tree
// declares, strategies across the tree's actors). A failure other than a
// guest error ends the actor's instance; the actor stays hosted, its
// sends wait in its mailbox and its requests wait (until their deadline)
// while its supervisor restarts it, after its backoff, from the last
// state its chain records or from the spawn's initial state, recorded as
// a lifecycle restart event and a restart event. A temporary actor that
// fails, or one past its supervisor's intensity, is given up on: its
// chain ends with a failed stop, its registry status is
// [wire.StatusFailed], its mailbox stays as it is, messages get
// [wire.ErrGaveUp], and no node takes it over. [Node.Tree] lists the live
// tree. docs/SUPERVISION.md has the guarantees and their tests.
//
// A Wasm agent granted the supervisor capability spawns children that are
// node actors like any other, placed by the shared spawn endpoint, their
// parent named in their registry entry ([wire.Entry].Parent). Their
// failures and exits reach the parent as supervisor.child-event sends in
// its durable mailbox, under ids derived from the child's chain, wherever
// either runs; the capability's outcomes are inputs of the parent's
// chain, so a replay answers them.
//
// # Spawning and removing
//
// [Node.Spawn] is all or nothing under a time limit of its own
// (Config.SpawnTimeout): the registry entry is written once the actor is
// hosted, so a caller that gave up reads the outcome from the registry
// and never finds an actor listed that no node hosts. A new actor's
// mailbox starts after everything stored before its spawn.
// [Node.Remove] deletes a stopped actor's entry, unhandled sends and
// chain.
//
// # Limits and metrics
//
// Each actor's handler calls have a budget of log lines, sends and
// requests (package actor's Budget, set in the manifest's [limits]);
// docs/NATS.md lists every limit and what a sender gets when it is hit.
// With Config.Metrics the node registers Prometheus metrics labelled by
// actor type (the manifest's name), never by id (metrics.go).
//
// # Stopping
//
// [Node.Stop] answers requests with [wire.ErrStopped] ("is stopping")
// from the moment it begins, handles the sends stored before it, waits
// for the current handler, runs the actor's on-stop handler and records
// the stop. When its context ends first, the actor is killed and the stop
// recorded all the same, so the id is free to spawn again. Stops of one
// actor share one wait and one stopped event; list, info and state never
// wait on an actor.
//
// # Errors
//
// Errors wrap the sentinels of package wire (their text starts with
// "theater: "), or [ErrConfig] for a [Config] a node cannot start with;
// an error answered by a remote node is a [*wire.RemoteError], which
// unwraps to the sentinel of its code, so errors.Is works the same on
// both sides.
package node
