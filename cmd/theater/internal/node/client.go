package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/wit/codec"
)

// DefaultRequestTimeout bounds a request when the caller gives none.
const DefaultRequestTimeout = 10 * time.Second

// Client talks to a Theater system on NATS: it spawns, stops and lists
// actors, and sends them messages, checked against their types before
// anything is published. It is what the CLI uses; it needs no node in its
// own process.
type Client struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	layout transport.Layout
	actors jetstream.KeyValue
	nodes  jetstream.KeyValue
	obs    jetstream.ObjectStore

	mu    sync.Mutex
	types map[string]actor.Types // by WIT digest and type references
}

// NewClient connects a client to the system under layout on nc. The
// system's buckets must exist: some node must have started once.
func NewClient(ctx context.Context, nc *nats.Conn, layout transport.Layout) (*Client, error) {
	if layout.Prefix == "" {
		layout.Prefix = transport.DefaultPrefix
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("%w: jetstream: %w", ErrNATS, err)
	}
	c := &Client{nc: nc, js: js, layout: layout, types: map[string]actor.Types{}}
	hint := func(err error) error {
		return fmt.Errorf("%w: no Theater system with prefix %q on this server (start a node with `theater serve`): %w",
			ErrUnavailable, layout.Prefix, err)
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
func (c *Client) SpawnFile(ctx context.Context, path string, opts SpawnOptions) (ActorInfo, error) {
	m, err := manifest.Load(path)
	if err != nil {
		return ActorInfo{}, fmt.Errorf("%w: %w", ErrBadManifest, err)
	}
	var module, witSrc []byte
	if _, ok := m.ModuleDigest(); !ok {
		if module, err = os.ReadFile(m.Module); err != nil {
			return ActorInfo{}, fmt.Errorf("%w: module: %w", ErrBadManifest, err)
		}
	}
	if m.WIT != "" {
		if fi, err := os.Stat(m.WIT); err == nil && fi.IsDir() {
			return ActorInfo{}, fmt.Errorf("%w: wit %q is a directory; a node takes one .wit file for now", ErrBadManifest, m.WIT)
		}
		if witSrc, err = os.ReadFile(m.WIT); err != nil {
			return ActorInfo{}, fmt.Errorf("%w: wit: %w", ErrBadManifest, err)
		}
	}
	return c.Spawn(ctx, m, module, witSrc, opts)
}

// Spawn uploads module and WIT (when not nil) to the object store by
// digest, names them so in the manifest, and asks a node to start the
// actor. A nil module means the manifest names one by digest already.
func (c *Client) Spawn(ctx context.Context, m *manifest.Manifest, module, witSrc []byte, opts SpawnOptions) (ActorInfo, error) {
	if opts.ID == "" {
		opts.ID = m.Name + "-" + randSuffix()
	}
	if err := transport.ValidID(opts.ID); err != nil {
		return ActorInfo{}, fmt.Errorf("%w: %w", ErrInvalidID, err)
	}
	m = m.WithDefaults()
	var err error
	if module != nil {
		if m.Module, err = putObject(ctx, c.obs, module); err != nil {
			return ActorInfo{}, err
		}
	}
	if witSrc != nil {
		if m.WIT, err = putObject(ctx, c.obs, witSrc); err != nil {
			return ActorInfo{}, err
		}
	}
	subject := c.layout.ControlSubject(OpSpawn)
	if opts.Node != "" {
		if err := transport.ValidID(opts.Node); err != nil {
			return ActorInfo{}, fmt.Errorf("%w: node: %w", ErrInvalidID, err)
		}
		subject = c.layout.NodeSubject(opts.Node, OpSpawn)
	}
	var info ActorInfo
	err = c.control(ctx, subject, SpawnRequest{ID: opts.ID, Manifest: *m}, &info)
	return info, err
}

// control sends a JSON control request and decodes the JSON reply into
// out (or copies the bytes when out is *[]byte).
func (c *Client) control(ctx context.Context, subject string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInternal, err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Minute)
		defer cancel()
	}
	m := nats.NewMsg(subject)
	m.Data = b
	reply, err := request(ctx, c.nc, m)
	if errors.Is(err, ErrUnavailable) {
		return fmt.Errorf("%w: no node serves %s; is a node running (`theater serve`) with this --prefix?", ErrUnavailable, subject)
	}
	if err != nil {
		return err
	}
	if p, ok := out.(*[]byte); ok {
		*p = reply.Data
		return nil
	}
	if err := json.Unmarshal(reply.Data, out); err != nil {
		return fmt.Errorf("%w: reply from %s: %w", ErrInternal, subject, err)
	}
	return nil
}

// Entry returns an actor's registry entry.
func (c *Client) Entry(ctx context.Context, id string) (Entry, error) {
	if err := transport.ValidID(id); err != nil {
		return Entry{}, fmt.Errorf("%w: %w", ErrInvalidID, err)
	}
	kve, err := c.actors.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Entry{}, fmt.Errorf("%w: %q; `theater ls` lists the actors", ErrUnknownActor, id)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("%w: registry: %w", ErrNATS, err)
	}
	var e Entry
	if err := json.Unmarshal(kve.Value(), &e); err != nil {
		return Entry{}, fmt.Errorf("%w: registry entry %q: %w", ErrInternal, id, err)
	}
	return e, nil
}

// running returns the entry of an actor that is not stopped.
func (c *Client) running(ctx context.Context, id string) (Entry, error) {
	e, err := c.Entry(ctx, id)
	if err == nil && e.Status == StatusStopped {
		err = fmt.Errorf("%w: %q; start it again with `theater spawn --id %s`", ErrStopped, id, id)
	}
	return e, err
}

// Stop stops an actor on the node that hosts it.
func (c *Client) Stop(ctx context.Context, id string) (ActorInfo, error) {
	e, err := c.running(ctx, id)
	if err != nil {
		return ActorInfo{}, err
	}
	var info ActorInfo
	err = c.control(ctx, c.layout.NodeSubject(e.Node, OpStop), ActorRequest{ID: id}, &info)
	return info, err
}

// Listed is one actor in List.
type Listed struct {
	ID string `json:"id"`
	Entry
}

// List returns the registered actors, running and stopped, by id.
func (c *Client) List(ctx context.Context) ([]Listed, error) {
	keys, err := c.actors.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: registry: %w", ErrNATS, err)
	}
	var out []Listed
	for id := range keys.Keys() {
		e, err := c.Entry(ctx, id)
		if errors.Is(err, ErrUnknownActor) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, Listed{ID: id, Entry: e})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Nodes returns the live nodes' heartbeats, by name.
func (c *Client) Nodes(ctx context.Context) ([]Heartbeat, error) {
	keys, err := c.nodes.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: nodes: %w", ErrNATS, err)
	}
	var out []Heartbeat
	for name := range keys.Keys() {
		kve, err := c.nodes.Get(ctx, name)
		if err != nil {
			continue // expired meanwhile
		}
		var hb Heartbeat
		if err := json.Unmarshal(kve.Value(), &hb); err == nil {
			out = append(out, hb)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out, nil
}

// typesOf resolves an entry's types, fetching its WIT once per client.
func (c *Client) typesOf(ctx context.Context, e Entry) (actor.Types, error) {
	key := e.Manifest.WIT + "|" + e.Manifest.Types.Send + "|" + e.Manifest.Types.Request + "|" +
		e.Manifest.Types.Reply + "|" + e.Manifest.Types.State
	c.mu.Lock()
	ts, ok := c.types[key]
	c.mu.Unlock()
	if ok {
		return ts, nil
	}
	var witSrc []byte
	if e.Manifest.WIT != "" {
		var err error
		if witSrc, err = getObject(ctx, c.obs, e.Manifest.WIT); err != nil {
			return actor.Types{}, err
		}
	}
	ts, err := loadTypes(&e.Manifest, witSrc)
	if err != nil {
		return actor.Types{}, err
	}
	c.mu.Lock()
	c.types[key] = ts
	c.mu.Unlock()
	return ts, nil
}

// State returns an actor's state: live from its node when it runs, else
// the last recorded one. asJSON converts it under the state type.
func (c *Client) State(ctx context.Context, id string, asJSON bool) ([]byte, error) {
	e, err := c.Entry(ctx, id)
	if err != nil {
		return nil, err
	}
	state := e.State
	if e.Status == StatusRunning {
		if err := c.control(ctx, c.layout.NodeSubject(e.Node, OpState), ActorRequest{ID: id}, &state); err != nil {
			return nil, err
		}
	}
	if !asJSON {
		return state, nil
	}
	ts, err := c.typesOf(ctx, e)
	if err != nil {
		return nil, err
	}
	if ts.State == nil {
		return nil, fmt.Errorf("%w: actor %q declares no state type; ask for msgpack instead", ErrBadType, id)
	}
	js, err := codec.ToJSON(ts.State, state)
	if err != nil {
		return nil, fmt.Errorf("%w: state: %w", ErrInternal, err)
	}
	return js, nil
}

// Send checks payload against the actor's send type (transcoding JSON to
// msgpack) and publishes it durably; it returns once JetStream stored it.
// Nothing is published for an unknown or stopped actor or a payload that
// does not fit.
func (c *Client) Send(ctx context.Context, id string, payload []byte, asJSON bool) error {
	e, err := c.running(ctx, id)
	if err != nil {
		return err
	}
	ts, err := c.typesOf(ctx, e)
	if err != nil {
		return err
	}
	if ts.Send == nil {
		return fmt.Errorf("%w: actor %q takes no sends (its manifest has no types.send)", ErrBadType, id)
	}
	msg, err := decode(payload, asJSON, ts.Send, e.Manifest.Limits.MaxMessageBytes)
	if err != nil {
		return err
	}
	m := nats.NewMsg(c.layout.SendSubject(id))
	m.Data = msg
	return publishSend(ctx, c.js, m, "")
}

// Request sends a request and waits for the reply, in the payload's
// encoding. The node checks and transcodes it. timeout 0 means
// DefaultRequestTimeout.
func (c *Client) Request(ctx context.Context, id string, payload []byte, asJSON bool, timeout time.Duration) ([]byte, error) {
	if err := transport.ValidID(id); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidID, err)
	}
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	m := nats.NewMsg(c.layout.RequestSubject(id))
	m.Data = payload
	if asJSON {
		m.Header.Set(ContentTypeHeader, ContentJSON)
	}
	reply, err := request(ctx, c.nc, m)
	if errors.Is(err, ErrUnavailable) {
		// Say why nothing answered: the registry knows.
		if _, rerr := c.running(ctx, id); rerr != nil {
			return nil, rerr
		}
		return nil, fmt.Errorf("%w: actor %q is registered but no node hosts it now; `theater nodes` shows the live nodes", ErrUnavailable, id)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("node: request to %q: no reply within %s: %w", id, timeout, err)
	}
	if err != nil {
		return nil, err
	}
	return reply.Data, nil
}
