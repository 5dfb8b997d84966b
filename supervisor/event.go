package supervisor

import "time"

// EventKind says which lifecycle transition an [Event] records.
type EventKind string

// The event kinds. Child events carry the child's id; supervisor events
// (Escalated, Shutdown) have an empty Child.
const (
	// Started: a child was started by the supervisor's Start or by
	// StartChild.
	Started EventKind = "started"
	// Restarted: a child was started again, by its strategy or by
	// RestartChild.
	Restarted EventKind = "restarted"
	// RestartDelayed: the strategy decided to restart a child (and the
	// children its strategy restarts with it) after the Delay of the
	// supervisor's [Backoff]; Restarted follows when the delay is over.
	RestartDelayed EventKind = "restart_delayed"
	// StartFailed: a child's Start returned an error (the Reason).
	StartFailed EventKind = "start_failed"
	// Exited: a child ended on its own with a nil error.
	Exited EventKind = "exited"
	// Failed: a child ended on its own with an error (the Reason).
	Failed EventKind = "failed"
	// Stopped: the supervisor stopped a child and its Stop returned;
	// Reason is Stop's error, if any.
	Stopped EventKind = "stopped"
	// Killed: a child's Stop did not return nil before its shutdown
	// timeout, so its context was cancelled to force it down; Reason is
	// Stop's error.
	Killed EventKind = "killed"
	// Deleted: DeleteChild removed a child's spec.
	Deleted EventKind = "deleted"
	// Escalated: more restarts than the intensity allows; the
	// supervisor stopped its children and failed. Reason is the
	// supervisor's exit error.
	Escalated EventKind = "escalated"
	// Shutdown: the supervisor was stopped and has stopped its children.
	Shutdown EventKind = "shutdown"
)

// Event is one lifecycle transition of a supervisor or of one of its
// children. The node appends them to the supervising actor's chain, so
// the struct holds only plain values.
type Event struct {
	// Time comes from the supervisor's [Clock].
	Time time.Time `json:"time"`
	// Supervisor is the supervisor's Spec.Name.
	Supervisor string    `json:"supervisor,omitempty"`
	Child      string    `json:"child,omitempty"`
	Kind       EventKind `json:"kind"`
	// Reason is the error text of a failure, a failed start or stop, or
	// an escalation; empty otherwise.
	Reason string `json:"reason,omitempty"`
	// Restarts is how many times the supervisor has restarted the child
	// since the supervisor started (this event's restart included).
	Restarts int `json:"restarts,omitempty"`
	// Delay is the wait of a RestartDelayed event.
	Delay time.Duration `json:"delay,omitempty"`
}

// EventSink receives a supervisor's events, one at a time and in order.
// Record runs on the goroutine taking the supervisor's decisions, so it
// must not wait on that supervisor (calling its methods would deadlock)
// and should be quick. A sink shared by the supervisors of a tree is
// called from their goroutines concurrently.
type EventSink interface {
	Record(Event)
}

// EventSinkFunc adapts a function to [EventSink].
type EventSinkFunc func(Event)

// Record calls f(e).
func (f EventSinkFunc) Record(e Event) { f(e) }

// Clock tells a supervisor the time, for event times and restart
// intensity, and runs its backoff timers. Tests inject one so that
// intensity and backoff do not depend on how fast the machine is.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f on a goroutine of its own once d has passed, as
	// [time.AfterFunc] does, unless stop is called first; stop reports
	// whether it prevented the call.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}
