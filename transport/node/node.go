package node

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/chainstore"
	"github.com/theater-go/theater/transport/wire"
)

// Version is the node's version in its micro service info.
const Version = "0.1.0"

// Config configures a node. Conn and Runtime are required; the rest has
// defaults. It is plain data a caller fills in; the node does not close
// what it is given.
type Config struct {
	// Conn is the node's connection (transport.Connect, or to an
	// embedded.Start server).
	Conn *nats.Conn
	// Runtime runs the node's actors. It may run other actors of the
	// caller's too; the node stops only its own, and Close leaves the
	// runtime open. Its options (cache dir, logger, limits) are the
	// caller's choice.
	Runtime *actor.Runtime
	// Layout names everything on NATS; the zero value is the default
	// prefix.
	Layout transport.Layout
	// Store tunes the streams and buckets the node ensures at start.
	Store transport.StoreConfig
	// Name is the node's name, a transport.ValidID; empty means the host
	// name with a random suffix. A node restarted under the same name
	// takes its actors back at once.
	Name string
	// SnapshotEvery is how many handled events pass between two
	// snapshots of an actor's full state in its chain (default
	// DefaultSnapshotEvery); a restore reads the last snapshot and runs
	// the events after it again. Actors are also snapshotted when they
	// stop or the node shuts down.
	SnapshotEvery int
	// Labels describe the node in its heartbeat (for placement).
	Labels map[string]string
	// Logger receives the node's log; ActorLogger the actors' log lines
	// (both default to slog.Default).
	Logger      *slog.Logger
	ActorLogger *slog.Logger
	// SpawnTimeout bounds one spawn's work (lease, compile, instantiate,
	// registry), whatever its caller's deadline; default
	// DefaultSpawnTimeout.
	SpawnTimeout time.Duration
	// Metrics, when set, receives the node's Prometheus metrics
	// (metrics.go; docs/NATS.md lists them), each with a node label.
	Metrics prometheus.Registerer
	// Secrets supplies the secrets actors' manifests name for the config
	// capability; nil reads them from the environment, secret "api_key"
	// from THEATER_SECRET_API_KEY (actor.EnvSecrets). The chain records
	// their digests only.
	Secrets actor.SecretSource
}

// DefaultSpawnTimeout is Config.SpawnTimeout's default.
const DefaultSpawnTimeout = time.Minute

// Node hosts actors on NATS: it answers their requests, feeds them their
// durable mailboxes, keeps their registry entries and serves the control
// endpoints of the micro service. It is safe for concurrent use.
type Node struct {
	cfg    Config
	name   string
	log    *slog.Logger
	nc     *nats.Conn
	js     jetstream.JetStream
	actors jetstream.KeyValue
	leases jetstream.KeyValue
	points points // the restore bucket, opened at first use (restorepoint.go)
	nodes  jetstream.KeyValue
	store  *chainstore.Store
	obs    jetstream.ObjectStore
	rt     *actor.Runtime
	svc    micro.Service
	router *Router
	reads  mailboxReads // the pumps' direct gets (mailbox.go)
	// mailbox is the mailbox stream's handle, looked up once: a lookup
	// is a stream info request, which a purge has no need of.
	mailbox jetstream.Stream

	// ctx lives until Close; background work and handlers derive from it.
	ctx    context.Context
	cancel context.CancelFunc
	bg     sync.WaitGroup
	// ctl counts the control requests running aside (endpoint), of which
	// ctlSlots admits maxControl at once.
	ctl      sync.WaitGroup
	ctlSlots chan struct{}
	// spawnSlots admits the compiles and instantiations of spawns, which
	// use a core each, GOMAXPROCS at once.
	spawnSlots chan struct{}
	metrics    *metrics // nil without Config.Metrics

	mu     sync.Mutex
	hosted map[string]*hosted
	// leased are the leases this node holds, renewed with its heartbeat;
	// an actor's lease is taken before it is hosted.
	leased map[string]*lease
	// starting reserves the ids of actors being started.
	starting map[string]bool
	closing  bool
	// compiled holds the digests the runtime has compiled, so a second
	// actor of a module skips the object store.
	compiled map[actor.Digest]bool
	sv       nodeSupervision // the root supervisor (supervise.go)
	caps     supCaps         // the supervisor capability (supcap.go)
	started  time.Time
	kick     chan struct{}
	// sweeping is set while a sweep for orphaned actors runs, so ticks
	// never stack them.
	sweeping atomic.Bool
	// snapshotEvery is Config.SnapshotEvery resolved; depth the mailbox
	// stream's per-subject limit.
	snapshotEvery int
	depth         int64

	storeFields // the store capability's bucket (store.go)
	timerFields // the timer capability's stream (timer.go)

	channelFields // the channel capability's stream (channel.go)
}

// Start starts a node: it ensures the layout, starts the runtime and the
// micro service, beats into the nodes bucket and takes back the actors
// that the registry says it owns (a restart after a crash).
func Start(ctx context.Context, cfg Config) (*Node, error) {
	if cfg.Conn == nil {
		return nil, fmt.Errorf("%w: Config.Conn is nil", ErrConfig)
	}
	if cfg.Runtime == nil {
		return nil, fmt.Errorf("%w: Config.Runtime is nil", ErrConfig)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ActorLogger == nil {
		cfg.ActorLogger = cfg.Logger
	}
	if cfg.Layout.Prefix == "" {
		cfg.Layout.Prefix = transport.DefaultPrefix
	}
	if _, err := transport.NewLayout(cfg.Layout.Prefix); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if cfg.Name == "" {
		cfg.Name = defaultName()
	}
	if err := transport.ValidID(cfg.Name); err != nil {
		return nil, fmt.Errorf("%w: node name: %w", wire.ErrInvalidID, err)
	}
	n := &Node{cfg: cfg, name: cfg.Name, nc: cfg.Conn, log: cfg.Logger.With("node", cfg.Name),
		rt: cfg.Runtime, hosted: map[string]*hosted{}, leased: map[string]*lease{}, starting: map[string]bool{}, compiled: map[actor.Digest]bool{}, started: time.Now(), kick: make(chan struct{}, 1), ctlSlots: make(chan struct{}, maxControl),
		spawnSlots: make(chan struct{}, runtime.GOMAXPROCS(0))}
	var err error
	if n.js, err = jetstream.New(n.nc); err != nil {
		return nil, fmt.Errorf("%w: jetstream: %w", wire.ErrNATS, err)
	}
	if err := cfg.Layout.Ensure(ctx, n.js, cfg.Store); errors.Is(err, transport.ErrConfig) { // a bad Store
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	} else if err != nil {
		return nil, fmt.Errorf("%w: %w", wire.ErrNATS, err)
	}
	if n.actors, err = n.js.KeyValue(ctx, cfg.Layout.ActorsBucket()); err != nil {
		return nil, fmt.Errorf("%w: %w", wire.ErrNATS, err)
	}
	if n.leases, err = n.js.KeyValue(ctx, cfg.Layout.LeasesBucket()); err != nil {
		return nil, fmt.Errorf("%w: %w", wire.ErrNATS, err)
	}
	if n.store, err = chainstore.New(ctx, n.js, cfg.Layout); err != nil {
		return nil, fmt.Errorf("%w: %w", wire.ErrNATS, err)
	}
	mb, err := n.js.Stream(ctx, cfg.Layout.MailboxStream())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", wire.ErrNATS, err)
	}
	n.depth = mb.CachedInfo().Config.MaxMsgsPerSubject
	n.mailbox = mb
	n.snapshotEvery = cfg.SnapshotEvery
	if n.snapshotEvery <= 0 {
		n.snapshotEvery = DefaultSnapshotEvery
	}
	if n.nodes, err = n.js.KeyValue(ctx, cfg.Layout.NodesBucket()); err != nil {
		return nil, fmt.Errorf("%w: %w", wire.ErrNATS, err)
	}
	if n.obs, err = n.js.ObjectStore(ctx, cfg.Layout.ModulesStore()); err != nil {
		return nil, fmt.Errorf("%w: %w", wire.ErrNATS, err)
	}
	n.router = &Router{nc: n.nc, js: n.js, actors: n.actors, layout: cfg.Layout}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	if n.metrics, err = newMetrics(cfg.Metrics, n); err != nil {
		n.cancel()
		return nil, fmt.Errorf("%w: metrics: %w", ErrConfig, err)
	}
	if err := n.beat(ctx); err != nil {
		n.abort(ctx)
		return nil, err
	}
	if n.svc, err = n.startService(); err != nil {
		n.abort(ctx)
		return nil, err
	}
	// Watch before adopting, so a node that dies in between is seen.
	w, err := n.nodes.WatchAll(n.ctx, jetstream.UpdatesOnly())
	if err != nil {
		n.abort(ctx)
		return nil, fmt.Errorf("%w: watch nodes: %w", wire.ErrNATS, err)
	}
	// The heartbeat runs before adoption and never waits on it: resuming
	// many actors (Go guests compile for seconds) must not let this
	// node's entry lapse and its actors be taken mid-resume.
	n.bg.Add(1)
	go n.heartbeat()
	if err := n.adopt(ctx, "", true); err != nil {
		_ = w.Stop()
		n.abort(ctx)
		return nil, err
	}
	n.bg.Add(1)
	go n.watchNodes(w)
	n.log.Info("node started", "prefix", cfg.Layout.Prefix, "server", n.nc.ConnectedUrlRedacted())
	return n, nil
}

// abort undoes a Start that failed half-way, stopping any actor it
// resumed: the runtime is the caller's and outlives the node.
func (n *Node) abort(ctx context.Context) {
	n.cancel()
	n.metrics.close()
	if n.svc != nil {
		_ = n.svc.Stop()
	}
	n.mu.Lock()
	n.closing = true
	n.mu.Unlock()
	n.ctl.Wait()
	n.mu.Lock()
	hs := make([]*hosted, 0, len(n.hosted))
	for _, h := range n.hosted {
		hs = append(hs, h)
	}
	n.mu.Unlock()
	for _, h := range hs {
		_ = h.detach(ctx)
	}
	n.mu.Lock()
	ls := make([]*lease, 0, len(n.leased))
	for _, l := range n.leased {
		ls = append(ls, l)
	}
	n.mu.Unlock()
	for _, l := range ls {
		n.releaseLease(ctx, l)
	}
	n.reads.close()
}

func defaultName() string {
	host, _ := os.Hostname()
	host = strings.Map(func(r rune) rune {
		if r < 128 && (r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return r
		}
		return '-'
	}, host)
	if host == "" || len(host) > 64 {
		host = "node"
	}
	return host + "-" + randSuffix()
}

// randSuffix is 6 lowercase letters and digits: short enough to type,
// enough to make collisions among one system's names unlikely.
func randSuffix() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// Name returns the node's name.
func (n *Node) Name() string { return n.name }

// Router returns the node's actor.Router over NATS.
func (n *Node) Router() *Router { return n.router }

// status is the node's heartbeat as of now.
func (n *Node) status() wire.Heartbeat {
	n.mu.Lock()
	count := len(n.hosted)
	n.mu.Unlock()
	return wire.Heartbeat{Node: n.name, Version: Version, Labels: n.cfg.Labels, Actors: count,
		Live: n.rt.Live(), Started: n.started, Beat: time.Now().UTC()}
}

func (n *Node) beat(ctx context.Context) error {
	b, _ := json.Marshal(n.status())
	if _, err := n.nodes.Put(ctx, n.name, b); err != nil {
		return fmt.Errorf("%w: heartbeat: %w", wire.ErrNATS, err)
	}
	return nil
}

// beatSoon makes the heartbeat show a change in the node's actors now
// rather than at the next tick.
func (n *Node) beatSoon() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

func (n *Node) ttl() time.Duration {
	if t := n.cfg.Store.NodeTTL; t > 0 {
		return t
	}
	return transport.DefaultNodeTTL
}

// purgeEvery is how many durably handled sends an actor's mailbox keeps
// before they are purged: a quarter of the depth at most, so handled
// sends never crowd out new ones.
func (n *Node) purgeEvery() int {
	if n.depth > 0 && n.depth/4 < purgeEvery {
		return int(max(1, n.depth/4))
	}
	return purgeEvery
}

// heartbeat beats three times per TTL, so one lost beat does not make
// the node look dead, and renews the node's leases after each beat that
// landed. Once per TTL it also sweeps for orphaned actors.
func (n *Node) heartbeat() {
	defer n.bg.Done()
	t := time.NewTicker(n.ttl() / 3)
	defer t.Stop()
	ticks := 0
	for {
		tick := false
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
			tick = true
		case <-n.kick:
		}
		// Beat first, and never wait on an actor: a handler may run for
		// its whole deadline (up to 10 minutes), and a node whose key
		// expires meanwhile loses all its actors to the others. A lease
		// is renewed only in a round whose beat landed, and its term
		// counts from before the beat (see leaseTerm).
		start := time.Now()
		if err := n.beat(n.ctx); err != nil {
			if n.ctx.Err() == nil {
				n.log.Warn("heartbeat failed", "err", err)
			}
			continue
		}
		if !tick {
			continue
		}
		n.renewAll(start)
		if ticks++; ticks%3 == 0 && n.sweeping.CompareAndSwap(false, true) {
			// Its own goroutine: a slow takeover delays no beat.
			n.bg.Add(1)
			go func() {
				defer n.bg.Done()
				defer n.sweeping.Store(false)
				if err := n.adopt(n.ctx, "", false); err != nil && n.ctx.Err() == nil {
					n.log.Warn("sweep for orphaned actors failed", "err", err)
				}
			}()
		}
	}
}

// adopt takes and resumes the running actors nobody holds: their lease is
// missing (given back, or a takeover that failed released it) or held by
// a node without a heartbeat, or by dead (a node seen to die). At start
// (atStart) it also takes the leases held under this node's name by an
// earlier process: a restart under the same name takes its actors back
// at once. Each actor resumes from its chain.
func (n *Node) adopt(ctx context.Context, dead string, atStart bool) error {
	ctx, trees := collectTrees(ctx) // trees of the actors taken are rebuilt after (tree.go)
	defer n.rebuildTrees(ctx, trees)
	keys, err := n.actors.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("%w: list actors: %w", wire.ErrNATS, err)
	}
	alive := map[string]bool{}
	for id := range keys.Keys() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		n.mu.Lock()
		mine := n.leased[id] != nil || n.hosted[id] != nil || n.starting[id]
		n.mu.Unlock()
		if mine {
			continue
		}
		e, _, err := n.entry(ctx, id)
		if err != nil || e.Status != wire.StatusRunning {
			continue
		}
		v, rev, ok, err := n.readLease(ctx, id)
		if err != nil {
			continue
		}
		take := !ok || v.Node == dead && dead != "" || v.Node == n.name && atStart
		if !take && v.Node != n.name {
			if _, known := alive[v.Node]; !known {
				_, err := n.nodes.Get(ctx, v.Node)
				alive[v.Node] = err == nil || !errors.Is(err, jetstream.ErrKeyNotFound)
			}
			take = !alive[v.Node]
		}
		if !take {
			continue
		}
		// Of several survivors, the one whose create or update lands
		// first at this revision wins; the others skip.
		// An earlier process under this name may still be serving the
		// actor: compile and read while it does, so the actor goes
		// unanswered only from the fence on. Otherwise nobody serves it,
		// and the lease comes first, so no node takes it mid-resume.
		var prep *restored
		twin := ok && v.Node == n.name && atStart
		if twin {
			prep = n.prepare(ctx, id, e)
		}
		l, err := n.takeLease(ctx, id, rev)
		for try := 0; twin && errors.Is(err, wire.ErrExists) && try < 3; try++ {
			// The earlier process renewed its lease while this one
			// prepared (a long chain, a Go guest compiling under load):
			// take it at the revision it renewed to, while it is still
			// held under this name.
			if v, rev, ok, err = n.readLease(ctx, id); err != nil || !ok || v.Node != n.name {
				break
			}
			l, err = n.takeLease(ctx, id, rev)
		}
		if err != nil || l == nil {
			continue
		}
		if err := n.hostFrom(ctx, id, e, l, false, 0, prep); err != nil {
			// Give the lease back, so this node or another takes the
			// actor again at the next sweep instead of it being held
			// and hosted nowhere.
			if errors.Is(err, wire.ErrGaveUp) || errors.Is(err, wire.ErrStopped) {
				n.log.Info("not resuming an ended actor", "actor", id, "why", err)
			} else {
				n.log.Error("cannot resume actor; released it", "actor", id, "err", err)
			}
			n.releaseLease(ctx, l)
			continue
		}
		if v.Node != n.name || e.Node != n.name {
			n.log.Info("took over actor", "actor", id, "from", v.Node)
			e.Node, e.Updated = n.name, time.Now().UTC()
			if b, err := json.Marshal(e); err == nil {
				_, _ = n.actors.Put(ctx, id, b)
			}
		}
	}
	return nil
}

// watchNodes claims the actors of every node whose heartbeat disappears:
// deleted at its graceful shutdown, or expired after NodeTTL, which the
// bucket's limit markers make visible here as a purge.
func (n *Node) watchNodes(w jetstream.KeyWatcher) {
	defer n.bg.Done()
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-n.ctx.Done():
			return
		case u, ok := <-w.Updates():
			if !ok {
				return
			}
			if u == nil || u.Key() == n.name || u.Operation() == jetstream.KeyValuePut {
				continue
			}
			if err := n.adopt(n.ctx, u.Key(), false); err != nil && n.ctx.Err() == nil {
				n.log.Warn("cannot claim actors of a dead node", "node", u.Key(), "err", err)
			}
		}
	}
}

func (n *Node) entry(ctx context.Context, id string) (wire.Entry, uint64, error) {
	kve, err := n.actors.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return wire.Entry{}, 0, fmt.Errorf("%w: %q", wire.ErrUnknownActor, id)
	}
	if err != nil {
		return wire.Entry{}, 0, fmt.Errorf("%w: registry: %w", wire.ErrNATS, err)
	}
	var e wire.Entry
	if err := json.Unmarshal(kve.Value(), &e); err != nil {
		return wire.Entry{}, 0, fmt.Errorf("%w: registry entry %q: %w", wire.ErrInternal, id, err)
	}
	return e, kve.Revision(), nil
}

// event publishes a lifecycle event. It is a core publish, captured by the
// events stream: events are a feed, and waiting for JetStream's ack on
// every one would slow the actor for nothing the feed needs.
func (n *Node) event(id, kind, detail string) {
	b, _ := json.Marshal(wire.Event{Actor: id, Kind: kind, Node: n.name, Time: time.Now().UTC(), Detail: detail})
	m := nats.NewMsg(n.cfg.Layout.EventSubject(id, kind))
	m.Header.Set(wire.EventHeader, kind)
	m.Header.Set(wire.NodeHeader, n.name)
	m.Data = b
	if err := n.nc.PublishMsg(m); err != nil {
		n.log.Warn("cannot publish event", "actor", id, "kind", kind, "err", err)
	}
}

// Close shuts the node down gracefully: it stops answering control
// requests, stops taking messages, lets each actor finish its current
// handler (or, once ctx ends, kills it, aborting that handler), snapshots
// it in its chain, waits until every event is durable
// and its effects released, gives back its lease and removes the
// heartbeat. Other live nodes then take the actors; when none is alive
// they stay registered to this node, for a restart (under any name) to
// resume. The connection is flushed, not closed, and the runtime left
// open.
func (n *Node) Close(ctx context.Context) error {
	n.mu.Lock()
	if n.closing {
		n.mu.Unlock()
		return nil
	}
	n.closing = true
	hs := make([]*hosted, 0, len(n.hosted))
	for _, h := range n.hosted {
		hs = append(hs, h)
	}
	n.mu.Unlock()
	errs := []error{n.svc.Stop()}
	for _, h := range hs {
		errs = append(errs, h.detach(ctx))
	}
	n.stopRoot(ctx)
	n.cancel()
	n.ctl.Wait()
	n.bg.Wait()
	n.reads.close()
	if err := n.nodes.Delete(ctx, n.name); err != nil {
		errs = append(errs, fmt.Errorf("%w: remove heartbeat: %w", wire.ErrNATS, err))
	}
	fctx := ctx
	if _, ok := ctx.Deadline(); !ok { // FlushWithContext insists on one
		var cancel context.CancelFunc
		fctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	if err := n.nc.FlushWithContext(fctx); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		errs = append(errs, fmt.Errorf("%w: flush: %w", wire.ErrNATS, err))
	}
	n.metrics.close()
	n.log.Info("node stopped")
	return errors.Join(errs...)
}
