package supervisor

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrInvalidSpec is wrapped by every error [Validate], [New] and
// [Supervisor.StartChild] return about a spec's content.
var ErrInvalidSpec = errors.New("supervisor: invalid spec")

// Strategy says which children a supervisor restarts when one of them
// must be restarted.
type Strategy string

// The strategies, named as in OTP.
const (
	// OneForOne restarts only the child that ended.
	OneForOne Strategy = "one_for_one"
	// OneForAll stops every other child (in reverse order) and restarts
	// all of them (in order).
	OneForAll Strategy = "one_for_all"
	// RestForOne stops the children started after the one that ended
	// (in reverse order) and restarts it and them (in order).
	RestForOne Strategy = "rest_for_one"
)

// Restart is a child's restart type: which of its endings restart it.
// The actor manifest's [supervision] table uses this type (package
// actor/manifest imports this one), as it does [StartFrom] and
// [Duration].
type Restart string

// The restart types.
const (
	// Permanent children are restarted whenever they end.
	Permanent Restart = "permanent"
	// Transient children are restarted only when they fail (end with a
	// non-nil error).
	Transient Restart = "transient"
	// Temporary children are never restarted; the supervisor forgets
	// them once they end or are stopped.
	Temporary Restart = "temporary"
)

// StartFrom is the state a child starts from.
type StartFrom string

// The states a child can start from.
const (
	// StartInitial starts the child afresh (an actor runs init again).
	StartInitial StartFrom = "initial"
	// StartLast continues from the child's last state (an actor resumes
	// from the last state in its chain).
	StartLast StartFrom = "last"
)

// Defaults applied by [Validate] to zero fields.
const (
	DefaultShutdown  = 5 * time.Second // OTP's default for workers
	DefaultIntensity = 1               // OTP's default
	DefaultPeriod    = 5 * time.Second // OTP's default
)

// DefaultBackoffMax and DefaultBackoffMultiplier are applied by
// [Validate] to a [Backoff]'s zero Max and Multiplier.
const (
	DefaultBackoffMax        = 30 * time.Second
	DefaultBackoffMultiplier = 2.0
)

// Backoff delays a child's restarts: the first restart within the
// supervisor's Period waits Initial, each further one Multiplier times
// longer, up to Max. OTP has no backoff; its semantics here:
//
//   - A restart is decided, and counts towards the intensity, when the
//     child ends, not when the delay is over; a failure that exceeds the
//     intensity escalates at once, without waiting.
//   - The exponent is the number of the child's own restarts less than
//     Period old, so the delay resets once the child has gone a whole
//     Period without a restart (the window intensity uses).
//   - The supervisor's goroutine never waits: the restart is a timer of
//     the [Clock] that posts to the supervisor's mailbox. Meanwhile the
//     child is not running; requests and other exits are handled, and
//     [Supervisor.TerminateChild] or [Supervisor.Stop] cancel the wait.
//   - With one_for_all and rest_for_one the group is stopped at once and
//     started together after the delay of the child that ended.
//   - [Supervisor.RestartChild] is an operator's decision and is never
//     delayed, as it never counts towards the intensity.
type Backoff struct {
	// Initial is the delay before the first restart; it must be positive.
	Initial Duration `toml:"initial" json:"initial"`
	// Max caps the delay; zero means DefaultBackoffMax (or Initial, if
	// that is larger). It may not be less than Initial.
	Max Duration `toml:"max" json:"max,omitempty"`
	// Multiplier grows the delay per recent restart; zero means
	// DefaultBackoffMultiplier. It must be at least 1.
	Multiplier float64 `toml:"multiplier" json:"multiplier,omitempty"`
}

func (b Backoff) validate() (Backoff, error) {
	if b.Initial <= 0 {
		return Backoff{}, fmt.Errorf("initial: %v is not positive", time.Duration(b.Initial))
	}
	if b.Max == 0 {
		b.Max = Duration(max(DefaultBackoffMax, time.Duration(b.Initial)))
	}
	if b.Max < b.Initial {
		return Backoff{}, fmt.Errorf("max: %v is less than initial %v", time.Duration(b.Max), time.Duration(b.Initial))
	}
	if b.Multiplier == 0 {
		b.Multiplier = DefaultBackoffMultiplier
	}
	if !(b.Multiplier >= 1) || math.IsInf(b.Multiplier, 0) {
		return Backoff{}, fmt.Errorf("multiplier: %v is not a finite number of at least 1", b.Multiplier)
	}
	return b, nil
}

// Delay is the wait before a restart that follows n recent restarts of
// the same child: Initial × Multiplier^n, at most Max. It expects a
// validated Backoff.
func (b Backoff) Delay(n int) time.Duration {
	d := float64(b.Initial) * math.Pow(b.Multiplier, float64(n))
	if d >= float64(b.Max) || math.IsNaN(d) {
		return time.Duration(b.Max)
	}
	return time.Duration(d)
}

// Duration is a time.Duration written in TOML and JSON as a Go duration
// string ("5s", "1m30s"), the way manifests write durations.
type Duration time.Duration

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(string(text))
	if err != nil {
		return fmt.Errorf("supervisor: invalid duration %q", text)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration as [time.Duration.String] does.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(time.Duration(d).String()), nil
}

// ChildSpec describes one child of a supervisor. Everything but Child
// comes from a manifest; Child is the handle the node (or a test)
// supplies in Go.
type ChildSpec struct {
	// ID names the child among its siblings; events and the dynamic
	// operations use it.
	ID string `toml:"id" json:"id"`
	// Restart is the child's restart type; empty means Permanent.
	Restart Restart `toml:"restart" json:"restart,omitempty"`
	// Shutdown is how long the supervisor waits for the child's Stop
	// before the Stop's context is cancelled, which tells the child to
	// stop forcibly; zero means DefaultShutdown.
	Shutdown Duration `toml:"shutdown" json:"shutdown,omitempty"`
	// StartFrom is the state a restart starts from; empty means
	// StartLast, as in the manifest.
	StartFrom StartFrom `toml:"start_from" json:"start_from,omitempty"`
	// Child is started, stopped and restarted by the supervisor. The
	// same handle is started again on every restart.
	Child Child `toml:"-" json:"-"`
}

// Spec describes a supervisor: its strategy, its restart intensity and
// its children in start order.
type Spec struct {
	// Name names the supervisor in its events and errors; a supervisor
	// nested in another usually takes its child id.
	Name string `toml:"name" json:"name,omitempty"`
	// Strategy is the restart strategy; empty means OneForOne.
	Strategy Strategy `toml:"strategy" json:"strategy,omitempty"`
	// More than Intensity restarts within Period make the supervisor stop
	// its children and fail. Both zero mean DefaultIntensity within
	// DefaultPeriod; otherwise Period must be positive, and Intensity 0
	// means no restart is allowed.
	Intensity int      `toml:"intensity" json:"intensity,omitempty"`
	Period    Duration `toml:"period" json:"period,omitempty"`
	// Backoff, when set, delays the restarts the strategy decides; see
	// [Backoff]. Nil restarts at once, as OTP does.
	Backoff *Backoff `toml:"backoff" json:"backoff,omitempty"`
	// Children are started in this order and stopped in reverse.
	Children []ChildSpec `toml:"children" json:"children,omitempty"`
}

// Validate checks a spec and returns a copy with the defaults filled in.
// The Children slice of the result is new, so a supervisor's own changes
// (dynamic children) never reach the caller's spec. Every error wraps
// [ErrInvalidSpec] and names the offending field.
func Validate(spec Spec) (Spec, error) {
	switch spec.Strategy {
	case "":
		spec.Strategy = OneForOne
	case OneForOne, OneForAll, RestForOne:
	default:
		return Spec{}, fmt.Errorf("%w: strategy: unknown strategy %q (want one_for_one, one_for_all or rest_for_one)", ErrInvalidSpec, spec.Strategy)
	}
	switch {
	case spec.Intensity == 0 && spec.Period == 0:
		spec.Intensity, spec.Period = DefaultIntensity, Duration(DefaultPeriod)
	case spec.Intensity < 0:
		return Spec{}, fmt.Errorf("%w: intensity: %d is negative", ErrInvalidSpec, spec.Intensity)
	case spec.Period <= 0:
		return Spec{}, fmt.Errorf("%w: period: %v is not positive", ErrInvalidSpec, time.Duration(spec.Period))
	}
	if spec.Backoff != nil {
		b, err := spec.Backoff.validate()
		if err != nil {
			return Spec{}, fmt.Errorf("%w: backoff: %w", ErrInvalidSpec, err)
		}
		spec.Backoff = &b
	}
	children := make([]ChildSpec, len(spec.Children))
	seen := make(map[string]bool, len(spec.Children))
	for i, c := range spec.Children {
		c, err := validateChild(c)
		if err != nil {
			return Spec{}, fmt.Errorf("%w: children[%d]: %w", ErrInvalidSpec, i, err)
		}
		if seen[c.ID] {
			return Spec{}, fmt.Errorf("%w: children[%d]: duplicate id %q", ErrInvalidSpec, i, c.ID)
		}
		seen[c.ID] = true
		children[i] = c
	}
	spec.Children = children
	return spec, nil
}

// validateChild checks one child spec and fills in its defaults. Its
// errors do not wrap ErrInvalidSpec: the callers add the context.
func validateChild(c ChildSpec) (ChildSpec, error) {
	if c.ID == "" {
		return ChildSpec{}, errors.New("empty id")
	}
	switch c.Restart {
	case "":
		c.Restart = Permanent
	case Permanent, Transient, Temporary:
	default:
		return ChildSpec{}, fmt.Errorf("child %q: restart: unknown restart type %q (want permanent, transient or temporary)", c.ID, c.Restart)
	}
	switch c.StartFrom {
	case "":
		c.StartFrom = StartLast
	case StartInitial, StartLast:
	default:
		return ChildSpec{}, fmt.Errorf("child %q: start_from: unknown state %q (want initial or last)", c.ID, c.StartFrom)
	}
	switch {
	case c.Shutdown == 0:
		c.Shutdown = Duration(DefaultShutdown)
	case c.Shutdown < 0:
		return ChildSpec{}, fmt.Errorf("child %q: shutdown: %v is negative", c.ID, time.Duration(c.Shutdown))
	}
	if c.Child == nil {
		return ChildSpec{}, fmt.Errorf("child %q: no Child", c.ID)
	}
	return c, nil
}
