package actor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/supervisor"
)

// LocalSupervision is the [Supervision] for tests and single-node
// embeddings, as [LocalRouter] is the Router: each parent's children are
// actors of the same [Runtime], run under a real [supervisor.Supervisor]
// of the parent's own (strategy, intensity, period and backoff from its
// [SupervisorGrant]), so permanent and transient children are restarted
// by OTP's rules and temporary ones are left to the parent.
//
// When a child ends on its own, or a delayed start fails, the parent
// gets a supervisor.child-event ([ChildEvent]) through [Actor.Send]: in
// its mailbox, in order with its other messages, so a replay sees it as
// an input. Stops the parent or its supervisor ask for are not reported.
// The last state of every child is kept per parent and id, so that a
// child spawned again from last resumes from it.
//
// The owner calls [LocalSupervision.Release] when a parent ends, which
// stops its children.
type LocalSupervision struct {
	rt     *Runtime
	router Router
	clock  supervisor.Clock
	sink   supervisor.EventSink

	mu        sync.Mutex
	templates map[string]Spec
	parents   map[string]*parentTree
}

// SupervisionOption configures a [LocalSupervision].
type SupervisionOption func(*LocalSupervision)

// WithChildRouter sets the Router of children spawned from a module
// digest; the default is a [LocalRouter] over the runtime.
func WithChildRouter(r Router) SupervisionOption {
	return func(l *LocalSupervision) { l.router = r }
}

// WithSupervisionClock sets the clock of the parents' supervisors and of
// delayed starts; the default is the system clock.
func WithSupervisionClock(c supervisor.Clock) SupervisionOption {
	return func(l *LocalSupervision) { l.clock = c }
}

// WithSupervisionEvents sets where the parents' supervisors' events go.
func WithSupervisionEvents(s supervisor.EventSink) SupervisionOption {
	return func(l *LocalSupervision) { l.sink = s }
}

// NewLocalSupervision returns a supervision over rt's actors.
func NewLocalSupervision(rt *Runtime, opts ...SupervisionOption) *LocalSupervision {
	l := &LocalSupervision{rt: rt, router: NewLocalRouter(rt), clock: sysClock{},
		sink:      supervisor.EventSinkFunc(func(supervisor.Event) {}),
		templates: map[string]Spec{}, parents: map[string]*parentTree{}}
	for _, o := range opts {
		o(l)
	}
	return l
}

type sysClock struct{}

func (sysClock) Now() time.Time { return time.Now() }
func (sysClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

// Register makes a manifest name spawnable: a child spawned from it gets
// a copy of spec with the child's id (spec.ID and its OnExit are
// ignored).
func (l *LocalSupervision) Register(name string, spec Spec) {
	l.mu.Lock()
	l.templates[name] = spec
	l.mu.Unlock()
}

// parentTree is one parent's children.
type parentTree struct {
	id  string
	sup *supervisor.Supervisor
	// children are the spawned children by id, running or not, until they
	// are stopped or (temporary) end; pending holds the delayed ones.
	children map[string]*localChild
	pending  map[string]pendingStart
	order    []string // pending ids in spawn order
	last     map[string][]byte
	notes    notifier
}

// pendingStart is a delayed spawn: its timer and restart type.
type pendingStart struct {
	stop    func() bool
	restart supervisor.Restart
}

// localChild makes one child actor a supervisor.Child.
type localChild struct {
	l      *LocalSupervision
	p      *parentTree
	id     string
	spec   Spec
	first  supervisor.StartFrom // the from of the first start (StartChild always says initial)
	ctype  supervisor.Restart
	mu     sync.Mutex
	a      *Actor
	starts int
	// stopping marks an ending the supervisor asked for: not reported;
	// ended one the child came to on its own.
	stopping, ended bool
}

func (c *localChild) Start(ctx context.Context, from supervisor.StartFrom, exited func(error)) error {
	c.mu.Lock()
	if c.starts == 0 {
		from = c.first
	}
	c.starts++
	c.stopping, c.ended = false, false
	c.mu.Unlock()
	spec := c.spec
	spec.ID = c.id
	if from == supervisor.StartLast {
		if st, ok := c.l.lastState(c.p, c.id); ok {
			spec.State, spec.Resume = st, true
		}
	}
	spec.OnExit = func(x Exit) {
		c.mu.Lock()
		a, stopping := c.a, c.stopping
		restarts := c.starts - 1
		c.ended = !stopping
		c.mu.Unlock()
		if a != nil {
			c.l.setLast(c.p, c.id, a.State())
		}
		err := x.Err()
		if stopping {
			exited(err)
			return
		}
		if c.ctype == supervisor.Temporary {
			c.l.forget(c.p, c.id, c)
		}
		restarting := c.ctype == supervisor.Permanent || (c.ctype == supervisor.Transient && err != nil)
		// The event is queued before the supervisor hears of the exit, so
		// that what the supervisor does about it (an escalation's events)
		// follows it, and delivered after, so that a spawn the parent makes
		// in answer finds the ended child gone from the supervisor.
		c.l.notifyThen(c.p, ChildExit{ID: c.id, Reason: ExitReasonOf(x), Detail: errText(err),
			Restarting: restarting, Restarts: restarts}, func() { exited(err) })
	}
	a, err := c.l.rt.Spawn(ctx, spec)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.a = a
	c.mu.Unlock()
	return nil
}

func (c *localChild) Stop(ctx context.Context) error {
	c.mu.Lock()
	a := c.a
	c.stopping = true
	c.mu.Unlock()
	if a == nil {
		return nil
	}
	return a.Stop(ctx)
}

func (c *localChild) actor() *Actor {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.a
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// tree returns the parent's tree, creating and starting its supervisor.
func (l *LocalSupervision) tree(ctx context.Context, parent string) (*parentTree, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p, ok := l.parents[parent]; ok && p.sup != nil {
		return p, nil
	}
	a, ok := l.rt.Actor(parent)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownActor, parent)
	}
	spec := a.spec.SupervisorGrant.Tree
	spec.Name, spec.Children = parent, nil
	sup, err := supervisor.New(spec, supervisor.WithClock(l.clock), supervisor.WithEvents(l.sink))
	if err != nil {
		return nil, err
	}
	p := l.parents[parent]
	if p == nil {
		p = &parentTree{id: parent, last: map[string][]byte{}}
		p.notes.send = func(b []byte) {
			if a, ok := l.rt.Actor(parent); ok {
				// A parent that has ended or is full misses the event; the
				// node's durable delivery is what guarantees it.
				_ = a.Send(context.Background(), b)
			}
		}
		l.parents[parent] = p
	}
	p.sup, p.children, p.pending, p.order = sup, map[string]*localChild{}, map[string]pendingStart{}, nil
	err = sup.Start(ctx, supervisor.StartInitial, func(err error) { l.escalated(p, sup, err) })
	if err != nil {
		return nil, err
	}
	return p, nil
}

// escalated handles a parent's supervisor that exceeded its intensity: it
// has stopped every child; the parent hears of each, and the next spawn
// starts a new supervisor.
func (l *LocalSupervision) escalated(p *parentTree, sup *supervisor.Supervisor, err error) {
	l.mu.Lock()
	if p.sup != sup {
		l.mu.Unlock()
		return
	}
	var ids []string
	for id, c := range p.children {
		c.mu.Lock()
		ended := c.ended
		c.mu.Unlock()
		if !ended { // those that ended on their own were reported then
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, ps := range p.pending {
		ps.stop()
	}
	p.sup, p.children, p.pending, p.order = nil, nil, nil, nil
	l.mu.Unlock()
	for _, id := range ids {
		l.notify(p, ChildExit{ID: id, Reason: "stopped", Detail: err.Error()})
	}
}

// Spawn starts a child of parent, now or after req.Delay.
func (l *LocalSupervision) Spawn(ctx context.Context, parent string, req ChildRequest) error {
	spec, err := l.childSpec(req)
	if err != nil {
		return err
	}
	p, err := l.tree(ctx, parent)
	if err != nil {
		return err
	}
	c := &localChild{l: l, p: p, id: req.ID, spec: spec, first: req.StartFrom, ctype: req.Restart}
	cs := supervisor.ChildSpec{ID: req.ID, Restart: req.Restart, StartFrom: req.StartFrom,
		Shutdown: supervisor.Duration(req.Shutdown), Child: c}
	l.mu.Lock()
	if _, ok := p.children[req.ID]; ok {
		l.mu.Unlock()
		return fmt.Errorf("%w: %q", supervisor.ErrChildExists, req.ID)
	}
	if _, ok := p.pending[req.ID]; ok {
		l.mu.Unlock()
		return fmt.Errorf("%w: %q", supervisor.ErrChildExists, req.ID)
	}
	if req.Delay > 0 {
		p.order = append(p.order, req.ID)
		sup := p.sup
		stop := l.clock.AfterFunc(req.Delay, func() {
			l.mu.Lock()
			_, ok := p.pending[req.ID]
			delete(p.pending, req.ID)
			p.order = slices.DeleteFunc(p.order, func(id string) bool { return id == req.ID })
			if ok && p.sup == sup {
				p.children[req.ID] = c
			}
			l.mu.Unlock()
			if !ok || p.sup != sup {
				return
			}
			if err := sup.StartChild(context.Background(), cs); err != nil {
				l.forget(p, req.ID, c)
				l.notify(p, ChildExit{ID: req.ID, Reason: "start-failed", Detail: err.Error()})
			}
		})
		p.pending[req.ID] = pendingStart{stop: stop, restart: req.Restart}
		l.mu.Unlock()
		return nil
	}
	p.children[req.ID] = c
	sup := p.sup
	l.mu.Unlock()
	if err := sup.StartChild(ctx, cs); err != nil {
		l.forget(p, req.ID, c)
		return err
	}
	return nil
}

// childSpec builds the actor spec of a request from a registered
// manifest or a module digest and manifest fields.
func (l *LocalSupervision) childSpec(req ChildRequest) (Spec, error) {
	if req.Manifest != "" {
		l.mu.Lock()
		spec, ok := l.templates[req.Manifest]
		l.mu.Unlock()
		if !ok {
			return Spec{}, fmt.Errorf("%w: unknown manifest %q", errInvalidSource, req.Manifest)
		}
		return spec, nil
	}
	if _, ok := parseDigest(req.Digest); !ok {
		return Spec{}, fmt.Errorf("%w: invalid digest %q", errInvalidSource, req.Digest)
	}
	// The guest's fields, with the name and module the request implies;
	// a manifest that sets either is refused as a duplicate key.
	text := fmt.Sprintf("name = %q\nmodule = %q\n%s", req.ID, req.Digest, req.ManifestTOML)
	m, err := manifest.Parse("spawn", []byte(text))
	if err != nil {
		return Spec{}, fmt.Errorf("%w: %w", errInvalidSource, err)
	}
	spec, err := SpecFromManifest(req.ID, m, nil)
	if err != nil {
		return Spec{}, fmt.Errorf("%w: %w", errInvalidSource, err)
	}
	spec.Router = l.router
	return spec, nil
}

func (l *LocalSupervision) running(parent string) (*parentTree, *supervisor.Supervisor) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.parents[parent]
	if p == nil {
		return nil, nil
	}
	return p, p.sup
}

// Stop stops a child and forgets it; a delayed one is cancelled.
func (l *LocalSupervision) Stop(ctx context.Context, parent, id string) error {
	p, sup := l.running(parent)
	if sup == nil {
		return fmt.Errorf("%w: %q", supervisor.ErrUnknownChild, id)
	}
	l.mu.Lock()
	if ps, ok := p.pending[id]; ok {
		ps.stop()
		delete(p.pending, id)
		p.order = slices.DeleteFunc(p.order, func(o string) bool { return o == id })
		l.mu.Unlock()
		return nil
	}
	c, ok := p.children[id]
	l.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %q", supervisor.ErrUnknownChild, id)
	}
	if err := sup.TerminateChild(ctx, id); err != nil {
		return err
	}
	if err := sup.DeleteChild(ctx, id); err != nil && !errors.Is(err, supervisor.ErrUnknownChild) {
		return err // a temporary child is gone already
	}
	l.forget(p, id, c)
	return nil
}

// Restart starts a permanent or transient child that is not running.
func (l *LocalSupervision) Restart(ctx context.Context, parent, id string) error {
	_, sup := l.running(parent)
	if sup == nil {
		return fmt.Errorf("%w: %q", supervisor.ErrUnknownChild, id)
	}
	return sup.RestartChild(ctx, id)
}

// Children lists the parent's children in start order, then the delayed
// ones in spawn order (not running).
func (l *LocalSupervision) Children(ctx context.Context, parent string) ([]supervisor.ChildInfo, error) {
	p, sup := l.running(parent)
	if sup == nil {
		return nil, nil
	}
	infos, err := sup.WhichChildren(ctx)
	if err != nil && !errors.Is(err, supervisor.ErrNotRunning) {
		return nil, err
	}
	l.mu.Lock()
	for _, id := range p.order {
		infos = append(infos, supervisor.ChildInfo{ID: id, Restart: p.pending[id].restart})
	}
	l.mu.Unlock()
	return infos, nil
}

// State returns a running child's state, or the state the last child of
// this id ended with.
func (l *LocalSupervision) State(_ context.Context, parent, id string) ([]byte, error) {
	l.mu.Lock()
	p := l.parents[parent]
	var c *localChild
	var last []byte
	var ok bool
	if p != nil {
		c = p.children[id]
		last, ok = p.last[id]
	}
	l.mu.Unlock()
	if c != nil {
		if a := c.actor(); a != nil {
			if _, done := a.Exit(); !done {
				return a.State(), nil
			}
		}
	}
	if ok {
		return slices.Clone(last), nil
	}
	return nil, fmt.Errorf("%w: %q", supervisor.ErrUnknownChild, id)
}

// Release stops the parent's children and forgets the parent; call it
// when the parent ends.
func (l *LocalSupervision) Release(ctx context.Context, parent string) error {
	l.mu.Lock()
	p := l.parents[parent]
	delete(l.parents, parent)
	var sup *supervisor.Supervisor
	if p != nil {
		for _, ps := range p.pending {
			ps.stop()
		}
		sup, p.sup = p.sup, nil
	}
	l.mu.Unlock()
	if sup == nil {
		return nil
	}
	return sup.Stop(ctx)
}

func (l *LocalSupervision) lastState(p *parentTree, id string) ([]byte, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st, ok := p.last[id]
	return slices.Clone(st), ok
}

func (l *LocalSupervision) setLast(p *parentTree, id string, st []byte) {
	l.mu.Lock()
	p.last[id] = st
	l.mu.Unlock()
}

// forget drops child c of id, if it is still the one recorded.
func (l *LocalSupervision) forget(p *parentTree, id string, c *localChild) {
	l.mu.Lock()
	if p.children[id] == c {
		delete(p.children, id)
	}
	l.mu.Unlock()
}

func (l *LocalSupervision) notify(p *parentTree, x ChildExit) { l.notifyThen(p, x, nil) }

// notifyThen queues x for the parent and runs then (if not nil) before
// x can be delivered.
func (l *LocalSupervision) notifyThen(p *parentTree, x ChildExit, then func()) {
	b, err := ChildEvent(x)
	if err != nil {
		b = nil // the WIT and ChildEvent disagree: the tests catch it
	}
	p.notes.post(b, then)
}

// notifier delivers a parent's child events one at a time, in order, on
// a goroutine that exists only while events are pending: a child's exit
// report must not wait for a parent whose mailbox is full.
type notifier struct {
	mu      sync.Mutex
	queue   [][]byte
	running bool
	send    func([]byte)
}

// post queues b (nil: nothing) and runs then under the queue's lock, so
// that b is delivered after then has returned and before anything then
// causes to be posted.
func (n *notifier) post(b []byte, then func()) {
	n.mu.Lock()
	if b != nil {
		n.queue = append(n.queue, b)
	}
	if then != nil {
		then()
	}
	if n.running || len(n.queue) == 0 {
		n.mu.Unlock()
		return
	}
	n.running = true
	n.mu.Unlock()
	go func() {
		for {
			n.mu.Lock()
			if len(n.queue) == 0 {
				n.running = false
				n.mu.Unlock()
				return
			}
			b := n.queue[0]
			n.queue = n.queue[1:]
			n.mu.Unlock()
			n.send(b)
		}
	}()
}
