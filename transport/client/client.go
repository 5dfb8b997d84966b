package client

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/wire"
	"github.com/theater-go/theater/wit/codec"
)

// DefaultRequestTimeout bounds a request whose context has no deadline,
// unless [WithRequestTimeout] says otherwise.
const DefaultRequestTimeout = 10 * time.Second

// Client talks to a Theater system on NATS: it spawns, stops and lists
// actors, and sends them messages, checked against their types before
// anything is published. It needs no node in its own process, and
// neither wazero nor nats-server in its binary. It is safe for
// concurrent use.
type Client struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	layout  transport.Layout
	timeout time.Duration
	actors  jetstream.KeyValue
	nodes   jetstream.KeyValue
	obs     jetstream.ObjectStore

	mu sync.Mutex
	// types caches resolved types by WIT digest and type references:
	// the WIT of a digest never changes.
	types map[string]wire.Types
	// byID caches each actor's types for Call.
	byID map[string]callEntry
}

// Option sets a knob of [New].
type Option func(*Client)

// WithLayout talks to the system under l instead of the default prefix.
func WithLayout(l transport.Layout) Option { return func(c *Client) { c.layout = l } }

// WithRequestTimeout bounds the requests whose context has no deadline
// (default [DefaultRequestTimeout]).
func WithRequestTimeout(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// New returns a client of the Theater system on nc. The system's buckets
// must exist: some node must have started once. The client does not
// close nc.
func New(ctx context.Context, nc *nats.Conn, opts ...Option) (*Client, error) {
	if nc == nil {
		return nil, fmt.Errorf("%w: client: nil connection", wire.ErrInternal)
	}
	c := &Client{nc: nc, timeout: DefaultRequestTimeout, types: map[string]wire.Types{}, byID: map[string]callEntry{}}
	for _, o := range opts {
		o(c)
	}
	if c.layout.Prefix == "" {
		c.layout.Prefix = transport.DefaultPrefix
	}
	if _, err := transport.NewLayout(c.layout.Prefix); err != nil {
		return nil, fmt.Errorf("client: %w", err) // wraps transport.ErrConfig
	}
	layout := c.layout
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("%w: jetstream: %w", wire.ErrNATS, err)
	}
	c.js = js
	hint := func(err error) error {
		return fmt.Errorf("%w: no Theater system with prefix %q on this server (start a node with `theater serve`): %w",
			wire.ErrUnavailable, layout.Prefix, err)
	}
	if c.actors, err = js.KeyValue(ctx, layout.ActorsBucket()); err != nil {
		return nil, hint(err)
	}
	if c.nodes, err = js.KeyValue(ctx, layout.NodesBucket()); err != nil {
		return nil, hint(err)
	}
	if c.obs, err = js.ObjectStore(ctx, layout.ModulesStore()); err != nil {
		return nil, hint(err)
	}
	return c, nil
}

// SpawnOptions say where and under which id an actor starts.
type SpawnOptions struct {
	// ID is the actor's id; empty generates the manifest's name plus a
	// short random suffix.
	ID string
	// Node starts the actor on that node; empty lets any node take it.
	Node string
}

// SpawnFile loads a manifest file with its module and WIT and spawns it.
// A supervisor agent's child manifests beside it (NAME.toml for each name
// its [capabilities.supervisor] manifests lists) are stored first
// ([Client.PutManifest]), so that it can spawn them.
func (c *Client) SpawnFile(ctx context.Context, path string, opts SpawnOptions) (wire.ActorInfo, error) {
	m, module, witSrc, err := loadFiles(path)
	if err != nil {
		return wire.ActorInfo{}, err
	}
	if err := c.putChildManifests(ctx, path, m); err != nil {
		return wire.ActorInfo{}, err
	}
	return c.Spawn(ctx, m, module, witSrc, opts)
}

// Spawn uploads module and WIT (when not nil) to the object store by
// digest, names them so in the manifest, and asks a node to start the
// actor. A nil module means the manifest names one by digest already.
func (c *Client) Spawn(ctx context.Context, m *manifest.Manifest, module, witSrc []byte, opts SpawnOptions) (wire.ActorInfo, error) {
	if opts.ID == "" {
		opts.ID = m.Name + "-" + randSuffix()
	}
	if err := transport.ValidID(opts.ID); err != nil {
		return wire.ActorInfo{}, fmt.Errorf("%w: %w", wire.ErrInvalidID, err)
	}
	m = m.WithDefaults()
	var err error
	if module != nil {
		if m.Module, err = wire.PutObject(ctx, c.obs, module); err != nil {
			return wire.ActorInfo{}, err
		}
	}
	if witSrc != nil {
		if m.WIT, err = wire.PutObject(ctx, c.obs, witSrc); err != nil {
			return wire.ActorInfo{}, err
		}
	}
	subject := c.layout.ControlSubject(wire.OpSpawn)
	if opts.Node != "" {
		if err := transport.ValidID(opts.Node); err != nil {
			return wire.ActorInfo{}, fmt.Errorf("%w: node: %w", wire.ErrInvalidID, err)
		}
		subject = c.layout.NodeSubject(opts.Node, wire.OpSpawn)
	}
	var info wire.ActorInfo
	err = c.control(ctx, subject, wire.SpawnRequest{ID: opts.ID, Manifest: *m}, &info)
	c.forget(opts.ID)
	return info, err
}

// control sends a JSON control request and decodes the JSON reply into
// out (or copies the bytes when out is *[]byte).
func (c *Client) control(ctx context.Context, subject string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("%w: %w", wire.ErrInternal, err)
	}
	m := nats.NewMsg(subject)
	m.Data = b
	// A spawn may compile a module: control requests get a minute
	// unless ctx says otherwise.
	reply, err := wire.Request(ctx, c.nc, m, time.Minute)
	if errors.Is(err, wire.ErrUnavailable) {
		return fmt.Errorf("%w: no node serves %s; is a node running (`theater serve`) with this --prefix?", wire.ErrUnavailable, subject)
	}
	if err != nil {
		return err
	}
	if p, ok := out.(*[]byte); ok {
		*p = reply.Data
		return nil
	}
	if err := json.Unmarshal(reply.Data, out); err != nil {
		return fmt.Errorf("%w: reply from %s: %w", wire.ErrInternal, subject, err)
	}
	return nil
}

// Entry returns an actor's registry entry.
func (c *Client) Entry(ctx context.Context, id string) (wire.Entry, error) {
	if err := transport.ValidID(id); err != nil {
		return wire.Entry{}, fmt.Errorf("%w: %w", wire.ErrInvalidID, err)
	}
	kve, err := c.actors.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return wire.Entry{}, fmt.Errorf("%w: %q; `theater ls` lists the actors", wire.ErrUnknownActor, id)
	}
	if err != nil {
		return wire.Entry{}, fmt.Errorf("%w: registry: %w", wire.ErrNATS, err)
	}
	var e wire.Entry
	if err := json.Unmarshal(kve.Value(), &e); err != nil {
		return wire.Entry{}, fmt.Errorf("%w: registry entry %q: %w", wire.ErrInternal, id, err)
	}
	return e, nil
}

// running returns the entry of an actor that is not stopped.
func (c *Client) running(ctx context.Context, id string) (wire.Entry, error) {
	e, err := c.Entry(ctx, id)
	if err == nil && e.Status == wire.StatusStopped {
		err = fmt.Errorf("%w: %q; start it again with `theater spawn --id %s`", wire.ErrStopped, id, id)
	}
	if err == nil && e.Status == wire.StatusFailed {
		err = fmt.Errorf("%w: %q; its chain has the failures (`theater log %s`), and `theater spawn --id %s` starts it anew", wire.ErrGaveUp, id, id, id)
	}
	return e, err
}

// Stop stops an actor on the node that hosts it.
func (c *Client) Stop(ctx context.Context, id string) (wire.ActorInfo, error) {
	e, err := c.running(ctx, id)
	if err != nil {
		return wire.ActorInfo{}, err
	}
	var info wire.ActorInfo
	err = c.control(ctx, c.layout.NodeSubject(e.Node, wire.OpStop), wire.ActorRequest{ID: id}, &info)
	c.forget(id)
	return info, err
}

// Remove deletes a stopped actor: its registry entry, the sends left in
// its mailbox and its chain (node.Node.Remove). A running actor is
// refused with [wire.ErrExists]; stop it first.
func (c *Client) Remove(ctx context.Context, id string) (wire.ActorInfo, error) {
	if err := transport.ValidID(id); err != nil {
		return wire.ActorInfo{}, fmt.Errorf("%w: %w", wire.ErrInvalidID, err)
	}
	var info wire.ActorInfo
	err := c.control(ctx, c.layout.ControlSubject(wire.OpRemove), wire.ActorRequest{ID: id}, &info)
	c.forget(id)
	return info, err
}

// Listed is one actor in List.
type Listed struct {
	ID string `json:"id"`
	wire.Entry
}

// List returns the registered actors, running and stopped, by id.
func (c *Client) List(ctx context.Context) ([]Listed, error) {
	keys, err := c.actors.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: registry: %w", wire.ErrNATS, err)
	}
	var out []Listed
	for id := range keys.Keys() {
		e, err := c.Entry(ctx, id)
		if errors.Is(err, wire.ErrUnknownActor) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, Listed{ID: id, Entry: e})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	c.liveMailboxes(ctx, out)
	return out, nil
}

// liveMailboxes sets the mailbox sequence of each running actor in list
// to the one its node handled last: the registry records it only when
// the actor stops or moves. A node that does not answer leaves its
// actors' registry values.
func (c *Client) liveMailboxes(ctx context.Context, list []Listed) {
	nodes := map[string]bool{}
	for _, l := range list {
		if l.Status == wire.StatusRunning && l.Node != "" {
			nodes[l.Node] = true
		}
	}
	live := map[string]uint64{}
	for name := range nodes {
		nctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		var infos []wire.ActorInfo
		if err := c.control(nctx, c.layout.NodeSubject(name, wire.OpList), struct{}{}, &infos); err == nil {
			for _, in := range infos {
				live[in.ID] = in.MailboxSeq
			}
		}
		cancel()
	}
	for i := range list {
		if s, ok := live[list[i].ID]; ok && list[i].Status == wire.StatusRunning {
			list[i].MailboxSeq = max(list[i].MailboxSeq, s)
		}
	}
}

// Nodes returns the live nodes' heartbeats, by name.
func (c *Client) Nodes(ctx context.Context) ([]wire.Heartbeat, error) {
	keys, err := c.nodes.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: nodes: %w", wire.ErrNATS, err)
	}
	var out []wire.Heartbeat
	for name := range keys.Keys() {
		kve, err := c.nodes.Get(ctx, name)
		if err != nil {
			continue // expired meanwhile
		}
		var hb wire.Heartbeat
		if err := json.Unmarshal(kve.Value(), &hb); err == nil {
			out = append(out, hb)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out, nil
}

// typesKey names what an entry's types are resolved from.
func typesKey(e wire.Entry) string {
	return e.Manifest.WIT + "|" + e.Manifest.Types.Send + "|" + e.Manifest.Types.Request + "|" +
		e.Manifest.Types.Reply + "|" + e.Manifest.Types.State
}

// typesOf resolves an entry's types, fetching its WIT once per client.
func (c *Client) typesOf(ctx context.Context, e wire.Entry) (wire.Types, error) {
	key := typesKey(e)
	c.mu.Lock()
	ts, ok := c.types[key]
	c.mu.Unlock()
	if ok {
		return ts, nil
	}
	var witSrc []byte
	if e.Manifest.WIT != "" {
		var err error
		if witSrc, err = wire.GetObject(ctx, c.obs, e.Manifest.WIT); err != nil {
			return wire.Types{}, err
		}
	}
	ts, err := wire.LoadTypes(&e.Manifest, witSrc)
	if err != nil {
		return wire.Types{}, err
	}
	c.mu.Lock()
	c.types[key] = ts
	c.mu.Unlock()
	return ts, nil
}

// Types returns the WIT types of actor id's messages and state, from its
// registry entry and its WIT in the object store (fetched once per WIT
// digest and cached). [Client.Call] uses them from then on.
func (c *Client) Types(ctx context.Context, id string) (wire.Types, error) {
	ce, _, err := c.refresh(ctx, id, callEntry{})
	return ce.types, err
}

// State returns an actor's state in enc: live from its node when it
// runs, else the last recorded one. JSON converts it under the state
// type.
func (c *Client) State(ctx context.Context, id string, enc wire.Encoding) ([]byte, error) {
	e, err := c.Entry(ctx, id)
	if err != nil {
		return nil, err
	}
	state := e.State
	if e.Status == wire.StatusRunning {
		if err := c.control(ctx, c.layout.NodeSubject(e.Node, wire.OpState), wire.ActorRequest{ID: id}, &state); err != nil {
			return nil, err
		}
	}
	if enc != wire.JSON {
		return state, nil
	}
	ts, err := c.typesOf(ctx, e)
	if err != nil {
		return nil, err
	}
	if ts.State == nil {
		return nil, fmt.Errorf("%w: actor %q declares no state type; ask for msgpack instead", wire.ErrBadType, id)
	}
	js, err := codec.ToJSON(ts.State, state)
	if err != nil {
		return nil, fmt.Errorf("%w: state: %w", wire.ErrInternal, err)
	}
	return js, nil
}

// Send checks payload (in enc) against the actor's send type,
// transcoding JSON to msgpack, and publishes it durably; it returns once
// JetStream stored it. Nothing is published for an unknown or stopped
// actor or a payload that does not fit.
func (c *Client) Send(ctx context.Context, id string, payload []byte, enc wire.Encoding) error {
	e, err := c.running(ctx, id)
	if err != nil {
		return err
	}
	ts, err := c.typesOf(ctx, e)
	if err != nil {
		return err
	}
	if ts.Send == nil {
		return fmt.Errorf("%w: actor %q takes no sends (its manifest has no types.send)", wire.ErrBadType, id)
	}
	msg, err := wire.CheckPayload(payload, enc, ts.Send, e.Manifest.Limits.MaxMessageBytes)
	if err != nil {
		return err
	}
	m := nats.NewMsg(c.layout.SendSubject(id))
	m.Data = msg
	return wire.PublishSend(ctx, c.js, m, "")
}

// Request sends a request in enc and waits for the reply, in the same
// encoding. The node checks and transcodes it. A ctx without a deadline
// waits at most the client's request timeout ([WithRequestTimeout]).
func (c *Client) Request(ctx context.Context, id string, payload []byte, enc wire.Encoding) ([]byte, error) {
	if err := transport.ValidID(id); err != nil {
		return nil, fmt.Errorf("%w: %w", wire.ErrInvalidID, err)
	}
	// wire.Request adds the deadline header.
	m := &nats.Msg{Subject: c.layout.RequestSubject(id), Data: payload}
	if enc == wire.JSON {
		m.Header = nats.Header{wire.ContentTypeHeader: []string{wire.ContentJSON}}
	}
	return c.request(ctx, id, m)
}

// request sends a request to actor id and returns the reply's payload.
func (c *Client) request(ctx context.Context, id string, m *nats.Msg) ([]byte, error) {
	reply, err := wire.Request(ctx, c.nc, m, c.timeout)
	if errors.Is(err, wire.ErrUnavailable) {
		// Say why nothing answered: the registry knows.
		if _, rerr := c.running(ctx, id); rerr != nil {
			return nil, rerr
		}
		return nil, fmt.Errorf("%w: actor %q is registered but no node hosts it now; `theater nodes` shows the live nodes", wire.ErrUnavailable, id)
	}
	if errors.Is(err, nats.ErrMaxPayload) {
		return nil, fmt.Errorf("%w: request to %q: %d bytes exceed the server's max_payload of %d: %w",
			wire.ErrTooLarge, id, len(m.Data), c.nc.MaxPayload(), err)
	}
	if err != nil {
		return nil, err
	}
	return reply.Data, nil
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
