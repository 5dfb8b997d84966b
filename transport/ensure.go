package transport

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// StoreConfig tunes the JetStream assets [Layout.Ensure] creates. It is
// plain data, loaded from flags or a file; zero fields take the defaults
// named below, in Ensure and in the *Config methods that show what Ensure
// creates.
type StoreConfig struct {
	// Replicas is how many servers keep each stream, bucket and object
	// store: 1 (default) for a single server, 3 for a cluster that must
	// survive losing one server. At most 5.
	Replicas int `toml:"replicas" json:"replicas,omitempty"`
	// MailboxDepth is how many unprocessed sends one actor's mailbox
	// holds (default 10000). A send to a full mailbox is refused with an
	// error to its sender rather than dropping an older, acknowledged one.
	MailboxDepth int64 `toml:"mailbox_depth" json:"mailbox_depth,omitempty"`
	// MaxMessageSize bounds one send and one registry entry, in bytes
	// (default 1 MiB, nats-server's default max payload).
	MaxMessageSize int32 `toml:"max_message_size" json:"max_message_size,omitempty"`
	// DuplicateWindow is how long JetStream remembers Nats-Msg-Id headers
	// to drop a retried publish (default 2m).
	DuplicateWindow time.Duration `toml:"duplicate_window" json:"duplicate_window,omitempty"`
	// EventsMaxAge is how long lifecycle events are kept (default 24h).
	EventsMaxAge time.Duration `toml:"events_max_age" json:"events_max_age,omitempty"`
	// MailboxMaxAge is how long a send may wait unhandled in the mailbox
	// stream (default 7 days): sends to ids that never exist, or to an
	// actor stopped for good, expire instead of being stored forever.
	// Handled sends are purged long before.
	MailboxMaxAge time.Duration `toml:"mailbox_max_age" json:"mailbox_max_age,omitempty"`
	// NodeTTL is how long a node's heartbeat entry lives without being
	// renewed (default 15s); a node beats well within it.
	NodeTTL time.Duration `toml:"node_ttl" json:"node_ttl,omitempty"`
}

// Defaults of [StoreConfig].
const (
	DefaultMailboxDepth    = 10_000
	DefaultMaxMessageSize  = 1 << 20
	DefaultDuplicateWindow = 2 * time.Minute
	DefaultEventsMaxAge    = 24 * time.Hour
	DefaultMailboxMaxAge   = 7 * 24 * time.Hour
	DefaultNodeTTL         = 15 * time.Second
)

// resolved fills c's zero fields with the defaults.
func (c StoreConfig) resolved() StoreConfig {
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.MailboxDepth == 0 {
		c.MailboxDepth = DefaultMailboxDepth
	}
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	if c.DuplicateWindow == 0 {
		c.DuplicateWindow = DefaultDuplicateWindow
	}
	if c.EventsMaxAge == 0 {
		c.EventsMaxAge = DefaultEventsMaxAge
	}
	if c.NodeTTL == 0 {
		c.NodeTTL = DefaultNodeTTL
	}
	if c.MailboxMaxAge == 0 {
		c.MailboxMaxAge = DefaultMailboxMaxAge
	}
	return c
}

func (c StoreConfig) validate() error {
	switch {
	case c.Replicas < 1 || c.Replicas > 5:
		return configError(fmt.Sprintf("transport: replicas %d: JetStream allows 1 to 5", c.Replicas), nil)
	case c.MailboxDepth < 0 || c.MaxMessageSize < 0 || c.DuplicateWindow < 0 || c.EventsMaxAge < 0 || c.MailboxMaxAge < 0:
		return configError("transport: store limits must not be negative", nil)
	case c.NodeTTL < time.Second:
		// JetStream's subject delete markers, which tell watchers a node
		// expired, need at least a second.
		return configError(fmt.Sprintf("transport: node TTL %v is under 1s", c.NodeTTL), nil)
	}
	return nil
}

// MailboxStreamConfig is the stream of durable sends.
//
// It keeps messages under limits, not as a work queue: a send is
// processed exactly once because the actor's chain records the mailbox
// sequence it consumed, and the chain append is the one atomic, fenced
// write. Reading goes through short-lived ordered consumers filtered to
// the actors a node hosts, so a hibernated actor costs the server only its
// stored messages; a work queue would need acks (a second write that can
// disagree with the chain) and forbids overlapping consumers while
// ownership moves. The owner purges an actor's subject up to the
// sequence its chain has recorded; what nobody handles (sends to ids
// that do not exist, or to an actor stopped for good) ages out after
// MailboxMaxAge. Each actor's
// mailbox is bounded by MailboxDepth with discard-new-per-subject, so a
// full mailbox refuses new sends (the sender's publish fails) instead of
// losing acknowledged ones. The duplicate window drops retried publishes
// carrying the same Nats-Msg-Id.
func (l Layout) MailboxStreamConfig(c StoreConfig) jetstream.StreamConfig {
	c = c.resolved()
	return jetstream.StreamConfig{
		Name:                 l.MailboxStream(),
		Description:          "Theater durable sends, one subject per actor: " + l.SendSubject("<id>"),
		Subjects:             []string{l.SendSubject("*")},
		Retention:            jetstream.LimitsPolicy,
		Storage:              jetstream.FileStorage,
		Replicas:             c.Replicas,
		Discard:              jetstream.DiscardNew,
		DiscardNewPerSubject: true,
		MaxMsgsPerSubject:    c.MailboxDepth,
		MaxMsgs:              -1,
		MaxBytes:             -1,
		MaxMsgSize:           c.MaxMessageSize,
		Duplicates:           min(c.DuplicateWindow, c.MailboxMaxAge),
		MaxAge:               c.MailboxMaxAge,
		AllowDirect:          true,
	}
}

// ChainStreamConfig is the stream of actor histories, one subject per
// actor.
//
// Appends are fenced with the expected-last-subject-sequence header, so
// the chain stays linear even when two nodes believe they own an actor.
// Nothing ages out and nothing is discarded: with discard-new, hitting a
// limit fails the append instead of silently dropping the oldest history.
// Deleting single messages is denied (a chain with a hole cannot be
// verified); purging an actor's whole subject stays possible for retiring
// it. Direct get serves "last entry of this actor" from any replica.
// The chain store commits the events of several handler calls in one
// message (a frame, docs/CHAIN.md), so the stream needs no atomic batch
// publish; an existing stream that allows it has it turned off.
func (l Layout) ChainStreamConfig(c StoreConfig) jetstream.StreamConfig {
	c = c.resolved()
	return jetstream.StreamConfig{
		Name:        l.ChainStream(),
		Description: "Theater actor histories (hash-chained), one subject per actor: " + l.ChainSubject("<id>"),
		Subjects:    []string{l.ChainSubject("*")},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    c.Replicas,
		Discard:     jetstream.DiscardNew,
		MaxMsgs:     -1,
		MaxBytes:    -1,
		MaxMsgSize:  -1,
		Duplicates:  c.DuplicateWindow,
		// Append-only: no message and no subject can be removed, so an
		// id spawned again continues its chain and its sequences (and the
		// ids of its sends, chain.MessageID) never repeat.
		DenyDelete:  true,
		DenyPurge:   true,
		AllowDirect: true,
	}
}

// EventsStreamConfig is the stream of lifecycle events (started, stopped,
// failed, restarted...). It is a feed for people and tools, not a record
// (the chain is), so it keeps EventsMaxAge of them and discards the
// oldest.
func (l Layout) EventsStreamConfig(c StoreConfig) jetstream.StreamConfig {
	c = c.resolved()
	return jetstream.StreamConfig{
		Name:        l.EventsStream(),
		Description: "Theater lifecycle events: " + l.EventSubject("<id>", "<kind>"),
		Subjects:    []string{l.EventSubject("*", "*")},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    c.Replicas,
		Discard:     jetstream.DiscardOld,
		MaxMsgs:     -1,
		MaxBytes:    -1,
		MaxAge:      c.EventsMaxAge,
		Duplicates:  min(c.DuplicateWindow, c.EventsMaxAge),
	}
}

// TimersStreamConfig is the stream of the timer capability: one message
// schedule (ADR-51) per timer on its TimerSubject, and the messages the
// server fires on the actor's TimerFireSubject, which the node hosting
// the actor moves to its mailbox. Schedules need roll-ups (a timer set
// again replaces its schedule with Nats-Rollup: sub) and are refused
// with discard-new, which is why timers do not fire into the mailbox
// stream directly: the target of a schedule must be in its own stream.
func (l Layout) TimersStreamConfig(c StoreConfig) jetstream.StreamConfig {
	c = c.resolved()
	return jetstream.StreamConfig{
		Name:              l.TimersStream(),
		Description:       "Theater timers: schedules on " + l.TimerSubject("<id>", "<timer>") + ", fired on " + l.TimerFireSubject("<id>"),
		Subjects:          []string{l.prefix() + ".timer.>"},
		Retention:         jetstream.LimitsPolicy,
		Storage:           jetstream.FileStorage,
		Replicas:          c.Replicas,
		Discard:           jetstream.DiscardOld,
		MaxMsgs:           -1,
		MaxBytes:          -1,
		MaxMsgSize:        c.MaxMessageSize,
		Duplicates:        c.DuplicateWindow,
		AllowRollup:       true,
		AllowMsgSchedules: true,
		AllowDirect:       true,
	}
}

// ChannelsStreamConfig is the stream of the channel capability: each
// publication stored once on its ChannelSubject, under the publisher's
// chain-derived id (so a republish after a restore is stored once), and
// read by one durable consumer per subscriber ([Layout.ChannelConsumer],
// filtered on its topic patterns), which the node hosting it moves into
// its mailbox. Interest retention drops a publication once every
// subscriber's consumer has acknowledged it (or at once when none
// listens); a subscriber that never comes back loses what waits for it
// after MailboxMaxAge, as its mailbox would.
func (l Layout) ChannelsStreamConfig(c StoreConfig) jetstream.StreamConfig {
	c = c.resolved()
	return jetstream.StreamConfig{
		Name:        l.ChannelsStream(),
		Description: "Theater channels: publications on " + l.ChannelSubject("<topic>"),
		Subjects:    []string{l.ChannelSubject(">")},
		Retention:   jetstream.InterestPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    c.Replicas,
		Discard:     jetstream.DiscardOld,
		MaxMsgs:     -1,
		MaxBytes:    -1,
		MaxMsgSize:  c.MaxMessageSize,
		Duplicates:  min(c.DuplicateWindow, c.MailboxMaxAge),
		MaxAge:      c.MailboxMaxAge,
		AllowDirect: true,
	}
}

// ActorsKVConfig is the actor registry: one key per actor id holding
// where its module is and which node owns it. Ownership is a lease taken
// by create and renewed by update-on-revision, so one revision per key is
// all it needs; ownership changes are recorded in the chains.
func (l Layout) ActorsKVConfig(c StoreConfig) jetstream.KeyValueConfig {
	c = c.resolved()
	return jetstream.KeyValueConfig{
		Bucket:       l.ActorsBucket(),
		Description:  "Theater actor registry and ownership leases, keyed by actor id",
		History:      1,
		MaxValueSize: c.MaxMessageSize,
		Storage:      jetstream.FileStorage,
		Replicas:     c.Replicas,
	}
}

// LeasesKVConfig is the bucket of ownership leases: one key per hosted
// actor, {node, incarnation}, taken with create (or update on the
// revision of a dead holder's lease) and renewed by update on revision
// with every heartbeat, so a renewal that fails on revision tells its
// node the actor was taken. Entries do not expire: a lease is valid for
// its holder only until its own clock says NodeTTL (less a margin) has
// passed since its last renewal, and a survivor takes it over only once
// the holder's heartbeat is gone.
func (l Layout) LeasesKVConfig(c StoreConfig) jetstream.KeyValueConfig {
	c = c.resolved()
	return jetstream.KeyValueConfig{
		Bucket:      l.LeasesBucket(),
		Description: "Theater actor ownership leases (node, incarnation), keyed by actor id",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    c.Replicas,
	}
}

// RestoreKVConfig is the bucket of restore points: one key per actor,
// overwritten after each of its snapshots once the snapshot and every
// effect before it are durable, so a restore reads the snapshot and the
// events after it without reading the chain from its start. A point is
// only a shortcut: one that is missing, stale or does not check against
// the chain makes a restore read more of the chain, never restore
// anything else.
func (l Layout) RestoreKVConfig(c StoreConfig) jetstream.KeyValueConfig {
	c = c.resolved()
	return jetstream.KeyValueConfig{
		Bucket:       l.RestoreBucket(),
		Description:  "Theater restore points (the last snapshot event and the handled-send ids), keyed by actor id",
		History:      1,
		MaxValueSize: c.MaxMessageSize,
		Storage:      jetstream.FileStorage,
		Replicas:     c.Replicas,
	}
}

// ChildrenKVConfig is the index of supervisor agents' children: a key
// "<parent>.<child>" per child spawned, written before the spawn; the
// registry entry says whether the child runs and whose it is, and a
// listing deletes the keys it finds stale.
func (l Layout) ChildrenKVConfig(c StoreConfig) jetstream.KeyValueConfig {
	c = c.resolved()
	return jetstream.KeyValueConfig{
		Bucket:      l.ChildrenBucket(),
		Description: "Theater supervisor agents' children, keyed by <parent>.<child>",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    c.Replicas,
	}
}

// NodesKVConfig is the node heartbeat bucket: one key per node, expiring
// NodeTTL after its last beat. Limit markers make the expiry visible to
// watchers, so survivors learn of a dead node when its entry lapses
// rather than by polling.
func (l Layout) NodesKVConfig(c StoreConfig) jetstream.KeyValueConfig {
	c = c.resolved()
	return jetstream.KeyValueConfig{
		Bucket:         l.NodesBucket(),
		Description:    "Theater node heartbeats, keyed by node name",
		History:        1,
		TTL:            c.NodeTTL,
		LimitMarkerTTL: c.NodeTTL,
		MaxValueSize:   c.MaxMessageSize,
		Storage:        jetstream.FileStorage,
		Replicas:       c.Replicas,
	}
}

// StoreKVConfig is the bucket of the store capability: one key per
// stored key, namespaced by actor or shared namespace. One revision per
// key is kept, as the revisions the guest compares are the latest; a
// value is bounded by MaxMessageSize (grants bound it further). Writes
// carry chain-derived message ids, so the duplicate window (the KV
// default, 2 minutes) stores a write applied again after a crash once.
func (l Layout) StoreKVConfig(c StoreConfig) jetstream.KeyValueConfig {
	c = c.resolved()
	return jetstream.KeyValueConfig{
		Bucket:       l.StoreBucket(),
		Description:  "Theater store capability: actor.<id>.<key> and shared.<namespace>.<key>",
		History:      1,
		MaxValueSize: c.MaxMessageSize,
		Storage:      jetstream.FileStorage,
		Replicas:     c.Replicas,
	}
}

// ModulesObjectStoreConfig is the object store of Wasm modules, one
// object per module named by its SHA-256 digest, so any node can start
// any actor. Modules are compressed at rest: Go guests are megabytes of
// very compressible code, and nodes read them rarely (they cache compiled
// modules on disk).
func (l Layout) ModulesObjectStoreConfig(c StoreConfig) jetstream.ObjectStoreConfig {
	c = c.resolved()
	return jetstream.ObjectStoreConfig{
		Bucket:      l.ModulesStore(),
		Description: "Theater Wasm modules, named by SHA-256 digest",
		Storage:     jetstream.FileStorage,
		Replicas:    c.Replicas,
		Compression: true,
	}
}

// StoreValuesObjectStoreConfig is the object store of the store
// capability's large values. Not compressed: values are the guests'
// bytes, often compressed already, and read on every get.
func (l Layout) StoreValuesObjectStoreConfig(c StoreConfig) jetstream.ObjectStoreConfig {
	c = c.resolved()
	return jetstream.ObjectStoreConfig{
		Bucket:      l.StoreValuesStore(),
		Description: "Theater store capability: large values, named <key>/<SHA-256>",
		Storage:     jetstream.FileStorage,
		Replicas:    c.Replicas,
	}
}

// Ensure creates the layout's streams, KV buckets and object store, or
// updates them to the configuration documented on each *Config method.
// Running it again with the same config changes nothing, so every node
// runs it at start. A change JetStream cannot apply to an existing asset
// (its storage type, say) fails with the asset's name in the error.
func (l Layout) Ensure(ctx context.Context, js jetstream.JetStream, c StoreConfig) error {
	if err := validPrefix(l.prefix()); err != nil {
		return err
	}
	c = c.resolved()
	if err := c.validate(); err != nil {
		return err
	}
	for _, sc := range []jetstream.StreamConfig{l.MailboxStreamConfig(c), l.ChainStreamConfig(c), l.EventsStreamConfig(c), l.TimersStreamConfig(c), l.ChannelsStreamConfig(c)} {
		if sc.Name == l.MailboxStream() {
			keepDepth(ctx, js, &sc)
		}
		if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("transport: ensure stream %s: %w", sc.Name, err)
		}
	}
	for _, kc := range []jetstream.KeyValueConfig{l.ActorsKVConfig(c), l.LeasesKVConfig(c), l.NodesKVConfig(c), l.StoreKVConfig(c), l.RestoreKVConfig(c), l.ChildrenKVConfig(c)} {
		if _, err := js.CreateOrUpdateKeyValue(ctx, kc); err != nil {
			return fmt.Errorf("transport: ensure KV bucket %s: %w", kc.Bucket, err)
		}
	}
	for _, oc := range []jetstream.ObjectStoreConfig{l.ModulesObjectStoreConfig(c), l.StoreValuesObjectStoreConfig(c)} {
		if _, err := js.CreateOrUpdateObjectStore(ctx, oc); err != nil {
			return fmt.Errorf("transport: ensure object store %s: %w", oc.Bucket, err)
		}
	}
	return nil
}

// keepDepth never lowers an existing mailbox stream's per-subject depth:
// JetStream applies a smaller MaxMsgsPerSubject at once by deleting the
// oldest messages of every subject over it, which are acknowledged sends
// nobody has handled yet. Raising it is safe, so the deepest setting any
// node was started with wins; lowering it takes an operator
// (`nats stream edit`) who knows the mailboxes are drained.
func keepDepth(ctx context.Context, js jetstream.JetStream, sc *jetstream.StreamConfig) {
	s, err := js.Stream(ctx, sc.Name)
	if err != nil {
		return // absent: created with the requested depth
	}
	if cur := s.CachedInfo().Config.MaxMsgsPerSubject; cur <= 0 || cur > sc.MaxMsgsPerSubject {
		sc.MaxMsgsPerSubject = cur
	}
}
