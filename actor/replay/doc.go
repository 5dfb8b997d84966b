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
// [Recorder.HTTP], [Recorder.Store], [Recorder.Secrets],
// [Recorder.Timers] and [Recorder.Channels] wrap the other capabilities:
// every http response and store result is an input ([CallHTTP],
// [CallStore]), a secret is recorded as its SHA-256 only ([CallSecret]),
// and store writes, timer ops and channel publications are effects held
// like sends ([Recorder.Writes], [Recorder.Apply], [Recorder.Drop],
// [Recorder.TimerOps], [Recorder.ApplyTimers], [Recorder.Publications],
// [Recorder.ApplyPublications]) and recorded as inputs too, so that a
// restore can do them again ([WritesOf], [TimerOpsOf], [PublicationsOf]).
// [Recorder.Supervision] wraps the supervisor capability: its calls go
// out live, like requests, and each outcome is an input
// ([CallSupervisor]), so a replay re-takes a supervisor agent's
// decisions with no child running.
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
// # Instances
//
// A call's fuel and a guest's WASI clocks depend on what its instance ran
// before, so Replay starts a fresh instance exactly where the chain says
// the live run did: at an init, a restart, an owner event and a
// [chain.Wake] lifecycle event, which a recorder writes before a call
// that opened an instance nothing else explains ([actor.Actor.Instances]
// counts them). In a chain written without wake events, a guest that
// keeps something outside its explicit state replays equal only if its
// live instance was never recreated where the chain does not say so,
// and diverges at the first event where it shows otherwise
// (docs/CHAIN.md, "Instances").
package replay
