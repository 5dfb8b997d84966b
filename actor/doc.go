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
// error, the instance is discarded, and the spec's [FailurePolicy] says
// what follows: by default ([EndOnFailure]) the actor ends, for its owner
// (a supervisor) to decide; with [RecreateOnFailure] the next message
// recreates the instance from the last good state. A guest error is an
// answer, not a crash: the instance and the actor live on, as an Erlang
// process that returns {error, Reason} does. Nothing a guest does panics
// the host.
//
// An instance that sits idle for the spec's IdleTimeout, or that is the
// least recently used beyond [WithMaxLiveInstances], is closed; the actor
// keeps only its state and about a kilobyte of bookkeeping, and the next
// message recreates the instance.
//
// # Lifecycle
//
// An actor is running from the moment [Runtime.Spawn] returns it (live or
// hibernated, as above) until it ends, once, in one of three ways, each
// an [ExitReason]:
//
//   - [Stopped]: [Actor.Stop] refuses new messages, handles the accepted
//     ones, runs theater_on_stop and closes the instance.
//   - [Killed]: [Actor.Kill], a Stop whose context ended, or
//     [Runtime.Close]: theater_on_stop does not run, queued messages are
//     refused, and the call in flight is aborted: the guest stops at its
//     next metering point and any host call waiting on the call's context
//     returns.
//   - [Failed]: a failure under [EndOnFailure]; the messages queued
//     behind it are refused.
//
// While a Stop is under way the actor is stopping: it refuses new
// messages but still handles the accepted ones. Once it has ended, its
// instance is closed, its id is free for a new Spawn, every message gets
// an error wrapping [ErrStopped] (and [ErrKilled] after a kill) that names
// it, and [Actor.State] keeps the state it ended with. It has fully ended
// when, besides, no goroutine runs any of its handlers: then
// [Actor.Done] is closed, [Actor.Exit] returns the [Exit], and the spec's
// OnExit is told, once. Stop and Kill return when the actor has fully
// ended.
//
// Which goroutine reports what: a handler runs on the goroutine that
// drains the mailbox, or on the caller's for a request that finds the
// actor idle; its requester gets its failure there. OnFailure (every
// failure, the ending one included) and OnExit (the ending) run on a
// goroutine of the actor's own that exists only while reports are
// pending, one report at a time, in order: never on a goroutine that
// handles messages, so a callback may call Stop, Kill, Request or Spawn,
// and [Exit.Err] is what a supervisor's exit function wants (nil for a
// stop). A Spawn that fails (theater_init failed, a kill during it)
// reports nothing: its error is the report.
//
// # Contexts
//
// A context bounds waiting for the actor, never a handler, which has its
// own deadline (Limits.HandlerTimeout): a request or delivered send whose
// context ends before its handler starts (already ended included) is not
// run and gets the context's error; one whose handler has started gets
// its outcome.
//
// # Manifests
//
// [SpecFromManifest] builds a spec from a [manifest.Manifest] exactly
// as a node does (limits, log level, allow-list, capabilities, WIT types,
// initial state); [LoadSpec] does it from a manifest file, reading the
// module and the WIT it names.
//
// # Capabilities
//
// Each interface of theater.wit is one host module, named as guests
// import it ("theater:actor/message@0.1.0"), shared by all actors of the
// runtime; a host function finds its actor through the call's context.
// WASI is always present and deterministic: virtual clocks and a random
// stream seeded by the actor id, no files, no environment. Capabilities
// that reach the world do so through small interfaces in the [Spec]:
// [Router] (message), [Supervision] (supervisor) and [HTTPClient]
// (http-client, whose outbound policy comes from the manifest's
// [capabilities.http]: allowed hosts, ports, schemes and methods, sizes,
// a deadline, redirects re-checked, and no loopback or private address
// unless granted, checked at dial time), [Store] (store, bounded by a
// [StoreGrant]: namespaces, key and value sizes, calls per handler;
// [NewMemoryStore] for embedded use), [SecretSource] (config's secrets;
// its values come from the manifest), [Timers] (timer) and [Channels]
// (channel: publications to the topics [Spec.AllowPublish] allows,
// counted as sends; subscriptions are the manifest's and the owner's).
// log.write-fields logs structured fields as slog attributes, under the
// log budget.
//
// # Metering: deadlines, fuel and kills
//
// Every module is checked against bounds (size, functions, body size,
// nesting, memory, data) before wazero compiles it, then rewritten by a
// metering pass: a fuel counter in a global, charged at function entries
// and loop headers by the static cost of the code entered, with a host
// function ("theater:meter", reserved) called when it runs out. That
// function refills the counter in slices while the call's deadline has not
// passed and it was not killed, and otherwise stops the guest; there is no
// goroutine and no timer per call. An optional per-handler fuel limit
// (Limits.Fuel, the manifest's limits.fuel) makes "out of fuel" a failure
// of its own ([OutOfFuel]) that happens at the same instruction on every
// run, node and replay; Failure.Fuel says how much was used. Every call
// of a Theater import costs [HostCallFuel] more, and [Actor.LastFuel]
// reports the fuel of the last successful call.
//
// # Pre-initialised images
//
// When a module is compiled, its start function and _initialize run once,
// and every later instance (spawn, wake, recreation) starts from a snapshot
// of the memory and globals they left, so that it costs a copy rather than
// a start-up (docs/ABI.md, "WASI"). A module whose initialisation calls a
// Theater import, writes to stdout or stderr, or changes a table runs it
// in every instance instead; [Runtime.CompileStats] counts both, and
// [WithPreinit] turns images off. With [WithCacheDir] the images, like the
// machine code, are kept on disk, checked before use.
//
// # Memory limit
//
// wazero's page limit is runtime-wide, so the per-actor limit is enforced
// by a memory allocator given to each instantiation: a memory.grow past
// Limits.MemoryPages fails in the guest and the call fails as
// [MemoryLimit]. A module whose memory starts above the limit is refused
// before anything is allocated; limits are clamped to [MaxMemoryPages],
// since wazero's memory size wraps at 4 GiB.
package actor
