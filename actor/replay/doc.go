// Package replay records what the host gives an actor's guest and
// re-executes an actor's chain from that record.
//
// # Recording
//
// A [Recorder] wraps the [actor.Clock], [actor.Entropy] and
// [actor.Router] of one actor. During a handler call it records every
// clock read, every random byte and the outcome of every request as a
// [chain.Input], in order, and holds the sends the guest makes instead of
// delivering them; [Recorder.Take] returns both for the handler's
// [chain.Handled] event. The owner (a node) releases the held sends only
// once that event is durable, under ids from [chain.MessageID]. The
// names of the inputs ([CallClock], [CallRandom], [CallRequest]) and
// their Data encodings are defined in docs/CHAIN.md.
//
// [Recorder.HTTP], [Recorder.Store], [Recorder.Secrets] and
// [Recorder.Timers] wrap the other capabilities: every http response and
// store result is an input ([CallHTTP], [CallStore]), a secret is
// recorded as its SHA-256 only ([CallSecret]), and store writes and
// timer ops are effects held like sends ([Recorder.Writes],
// [Recorder.Apply], [Recorder.Drop], [Recorder.TimerOps],
// [Recorder.ApplyTimers]) and recorded as inputs too, so that a restore
// can do them again ([WritesOf], [TimerOpsOf]). [Recorder.Supervision]
// wraps the supervisor capability: its calls go out live, like requests,
// and each outcome is an input ([CallSupervisor]), so a replay re-takes a
// supervisor agent's decisions with no child running.
//
// # Replaying
//
// [Replay] spawns the actor from its chain's spawn event (or a snapshot)
// in a runtime of the caller's and runs every handled event again,
// answering each host call from the event's recorded inputs. After each
// handler it compares the state hash, the reply and the outgoing
// messages with the record; the first difference, or a host call the
// record does not have, or a recorded input the guest did not ask for,
// is the [Divergence] in the [Report], with the event's sequence and the
// host call's index and name.
//
// A chain can hold several spawns: the actor stopped and spawned again
// under the same id, perhaps with another module and manifest.
// [WithSpecFor] gives Replay the spec of each later spawn; without it, a
// later spawn of another module than the spec's is a divergence
// ([DivergedModule]), never a replay with the wrong module.
//
// # What replay cannot see
//
// Replay runs one module instance from spawn (or a restart) to the end.
// Globals a guest keeps outside its explicit state, the WASI clocks and
// random stream included (which restart with every instance), are not in
// the chain; a guest whose behaviour depends on them replays equal only
// if its live instance was never recreated (hibernation, a failure) at a
// point the chain does not record, and diverges at the first event where
// it shows otherwise.
package replay
