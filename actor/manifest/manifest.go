package manifest

import (
	"encoding/base64"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/theater-go/theater/supervisor"
)

// Manifest is one actor's manifest. It is plain data: the node stores it
// as JSON in a KV bucket and any node can start the actor from it, so every
// field has both a toml and a json tag with the same name.
//
// A zero field means "the default" (see [Manifest.WithDefaults]); Parse and
// Load return manifests with the defaults filled in, so the JSON a node
// ships is explicit and does not depend on the defaults of the node that
// later reads it.
type Manifest struct {
	Name         string       `toml:"name" json:"name"`
	Module       string       `toml:"module" json:"module"`
	WIT          string       `toml:"wit" json:"wit,omitempty"`
	Types        Types        `toml:"types" json:"types,omitzero"`
	State        State        `toml:"state" json:"state,omitzero"`
	Capabilities Capabilities `toml:"capabilities" json:"capabilities,omitzero"`
	Limits       Limits       `toml:"limits" json:"limits,omitzero"`
	Supervision  Supervision  `toml:"supervision" json:"supervision,omitzero"`
}

// Types names the WIT types of the values the actor accepts, returns and
// keeps. An empty field means the actor has no such value: with no Send
// type it refuses one-way messages, with no Request type it refuses
// requests.
type Types struct {
	Send    string `toml:"send" json:"send,omitempty"`
	Request string `toml:"request" json:"request,omitempty"`
	Reply   string `toml:"reply" json:"reply,omitempty"`
	State   string `toml:"state" json:"state,omitempty"`
}

// State is the state an actor starts from: JSON text (converted to msgpack
// under Types.State by the actor package) or raw msgpack bytes, or neither
// (the guest's init gets empty bytes).
type State struct {
	Initial        string  `toml:"initial" json:"initial,omitempty"`
	InitialMsgpack Msgpack `toml:"initial_base64" json:"initial_base64,omitempty"`
}

// Capabilities lists the granted host interfaces. A nil field is not
// granted; a non-nil one is granted with that configuration.
type Capabilities struct {
	Clock   *ClockConfig   `toml:"clock" json:"clock,omitempty"`
	Log     *LogConfig     `toml:"log" json:"log,omitempty"`
	Message *MessageConfig `toml:"message" json:"message,omitempty"`
	Random  *RandomConfig  `toml:"random" json:"random,omitempty"`
	Runtime *RuntimeConfig `toml:"runtime" json:"runtime,omitempty"`
	// Supervisor grants theater:actor/supervisor: the actor may spawn and
	// supervise children.
	Supervisor *SupervisorConfig `toml:"supervisor" json:"supervisor,omitempty"`
	// HTTP grants theater:actor/http-client: outbound HTTP within its
	// allow-list and limits.
	HTTP *HTTPConfig `toml:"http" json:"http,omitempty"`
	// Store grants theater:actor/store: key-value storage in the actor's
	// own namespace and in the shared namespaces it names.
	Store *StoreConfig `toml:"store" json:"store,omitempty"`
	// Config grants theater:actor/config: the values and secrets it names.
	Config *ConfigConfig `toml:"config" json:"config,omitempty"`
	// Timer grants theater:actor/timer: timers into its own mailbox.
	Timer *TimerConfig `toml:"timer" json:"timer,omitempty"`
	// Channel grants theater:actor/channel: publishing to topics, and
	// the topics whose publications the actor receives (channel.go).
	Channel *ChannelConfig `toml:"channel" json:"channel,omitempty"`
}

// TimerConfig configures theater:actor/timer. MaxSets bounds the set
// and cancel calls of one handler call (default DefaultTimerMaxSets).
type TimerConfig struct {
	MaxSets int `toml:"max_sets" json:"max_sets,omitempty"`
}

// DefaultTimerMaxSets is a timer grant's default MaxSets.
const DefaultTimerMaxSets = 16

// ConfigConfig configures theater:actor/config: named values, written
// in the manifest (and so recorded with it in the chain), and the names
// of secrets the node supplies, which never are.
type ConfigConfig struct {
	Value  []ConfigValue  `toml:"value,omitzero" json:"value,omitempty"`
	Secret []ConfigSecret `toml:"secret,omitzero" json:"secret,omitempty"`
}

// ConfigValue is one [[capabilities.config.value]].
type ConfigValue struct {
	Name  string `toml:"name" json:"name"`
	Value string `toml:"value" json:"value"`
}

// ConfigSecret is one [[capabilities.config.secret]]: a secret the node
// supplies under Name.
type ConfigSecret struct {
	Name string `toml:"name" json:"name"`
}

// StoreConfig configures theater:actor/store. The actor's own namespace
// is always readable and writable; shared namespaces are granted by name.
// Zero limits take the host's defaults (DefaultStore*).
type StoreConfig struct {
	// Read names the shared namespaces the actor may read; Write those it
	// may read and write.
	Read  []string `toml:"read,omitzero" json:"read,omitempty"`
	Write []string `toml:"write,omitzero" json:"write,omitempty"`
	// MaxKeyBytes and MaxValueBytes bound a key and a value.
	MaxKeyBytes   int `toml:"max_key_bytes" json:"max_key_bytes,omitempty"`
	MaxValueBytes int `toml:"max_value_bytes" json:"max_value_bytes,omitempty"`
	// MaxOps bounds the store calls of one handler call.
	MaxOps int `toml:"max_ops" json:"max_ops,omitempty"`
}

// The store capability's defaults and bounds.
const (
	DefaultStoreMaxKeyBytes   = 256
	DefaultStoreMaxValueBytes = 64 << 10
	DefaultStoreMaxOps        = 100
	// MaxStoreKeyBytes keeps a bucket key (namespace prefix and key)
	// well inside a subject's practical length.
	MaxStoreKeyBytes = 1024
	MaxStoreOps      = 100_000
)

// StoreMode is what a grant allows in a namespace.
type StoreMode uint8

// The store modes.
const (
	StoreNone StoreMode = iota
	StoreRead
	StoreReadWrite
)

// StoreAccess is the grant's mode for shared namespace ns.
func (c *StoreConfig) StoreAccess(ns string) StoreMode {
	switch {
	case slices.Contains(c.Write, ns):
		return StoreReadWrite
	case slices.Contains(c.Read, ns):
		return StoreRead
	}
	return StoreNone
}

// HTTPConfig configures theater:actor/http-client. Zero fields take the
// host's defaults: https only, the scheme's default port, GET and POST,
// 1 MiB bodies, a 10 s deadline, 5 redirects, Content-Type exposed.
type HTTPConfig struct {
	// Hosts are the host names the actor may call; "*.example.com"
	// allows any sub-domain. At least one is needed.
	Hosts []string `toml:"hosts,omitzero" json:"hosts"`
	// Ports, Schemes and Methods narrow the calls further.
	Ports   []int    `toml:"ports,omitzero" json:"ports,omitempty"`
	Schemes []string `toml:"schemes,omitzero" json:"schemes,omitempty"`
	Methods []string `toml:"methods,omitzero" json:"methods,omitempty"`
	// MaxRequestBytes and MaxResponseBytes bound the bodies.
	MaxRequestBytes  int `toml:"max_request_bytes" json:"max_request_bytes,omitempty"`
	MaxResponseBytes int `toml:"max_response_bytes" json:"max_response_bytes,omitempty"`
	// Timeout bounds one exchange, redirects and body included.
	Timeout Duration `toml:"timeout" json:"timeout,omitempty"`
	// MaxRedirects bounds the redirects followed; -1 follows none.
	MaxRedirects int `toml:"max_redirects" json:"max_redirects,omitempty"`
	// AllowPrivate lets the actor reach loopback, private and link-local
	// addresses, which are refused otherwise (checked on the address
	// dialled, after DNS).
	AllowPrivate bool `toml:"allow_private" json:"allow_private,omitempty"`
	// ExposeHeaders names the response headers the guest sees.
	ExposeHeaders []string `toml:"expose_headers,omitzero" json:"expose_headers,omitempty"`
}

// SupervisorConfig configures theater:actor/supervisor: what the actor
// may spawn, and how the host supervises its permanent and transient
// children (the fields of a supervisor in a [Tree]).
type SupervisorConfig struct {
	// MaxChildren bounds how many children the actor may have at once;
	// zero means DefaultMaxChildren.
	MaxChildren int `toml:"max_children" json:"max_children,omitempty"`
	// Manifests holds path.Match patterns of the manifest names the actor
	// may spawn children from; Modules the module digests
	// ("sha256:<hex>") it may spawn with manifest fields of its own. No
	// entries allow nothing. nil and empty round-trip as Allow does.
	Manifests []string `toml:"manifests,omitzero" json:"manifests"`
	Modules   []string `toml:"modules,omitzero" json:"modules"`
	// Strategy, Intensity, Period and Backoff configure the host's
	// supervisor of the actor's children, with package supervisor's
	// defaults.
	Strategy  supervisor.Strategy `toml:"strategy" json:"strategy,omitempty"`
	Intensity int                 `toml:"intensity" json:"intensity,omitempty"`
	Period    Duration            `toml:"period" json:"period,omitempty"`
	Backoff   *supervisor.Backoff `toml:"backoff" json:"backoff,omitempty"`
}

// ClockConfig configures theater:actor/clock. It has no settings yet; it
// is a struct of its own so that settings can be added without changing
// the manifest's shape.
type ClockConfig struct{}

// RandomConfig configures theater:actor/random. It has no settings yet.
type RandomConfig struct{}

// RuntimeConfig configures theater:actor/runtime. It has no settings yet.
type RuntimeConfig struct{}

// LogConfig configures theater:actor/log.
type LogConfig struct {
	// Level is the least important level that is written; lines below it
	// are dropped by the host. Empty means LevelInfo.
	Level LogLevel `toml:"level" json:"level,omitempty"`
}

// LogLevel is a level of theater:actor/log, as named in theater.wit.
type LogLevel string

// The log levels, least important first.
const (
	LevelDebug LogLevel = "debug"
	LevelInfo  LogLevel = "info"
	LevelWarn  LogLevel = "warn"
	LevelError LogLevel = "error"
)

// MessageConfig configures theater:actor/message.
type MessageConfig struct {
	// Allow holds path.Match patterns of the actor ids the actor may send
	// to or request from. No patterns means no target is allowed. TOML has
	// no null, so a nil Allow is written as no key (omitzero) and an empty
	// one as [], and each reads back as it was.
	Allow []string `toml:"allow,omitzero" json:"allow"`
}

// Limits bound what one actor may use. Zero fields mean the defaults.
type Limits struct {
	MemoryPages     int      `toml:"memory_pages" json:"memory_pages,omitempty"`
	HandlerDeadline Duration `toml:"handler_deadline" json:"handler_deadline,omitempty"`
	Mailbox         int      `toml:"mailbox" json:"mailbox,omitempty"`
	MaxMessageBytes int      `toml:"max_message_bytes" json:"max_message_bytes,omitempty"`
	Idle            Duration `toml:"idle" json:"idle,omitempty"`
	// Fuel bounds the work of one handler call in fuel units (about one
	// per Wasm instruction); past it the call fails as "out of fuel", at
	// the same point on every run. 0 means no limit.
	Fuel int `toml:"fuel" json:"fuel,omitempty"`
	// The budget of one handler call's host calls (budget.go): log lines
	// and bytes per call and per second, sends and requests per call.
	// Zero means the runtime's default.
	LogLinesPerCall   int `toml:"log_lines_per_call" json:"log_lines_per_call,omitempty"`
	LogBytesPerCall   int `toml:"log_bytes_per_call" json:"log_bytes_per_call,omitempty"`
	LogLinesPerSecond int `toml:"log_lines_per_second" json:"log_lines_per_second,omitempty"`
	LogBytesPerSecond int `toml:"log_bytes_per_second" json:"log_bytes_per_second,omitempty"`
	SendsPerCall      int `toml:"sends_per_call" json:"sends_per_call,omitempty"`
	RequestsPerCall   int `toml:"requests_per_call" json:"requests_per_call,omitempty"`
}

// Supervision says what the actor's supervisor does when the actor ends.
// Its types are package supervisor's, so a manifest and a supervisor spec
// spell restart types and states the same way and mean the same thing.
//
// An actor that is not in a tree runs under a supervisor of its own, with
// this actor as its one child: Intensity, Period and Backoff are that
// supervisor's (package supervisor's defaults when zero: one restart in
// five seconds, no backoff), so a crash loop is bounded per actor. In a
// tree, the tree's supervisors decide them and these three are unused.
//
// Shutdown bounds a stop the actor's supervisor asks for (a supervisor
// agent's stop of its child, or its end): past it the actor is killed
// and its on-stop handler does not run; zero is supervisor.DefaultShutdown.
type Supervision struct {
	Restart   supervisor.Restart   `toml:"restart" json:"restart,omitempty"`
	StartFrom supervisor.StartFrom `toml:"start_from" json:"start_from,omitempty"`
	Shutdown  Duration             `toml:"shutdown" json:"shutdown,omitempty"`
	Intensity int                  `toml:"intensity" json:"intensity,omitempty"`
	Period    Duration             `toml:"period" json:"period,omitempty"`
	Backoff   *supervisor.Backoff  `toml:"backoff" json:"backoff,omitempty"`
}

// Defaults and bounds of the limits. The message bounds follow NATS: its
// default max_payload is 1 MiB and the server refuses anything above
// 64 MiB, so a larger limit could never be used.
const (
	DefaultMemoryPages     = 256 // 16 MiB
	MaxMemoryPages         = 65536
	DefaultHandlerDeadline = 5 * time.Second
	MaxHandlerDeadline     = 10 * time.Minute
	DefaultMailbox         = 1024
	MaxMailbox             = 1 << 20
	DefaultMaxMessageBytes = 1 << 20
	MaxMaxMessageBytes     = 64 << 20
	DefaultMaxChildren     = 16
	MaxMaxChildren         = 1024
	pageBytes              = 65536
)

// Duration is a time.Duration written as a Go duration string ("5s",
// "1m30s") in TOML and JSON. It is [supervisor.Duration], so limits and
// supervisor specs write durations the same way.
type Duration = supervisor.Duration

// Msgpack is raw msgpack bytes written as standard base64 in TOML and JSON.
type Msgpack []byte

// UnmarshalText decodes standard base64.
func (b *Msgpack) UnmarshalText(text []byte) error {
	v, err := base64.StdEncoding.DecodeString(string(text))
	if err != nil {
		return fmt.Errorf("invalid base64: %v", err)
	}
	if len(v) == 0 {
		v = nil // no state, as when the key is absent
	}
	*b = v
	return nil
}

// MarshalText encodes standard base64.
func (b Msgpack) MarshalText() ([]byte, error) {
	return []byte(base64.StdEncoding.EncodeToString(b)), nil
}

// WithDefaults returns a copy of m with every zero field that has a
// default set to it. m is not changed.
func (m *Manifest) WithDefaults() *Manifest {
	d := *m
	l := &d.Limits
	if l.MemoryPages == 0 {
		l.MemoryPages = DefaultMemoryPages
	}
	if l.HandlerDeadline == 0 {
		l.HandlerDeadline = Duration(DefaultHandlerDeadline)
	}
	if l.Mailbox == 0 {
		l.Mailbox = DefaultMailbox
	}
	if l.MaxMessageBytes == 0 {
		l.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if d.Capabilities.Log != nil && d.Capabilities.Log.Level == "" {
		// Copy so that m's LogConfig is left alone.
		lc := *d.Capabilities.Log
		lc.Level = LevelInfo
		d.Capabilities.Log = &lc
	}
	if d.Capabilities.Supervisor != nil && d.Capabilities.Supervisor.MaxChildren == 0 {
		sc := *d.Capabilities.Supervisor
		sc.MaxChildren = DefaultMaxChildren
		d.Capabilities.Supervisor = &sc
	}
	if d.Supervision.Restart == "" {
		d.Supervision.Restart = supervisor.Permanent
	}
	if d.Supervision.StartFrom == "" {
		d.Supervision.StartFrom = supervisor.StartLast
	}
	return &d
}

// Grants reports whether the manifest grants the named capability ("log",
// "runtime", "message", "clock", "random", "supervisor", "http-client", "store", "config", "timer", "channel"). Unknown names
// are not granted.
func (m *Manifest) Grants(capability string) bool {
	c := &m.Capabilities
	switch capability {
	case "clock":
		return c.Clock != nil
	case "log":
		return c.Log != nil
	case "message":
		return c.Message != nil
	case "random":
		return c.Random != nil
	case "runtime":
		return c.Runtime != nil
	case "supervisor":
		return c.Supervisor != nil
	case "http", "http-client": // the manifest's key, the WIT interface
		return c.HTTP != nil
	case "store":
		return c.Store != nil
	case "config":
		return c.Config != nil
	case "timer":
		return c.Timer != nil
	case "channel":
		return c.Channel != nil
	}
	return false
}

// AllowsManifest reports whether the actor may spawn a child from the
// manifest with this name: supervisor is granted and the name matches one
// of its Manifests patterns.
func (m *Manifest) AllowsManifest(name string) bool {
	if m.Capabilities.Supervisor == nil {
		return false
	}
	for _, p := range m.Capabilities.Supervisor.Manifests {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// AllowsModule reports whether the actor may spawn a child from the
// module with this digest ("sha256:<hex>"): supervisor is granted and
// Modules lists it.
func (m *Manifest) AllowsModule(digest string) bool {
	return m.Capabilities.Supervisor != nil && slices.Contains(m.Capabilities.Supervisor.Modules, digest)
}

// AllowsTarget reports whether the actor may send to or request from the
// actor with this id: message is granted and id matches one of its Allow
// patterns with path.Match. Actor ids contain no '/', so '*' matches any
// run of characters. A malformed pattern matches nothing (Validate
// rejects it).
func (m *Manifest) AllowsTarget(id string) bool {
	if m.Capabilities.Message == nil {
		return false
	}
	for _, p := range m.Capabilities.Message.Allow {
		if ok, _ := path.Match(p, id); ok {
			return true
		}
	}
	return false
}

const digestPrefix = "sha256:"

// ModuleDigest returns the lowercase hex SHA-256 digest when Module names
// a module by digest ("sha256:<64 hex>"), and false when it is a path.
func (m *Manifest) ModuleDigest() (string, bool) {
	hex, ok := strings.CutPrefix(m.Module, digestPrefix)
	return hex, ok
}
