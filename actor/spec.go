package actor

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"time"

	"github.com/theater-go/theater/wit"
)

// Digest is the SHA-256 of a module's bytes; compiled modules are cached
// under it.
type Digest [sha256.Size]byte

// Router carries the messages a guest sends with the message capability.
// The node implements it over NATS; [LocalRouter] routes among the actors
// of one [Runtime]. ctx carries the calling handler's deadline.
type Router interface {
	Send(ctx context.Context, from, to string, payload []byte) error
	Request(ctx context.Context, from, to string, payload []byte, timeout time.Duration) ([]byte, error)
}

// Clock serves the clock capability. Its values reach the guest as they
// are, so the node records them for replay.
type Clock interface{ Now() time.Time }

// Entropy serves the random capability; like [Clock], the node records
// what it returns.
type Entropy interface {
	Read(p []byte) (int, error)
}

// Limits bound what one actor may use. A zero field takes the runtime's
// default ([WithDefaultLimits]).
type Limits struct {
	// MemoryPages caps the guest's linear memory, in 64 KiB pages.
	MemoryPages uint32
	// HandlerTimeout bounds one guest call (a handler, _initialize).
	HandlerTimeout time.Duration
	// MailboxLen is how many messages may wait for the actor.
	MailboxLen int
	// MaxMessageSize bounds messages, replies and import arguments, in bytes.
	MaxMessageSize int
	// MaxStateSize bounds the state a handler returns, in bytes.
	MaxStateSize int
	// IdleTimeout is how long a live instance may sit unused before it is
	// closed (hibernation). Negative disables it.
	IdleTimeout time.Duration
	// Fuel, when not zero, bounds the work of one handler call, in the
	// fuel units of the metering pass (about one per Wasm instruction):
	// a call that would exceed it fails as [OutOfFuel], at the same
	// point on every run. Zero means no limit; the deadline still holds.
	Fuel uint64
	// Budget bounds the host calls of one handler call (logs, sends,
	// requests).
	Budget Budget
}

// DefaultLimits are the limits a runtime starts with.
var DefaultLimits = Limits{
	MemoryPages:    1024, // 64 MiB: a Go guest needs a few MiB, a WAT guest one page
	HandlerTimeout: 5 * time.Second,
	MailboxLen:     64,
	MaxMessageSize: 1 << 20,
	MaxStateSize:   16 << 20,
	IdleTimeout:    30 * time.Second,
	Budget:         DefaultBudget,
}

func (l Limits) withDefaults(d Limits) Limits {
	if l.MemoryPages == 0 {
		l.MemoryPages = d.MemoryPages
	}
	if l.HandlerTimeout == 0 {
		l.HandlerTimeout = d.HandlerTimeout
	}
	if l.MailboxLen == 0 {
		l.MailboxLen = d.MailboxLen
	}
	if l.MaxMessageSize == 0 {
		l.MaxMessageSize = d.MaxMessageSize
	}
	if l.MaxStateSize == 0 {
		l.MaxStateSize = d.MaxStateSize
	}
	if l.IdleTimeout == 0 {
		l.IdleTimeout = d.IdleTimeout
	}
	l.Budget = l.Budget.withDefaults(d.Budget)
	return l
}

// Spec describes one actor to [Runtime.Spawn]. [SpecFromManifest] fills
// what a manifest says; the rest is the owner's. Spawn keeps a copy; the slices and functions must not change
// afterwards.
type Spec struct {
	// ID is the actor's id: a non-empty NATS subject token (no '.', '*',
	// '>' or white space).
	ID string
	// Manifest is the name of the manifest the spec comes from; errors
	// name it.
	Manifest string
	// Module is the Wasm binary, or nil to use Digest, a module already
	// given to [Runtime.Compile] or an earlier Spawn.
	Module []byte
	Digest Digest

	// Capabilities are the granted interface names ("log", "message", ...).
	Capabilities []string
	// AllowTarget is the message capability's allow-list: whether the
	// actor may send to an id. Nil allows no target.
	AllowTarget func(id string) bool
	Limits      Limits
	// Types are the WIT types of the actor's messages and state; a nil
	// type is not checked.
	Types Types

	// State is passed to theater_init, which returns the state to start
	// from. With Resume set, State is the state to resume from instead and
	// theater_init is not called (a restart from last state, a migration).
	State  []byte
	Resume bool
	// KeepLive exempts the actor's instance from the runtime's
	// live-instance bound ([WithMaxLiveInstances]): it closes only by its
	// idle timeout, a failure or a stop. Replay sets it, because an
	// instance closed between two calls changes the next call's fuel.
	KeepLive bool

	// Router, Clock and Entropy serve the message, clock and random
	// capabilities; a nil Router makes message imports answer
	// "unavailable", nil Clock and Entropy use the real ones.
	Router  Router
	Clock   Clock
	Entropy Entropy
	// Supervision serves the supervisor capability within the bounds of
	// SupervisorGrant; a nil Supervision makes its imports answer
	// "unavailable".
	Supervision     Supervision
	SupervisorGrant SupervisorGrant
	// HTTP serves the http-client capability and enforces its grant
	// ([NewHTTPClient] from the manifest's [HTTPPolicyOf]); a nil HTTP
	// makes its import answer "unavailable".
	HTTP HTTPClient
	// Store serves the store capability within the bounds of StoreGrant
	// (from the manifest's [StoreGrantOf]); a nil Store makes its imports
	// answer "unavailable".
	Store      Store
	StoreGrant StoreGrant
	// ConfigValues are the config capability's values (from the
	// manifest's [ConfigOf]); SecretNames the secrets it may read, which
	// Secrets supplies (nil: every secret is "missing").
	ConfigValues map[string]string
	SecretNames  []string
	Secrets      SecretSource
	// Timers serves the timer capability, at most TimerMaxSets calls per
	// handler call (0: the default); a nil Timers makes its imports
	// answer "unavailable".
	Timers       Timers
	TimerMaxSets int
	// Channels serves the channel capability; AllowPublish is its grant
	// (the manifest's [manifest.Manifest.AllowsPublish]; nil allows no
	// topic). A nil Channels makes its import answer "unavailable".
	// Publishes count against the budget's Sends.
	Channels     Channels
	AllowPublish func(topic string) bool
	// Logger receives the log capability and the guest's stdout and
	// stderr, with an "actor" attribute; nil uses the runtime's.
	Logger *slog.Logger
	// LogLevel, when not nil, drops the actor's log lines below it,
	// whatever the logger lets through (a manifest's log level).
	LogLevel slog.Leveler

	// FailurePolicy says whether a failure ends the actor (the default)
	// or leaves it to recreate its instance on the next message.
	FailurePolicy FailurePolicy
	// OnFailure is told of every failed guest call, after the instance
	// has been discarded (a guest error keeps it). OnExit is told once,
	// after the actor has fully ended. Both run on a goroutine of their
	// own, never one that handles the actor's messages, one report at a
	// time and in order (the failure that ended an actor before its
	// exit), so they may call Stop, Kill, Request or Spawn. Reports wait
	// in an unbounded queue while a callback runs: keep them short. Nil
	// ignores the reports (requesters still get failures as errors). A
	// Spawn that fails reports nothing: its error is the report.
	OnFailure func(Failure)
	OnExit    func(Exit)
	// OnHibernate, when not nil, is told that the runtime closed the
	// actor's instance by itself: its idle timeout passed, or the live
	// bound evicted it (not [Actor.Hibernate], whose caller knows). It
	// runs under the actor's lock, on the goroutine that closed the
	// instance (perhaps another actor's): it must return at once and call
	// nothing on the actor. A node uses it to record, while the actor is
	// idle, that its next call runs in a new instance ([Actor.Instances]).
	OnHibernate func()
}

// FailurePolicy is what a failure that discards the instance (any kind but
// [GuestError]) does to the actor.
type FailurePolicy uint8

const (
	// EndOnFailure ends the actor: the requester gets the failure, queued
	// and later messages are refused, the id is freed, and OnExit gets an
	// [Exit] with reason [Failed], for a supervisor to decide what
	// follows. It is the default.
	EndOnFailure FailurePolicy = iota
	// RecreateOnFailure keeps the actor: the next message recreates the
	// instance from the last good state. This is how a node behaved
	// before supervision, and what an owner without a supervisor may
	// want.
	RecreateOnFailure
)

// Types are the declared WIT types of an actor's payloads. Incoming
// messages are validated before they are accepted ([ErrInvalidMessage]);
// a state or reply from the guest that does not fit is a [Fault].
type Types struct {
	Send, Request, Reply, State wit.Type
}

// levelHandler drops records below a minimum level, whatever level the
// wrapped handler lets through.
type levelHandler struct {
	min slog.Leveler
	slog.Handler
}

func (h levelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min.Level() && h.Handler.Enabled(ctx, l)
}

func (h levelHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return levelHandler{h.min, h.Handler.WithAttrs(as)}
}

func (h levelHandler) WithGroup(name string) slog.Handler {
	return levelHandler{h.min, h.Handler.WithGroup(name)}
}
