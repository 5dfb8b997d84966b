// Package supervisor is Theater's OTP-style supervision: a [Supervisor]
// starts its children in order, watches them, restarts them as its
// [Spec] says, and stops them in reverse order. It knows its children
// only through the [Child] interface, so it imports nothing of NATS,
// wazero or the rest of Theater. The node (package transport/node) runs
// every actor it hosts as a Child under supervisors of this package:
// docs/SUPERVISION.md.
//
// A [Spec] and its [ChildSpec]s are plain structs with TOML and JSON tags,
// loaded from manifests; [Validate] (called by [New]) checks them and
// fills in the defaults. Only [ChildSpec.Child], the handle that is
// started and stopped, is supplied in Go.
//
// # Children
//
// [Child.Start] starts a child and gives it a function to call if it
// later ends on its own: with nil for a normal ending, with the error
// (an actor's failure) otherwise. [Child.Stop] stops it; its context
// carries the child's shutdown timeout ([ChildSpec.Shutdown]), and when
// that context ends the child must stop forcibly and return. Go cannot
// kill a goroutine, so this is the OTP "kill": an actor closes its Wasm
// instance. A Stop that ended that way is recorded as [Killed] and the
// supervisor moves on.
//
// All decisions of a supervisor are taken by one goroutine, in the order
// requests and exits arrive, like an OTP process. Exit reports carry the
// incarnation they belong to, so a late report from a child the
// supervisor has already stopped or restarted is ignored.
//
// # Strategies
//
// When a child must be restarted, the [Strategy] says which others go
// with it:
//
//   - [OneForOne] restarts only that child.
//   - [OneForAll] stops all the other children in reverse order, then
//     starts all of them in order.
//   - [RestForOne] stops the children started after it in reverse order,
//     then starts it and them in order.
//
// A restart starts each child from its [ChildSpec.StartFrom] (the last
// state by default, as in the manifest). If a restart's Start fails, it
// is retried through the supervisor's mailbox, and each try counts as a
// restart, so a child that cannot start leads to escalation. Children
// that are not running when a sibling's OneForAll or RestForOne restart
// covers them (a transient child that ended normally, a terminated
// child) are started with the others, as in OTP.
//
// # Backoff
//
// OTP restarts at once. A [Spec.Backoff] delays the restarts a strategy
// decides: Initial for the first restart of a child within Period, then
// Multiplier times longer per further restart, up to Max. The restart
// counts towards the intensity when it is decided, so a child past the
// intensity escalates without waiting; the delay resets once the child
// goes a whole Period without a restart. The wait is a [Clock] timer that
// posts to the mailbox, so the supervisor keeps answering, and a
// [RestartDelayed] event records the decision and its delay. See
// [Backoff] for the details.
//
// # Restart types
//
// A child's [Restart] type says which endings restart it: [Permanent]
// every ending, [Transient] only a failure (a non-nil error), [Temporary]
// none. A temporary child is forgotten once it ends or is stopped; a
// transient child that ended normally keeps its place, not running.
//
// # Intensity
//
// More than [Spec.Intensity] restarts within [Spec.Period] (a restart
// counts while it is less than Period old, by the [Clock] given with
// [WithClock]) make the supervisor stop all its children in reverse order
// and fail with an error wrapping [ErrIntensity]: it escalates. The
// default is OTP's: one restart in five seconds. Restarts by
// [Supervisor.RestartChild] do not count.
//
// # Events
//
// Every lifecycle transition is an [Event] given to the [EventSink] of
// [WithEvents]: a child [Started], [Restarted], [StartFailed], [Exited]
// normally, [Failed] with a reason, [RestartDelayed], [Stopped], [Killed] or [Deleted], and
// the supervisor [Escalated] or [Shutdown]. Events carry the [Clock]'s
// time and the child's restart count. The node records what they mean
// for an actor in the actor's own chain (a restart, a stop by its
// supervisor, a give-up) and publishes them as lifecycle events.
//
// # Trees
//
// A *Supervisor is a [Child]: give it as the [ChildSpec.Child] of another
// supervisor. When it escalates, it calls the exit function its parent
// gave to [Supervisor.Start]; the parent sees a failed child and applies
// its own strategy, restart type and intensity, so failures climb the
// tree until a supervisor can handle them (or the root fails). A
// restarted supervisor begins again from its spec; children added with
// [Supervisor.StartChild] are gone. Started from [StartInitial] it starts
// every child afresh; from [StartLast], each from its own StartFrom.
//
// # Dynamic children
//
// [Supervisor.StartChild], [Supervisor.TerminateChild],
// [Supervisor.RestartChild], [Supervisor.DeleteChild] and
// [Supervisor.WhichChildren] change and inspect a running supervisor, as
// OTP's functions of the same names do; the supervisor capability gives
// them to Wasm agents (actor.LocalSupervision runs each agent's children
// under a Supervisor of its own).
package supervisor
