// Package actor runs Theater actors: WebAssembly guests that implement
// the ABI of docs/ABI.md (see package [abi]), one wazero module instance
// per actor, with explicit state, capabilities, limits and hibernation.
//
// # Runtime and actors
//
// A [Runtime] is one wazero runtime per node. It compiles each module
// once per SHA-256 [Digest] (on disk too, with [WithCacheDir]), checks it
// against the ABI once, and spawns actors from it ([Runtime.Spawn]) as
// described by a [Spec]: id, module, granted capabilities, [Limits],
// initial state, and the [Router], [Clock], [Entropy] and logger that
// serve the capabilities. A module that imports anything its spec does
// not grant is refused at spawn with an error naming the import.
//
// An [Actor] handles one message at a time, in order. [Actor.Send] and
// [Actor.TrySend] put one-way messages in a bounded mailbox (Send waits
// for room until its context is done, TrySend returns [ErrMailboxFull]);
// [Actor.Request] waits for the reply. No goroutine exists for an actor
// whose mailbox is empty: one is started when a message is queued and
// ends when the mailbox is drained, and a Request that finds the actor
// idle runs the handler on the caller's goroutine.
//
// # State, failures and hibernation
//
// Every handler receives the state and returns the new one; the runtime
// keeps the last good state. A trap, the handler deadline, the memory
// limit, proc_exit, a bad pointer or oversize result from the guest, or a
// guest-reported error becomes a [Failure] of a [FailureKind], returned to
// a requester and given to the spec's OnFailure. Except for a guest
// error, the instance is discarded and the next message recreates one
// from the last good state. Nothing a guest does panics the host.
//
// An instance that sits idle for the spec's IdleTimeout, or that is the
// least recently used beyond [WithMaxLiveInstances], is closed; the actor
// keeps only its state and about a kilobyte of bookkeeping, and the next
// message recreates the instance.
//
// # Capabilities
//
// Each interface of theater.wit is one host module, named as guests
// import it ("theater:actor/message@0.1.0"), shared by all actors of the
// runtime; a host function finds its actor through the call's context.
// WASI is always present and deterministic: virtual clocks and a random
// stream seeded by the actor id, no files, no environment.
//
// # Memory limit
//
// wazero's page limit is runtime-wide, so the per-actor limit is enforced
// by a memory allocator given to each instantiation: a memory.grow past
// Limits.MemoryPages fails in the guest and the call fails as
// [MemoryLimit].
package actor
