package transport

import (
	"fmt"
	"unicode/utf8"
)

// DefaultPrefix is the prefix of every subject, stream, bucket and
// service name when none is configured.
const DefaultPrefix = "theater"

// MaxIDLen is the longest actor id, node name or event kind, in bytes.
// Ids appear in every subject of an actor and as KV keys; bounding them
// keeps subjects and headers small.
const MaxIDLen = 128

// maxPrefixLen keeps derived names (the longest is "OBJ_<prefix>_modules",
// the object store's stream) well inside JetStream's name limits.
const maxPrefixLen = 32

// Layout names every subject, stream, bucket, object store and service a
// Theater system uses on NATS. All names derive from one prefix, so two
// systems can share a server. docs/NATS.md describes the whole layout.
//
// The zero Layout uses [DefaultPrefix]. The naming methods do not check
// their arguments; ids coming from outside must pass [ValidID] first.
type Layout struct {
	Prefix string
}

// NewLayout returns the layout for prefix ("" means [DefaultPrefix]). The
// prefix must be 1 to 32 of [A-Za-z0-9_-]: it is the first token of every
// subject and part of every stream and bucket name, and those characters
// are the ones valid in both.
func NewLayout(prefix string) (Layout, error) {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if err := validPrefix(prefix); err != nil {
		return Layout{}, err
	}
	return Layout{Prefix: prefix}, nil
}

func validPrefix(p string) error {
	if len(p) > maxPrefixLen {
		return configError(fmt.Sprintf("transport: prefix %.40q is longer than %d bytes", p, maxPrefixLen), nil)
	}
	if i := badNameByte(p); i >= 0 || p == "" {
		return configError(fmt.Sprintf("transport: prefix %q: use only letters, digits, '-' and '_'", p), nil)
	}
	return nil
}

// ValidID reports whether id can name an actor, a node or an event kind:
// 1 to [MaxIDLen] bytes of ASCII letters, digits, '-' and '_'.
//
// An id is a single subject token (so no '.', '*', '>', whitespace or
// control characters) and also a KV key in the registry buckets, read by
// people with `nats kv get`. The intersection of what subjects and KV keys
// allow, minus '=' and '/' which read as syntax, is the set above; ids
// are therefore printable and never need escaping. Generated ids (NUIDs,
// UUIDs) and names like "billing-agent_2" fit.
func ValidID(id string) error {
	switch {
	case id == "":
		return configError("transport: empty id", nil)
	case len(id) > MaxIDLen:
		return configError(fmt.Sprintf("transport: id %.40q... is %d bytes, longer than %d", id, len(id), MaxIDLen), nil)
	}
	if i := badNameByte(id); i >= 0 {
		r, _ := utf8.DecodeRuneInString(id[i:])
		return configError(fmt.Sprintf("transport: id %q: %q at byte %d is not allowed (use letters, digits, '-' and '_')", id, r, i), nil)
	}
	return nil
}

// badNameByte returns the index of the first byte of s outside
// [A-Za-z0-9_-], or -1.
func badNameByte(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return i
		}
	}
	return -1
}

func (l Layout) prefix() string {
	if l.Prefix == "" {
		return DefaultPrefix
	}
	return l.Prefix
}

// SendSubject is where durable sends to actor id are published:
// <prefix>.actor.<id>.send, captured by the [Layout.MailboxStream].
func (l Layout) SendSubject(id string) string { return l.prefix() + ".actor." + id + ".send" }

// RequestSubject is the core NATS request/reply subject of actor id:
// <prefix>.actor.<id>.req. The node hosting the actor subscribes to it.
func (l Layout) RequestSubject(id string) string { return l.prefix() + ".actor." + id + ".req" }

// EventSubject is where lifecycle events of kind for actor id are
// published: <prefix>.events.<id>.<kind>, captured by the
// [Layout.EventsStream].
func (l Layout) EventSubject(id, kind string) string {
	return l.prefix() + ".events." + id + "." + kind
}

// AllEvents matches every event of the system: <prefix>.events.>.
func (l Layout) AllEvents() string { return l.prefix() + ".events.>" }

// ChainSubject holds actor id's hash-chained history:
// <prefix>.chain.<id>, in the [Layout.ChainStream].
func (l Layout) ChainSubject(id string) string { return l.prefix() + ".chain." + id }

// NodeSubject is a control endpoint of one node: <prefix>.node.<node>.<op>
// (spawn, stop, status...), served as an endpoint of the
// [Layout.ServiceName] micro service.
func (l Layout) NodeSubject(node, op string) string {
	return l.prefix() + ".node." + node + "." + op
}

// ControlSubject is a control endpoint any node may answer (a queue
// group): <prefix>.ctl.<op>, e.g. a spawn that lets placement choose.
func (l Layout) ControlSubject(op string) string { return l.prefix() + ".ctl." + op }

// ChildSpawnSubject is where a node spawns a supervisor agent's child
// (<prefix>.sup.spawn, a queue group of the nodes): the one subject a
// spawn may name a parent on. Only nodes may publish there
// (docs/NATS.md, "Who may publish where").
func (l Layout) ChildSpawnSubject() string { return l.prefix() + ".sup.spawn" }

// MailboxStream is the stream of durable sends: <prefix>_mailbox.
func (l Layout) MailboxStream() string { return l.prefix() + "_mailbox" }

// ChainStream is the stream of actor histories: <prefix>_chain.
func (l Layout) ChainStream() string { return l.prefix() + "_chain" }

// EventsStream is the stream of lifecycle events: <prefix>_events.
func (l Layout) EventsStream() string { return l.prefix() + "_events" }

// ActorsBucket is the KV registry of actors and their owners (leases):
// <prefix>_actors, keyed by actor id.
func (l Layout) ActorsBucket() string { return l.prefix() + "_actors" }

// LeasesBucket holds one ownership lease per hosted actor:
// <prefix>_leases, keyed by actor id, naming the node and the incarnation
// (the token of one hosting) that may serve and append for it.
func (l Layout) LeasesBucket() string { return l.prefix() + "_leases" }

// RestoreBucket holds one restore point per actor: <prefix>_restore,
// keyed by actor id, naming the actor's last snapshot event that a
// restore may start from and what a restore needs besides its state.
func (l Layout) RestoreBucket() string { return l.prefix() + "_restore" }

// ChildrenBucket indexes the supervisor capability's children by parent:
// <prefix>_children, keyed by "<parent>.<child>", empty values, so a
// parent's children are listed by a key filter.
func (l Layout) ChildrenBucket() string { return l.prefix() + "_children" }

// NodesBucket is the KV bucket of node heartbeats: <prefix>_nodes, keyed
// by node name; entries expire when a node stops beating.
func (l Layout) NodesBucket() string { return l.prefix() + "_nodes" }

// ModulesStore is the object store of Wasm modules, named by SHA-256
// digest: <prefix>_modules.
func (l Layout) ModulesStore() string { return l.prefix() + "_modules" }

// ServiceName is the name every node registers its micro service under:
// the prefix itself, so `nats micro ls` tells two systems on one server
// apart and the default system shows as "theater".
func (l Layout) ServiceName() string { return l.prefix() }

// StoreBucket is the KV bucket of the store capability: <prefix>_store,
// keyed by "actor.<id>.<key>" in an actor's own namespace and
// "shared.<name>.<key>" in a shared one.
func (l Layout) StoreBucket() string { return l.prefix() + "_store" }

// TimersStream is the stream of the timer capability's message
// schedules and of the messages they fire: <prefix>_timers.
func (l Layout) TimersStream() string { return l.prefix() + "_timers" }

// TimerSubject holds the schedule of actor id's timer: the subject
// <prefix>.timer.<id>.sched.<timer>, in the [Layout.TimersStream].
func (l Layout) TimerSubject(id, timer string) string {
	return l.prefix() + ".timer." + id + ".sched." + timer
}

// TimerFireSubject is where actor id's timers fire:
// <prefix>.timer.<id>.fire, in the [Layout.TimersStream]; the node
// hosting the actor moves each message from there to its mailbox.
func (l Layout) TimerFireSubject(id string) string { return l.prefix() + ".timer." + id + ".fire" }

// ChildTimerSubject holds the schedule of a supervisor agent's delayed
// spawn of child: <prefix>.timer.<parent>.child.<child>, in the
// [Layout.TimersStream]; it fires on [Layout.ChildFireSubject].
func (l Layout) ChildTimerSubject(parent, child string) string {
	return l.prefix() + ".timer." + parent + ".child." + child
}

// ChildFireSubject is where parent's delayed spawns fire:
// <prefix>.timer.<parent>.spawn, in the [Layout.TimersStream]; the node
// hosting the parent spawns each child from there.
func (l Layout) ChildFireSubject(parent string) string {
	return l.prefix() + ".timer." + parent + ".spawn"
}

// ChannelsStream is the stream of the channel capability's
// publications: <prefix>_channels.
func (l Layout) ChannelsStream() string { return l.prefix() + "_channels" }

// ChannelSubject is where publications to topic are stored:
// <prefix>.chan.<topic>, in the [Layout.ChannelsStream]. A topic
// pattern gives the filter of its subscribers.
func (l Layout) ChannelSubject(topic string) string { return l.prefix() + ".chan." + topic }

// ChannelConsumer names the durable consumer of the ChannelsStream
// through which the node hosting actor id moves the publications it
// subscribes to into its mailbox: chan_<id>.
func (l Layout) ChannelConsumer(id string) string { return "chan_" + id }

// TimerDoneSubject holds, for actor id's one-shot timer, the id of the
// last set of it that fired and was moved into the mailbox:
// <prefix>.timer.<id>.done.<timer>, in the [Layout.TimersStream]. A
// restore reads it so as not to set a fired timer again.
func (l Layout) TimerDoneSubject(id, timer string) string {
	return l.prefix() + ".timer." + id + ".done." + timer
}
