package actor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/theater-go/theater/actor/abi"
	"github.com/theater-go/theater/actor/internal/preinit"
	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

// Option configures a [Runtime].
type Option func(*options)

type options struct {
	cacheDir  string
	maxLive   int
	limits    Limits
	logger    *slog.Logger
	noPreinit bool
}

// WithCacheDir keeps compiled modules in dir, so a module is metered,
// pre-initialised and compiled once per machine rather than once per
// process: the metered or pre-initialised bytes under dir/modules, keyed
// by digest and pass versions, and wazero's machine code under
// dir/wazero. Every file is checked before use; a corrupted one is
// deleted and its module compiled again (see [CompileStats]). Empty (the
// default) keeps them in memory only. dir must be writable by the node
// alone.
func WithCacheDir(dir string) Option { return func(o *options) { o.cacheDir = dir } }

// WithMaxLiveInstances bounds the number of module instances kept open;
// past it, the least recently used actor hibernates. Zero or less means no
// bound. The default is 1000.
func WithMaxLiveInstances(n int) Option { return func(o *options) { o.maxLive = n } }

// WithDefaultLimits sets the limits used for a zero field of a
// [Spec]'s Limits. Zero fields of l keep [DefaultLimits].
func WithDefaultLimits(l Limits) Option {
	return func(o *options) { o.limits = l.withDefaults(DefaultLimits) }
}

// WithPreinit says whether modules are pre-initialised (the default):
// each module's initialisation runs once, when it is compiled, and every
// instance starts from the resulting image (see [Runtime.Compile]).
// Without it every instance runs the initialisation itself.
func WithPreinit(on bool) Option { return func(o *options) { o.noPreinit = !on } }

// WithLogger sets the logger of actors whose spec has none. Nil means
// the default, [slog.Default] when the runtime starts.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// Runtime runs actors: one wazero runtime per node, compiled modules
// cached by digest, the host modules of every capability, and a bound on
// live instances. It is safe for concurrent use.
type Runtime struct {
	opts   options
	abi    *abi.ABI
	rt     wazero.Runtime
	cache  wazero.CompilationCache
	wasi   map[string]api.FunctionDefinition
	errTyp wit.Type // message.error, for the status-1 results of send and request
	seq    atomic.Uint64

	modMu   sync.Mutex
	modules map[Digest]*module

	actMu  sync.RWMutex
	actors map[string]*Actor
	closed bool
	// compiling counts compiles in flight, added to under actMu while
	// the runtime is open: Close waits for them before it closes the
	// wazero runtime, which must not happen under a CompileModule.
	compiling sync.WaitGroup

	lruMu      sync.Mutex
	lruHead    *Actor // most recently used live actor
	lruTail    *Actor
	live       int
	baseConfig wazero.ModuleConfig

	mem memPool // linear memories of closed instances, for the next ones

	disk  *diskCache // nil without a cache directory
	stats struct{ images, noImage, diskHits, diskCorrupt atomic.Uint64 }
}

// module is a compiled guest, checked once against the ABI.
type module struct {
	once sync.Once
	cm   wazero.CompiledModule
	info *abi.Module
	err  error
	// meta is what the image's initialisation left of the clocks; zero
	// for a module that has no image.
	meta preinit.Meta
}

// NewRuntime starts a runtime: the wazero runtime, the WASI module and the
// host modules. Close it to release them.
func NewRuntime(ctx context.Context, opts ...Option) (*Runtime, error) {
	o := options{maxLive: 1000, limits: DefaultLimits, logger: slog.Default()}
	for _, f := range opts {
		f(&o)
	}
	if o.logger == nil {
		o.logger = slog.Default() // a nil logger would make the first log call a trap
	}
	o.limits.MemoryPages = min(o.limits.MemoryPages, MaxMemoryPages)
	a, err := abi.Load()
	if err != nil {
		return nil, fmt.Errorf("actor: %w", err)
	}
	errTyp, ok := a.Type("message", "error")
	if !ok {
		return nil, fmt.Errorf("actor: %w: no message.error type", abi.ErrWIT)
	}
	r := &Runtime{opts: o, abi: a, errTyp: errTyp, modules: map[Digest]*module{}, actors: map[string]*Actor{}}
	if o.cacheDir != "" {
		if err := r.openCacheDir(); err != nil {
			return nil, err
		}
	} else {
		r.cache = wazero.NewCompilationCache()
	}
	// No WithCloseOnContextDone: it costs a goroutine per call and a
	// check that leaves native code at every loop header. Modules are
	// metered instead (meter.go), and the meter's host function enforces
	// deadlines, fuel limits and kills. Memory is bounded per instance by
	// an allocator (memory.go), not by the runtime-wide page limit.
	cfg := wazero.NewRuntimeConfig().WithCompilationCache(r.cache)
	r.rt = wazero.NewRuntimeWithConfig(ctx, cfg)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r.rt); err != nil {
		r.rt.Close(ctx)
		return nil, fmt.Errorf("actor: wasi: %w", err)
	}
	if err := r.instantiateMeter(ctx); err != nil {
		r.rt.Close(ctx)
		return nil, err
	}
	r.wasi = r.rt.Module(abi.WASIModule).ExportedFunctionDefinitions()
	if err := r.instantiateHosts(ctx); err != nil {
		r.rt.Close(ctx)
		return nil, err
	}
	// What every instance shares is set once here: each With call copies
	// the config, and open adds only what is per instance.
	r.baseConfig = wazero.NewModuleConfig().
		WithStartFunctions(). // _initialize runs under a deadline
		WithNanosleep(func(int64) {}).
		WithOsyield(func() {})
	return r, nil
}

// Close kills every actor ([Actor.Kill]: no theater_on_stop, exits
// [Killed]) and releases the wazero runtime.
func (r *Runtime) Close(ctx context.Context) error {
	r.actMu.Lock()
	if r.closed {
		r.actMu.Unlock()
		return nil
	}
	r.closed = true
	r.mem.close()
	actors := make([]*Actor, 0, len(r.actors))
	for _, a := range r.actors {
		actors = append(actors, a)
	}
	r.actMu.Unlock()
	var errs []error
	for _, a := range actors {
		a.abort() // all at once: each kill is then only a wait
	}
	for _, a := range actors {
		if err := a.Kill(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	r.compiling.Wait()
	// A kill cut short by ctx leaves a call to abort: closing the wazero
	// runtime closes its module too.
	errs = append(errs, r.rt.Close(ctx), r.cache.Close(ctx))
	return errors.Join(errs...)
}

// Compile compiles and checks a module once per digest and returns the
// digest to spawn it by. It holds the module against Theater's module
// bounds (size, functions, bodies, nesting, data, and memory up to the
// runtime's default memory limit) before wazero sees it, meters it, runs
// its start function and _initialize once under the default limits and
// makes the pre-initialised image every instance starts from (see
// [WithPreinit]; a module whose initialisation calls a Theater import,
// writes to stdout or stderr, or changes a table gets none), compiles
// it, checks it against the ABI, and instantiates it once: its start
// function, _initialize and theater_abi_version must succeed.
func (r *Runtime) Compile(ctx context.Context, wasm []byte) (Digest, error) {
	d := Digest(sha256.Sum256(wasm))
	_, err := r.compile(ctx, d, wasm, r.opts.limits)
	return d, err
}

// compile compiles a module once per digest, under the limits of the
// first caller to bring it: its memory limit bounds the memory the module
// may declare, and the probe runs under them.
func (r *Runtime) compile(ctx context.Context, d Digest, wasm []byte, l Limits) (*module, error) {
	r.actMu.Lock()
	if r.closed {
		r.actMu.Unlock()
		return nil, ErrClosed
	}
	r.compiling.Add(1)
	r.actMu.Unlock()
	defer r.compiling.Done()
	r.modMu.Lock()
	m, ok := r.modules[d]
	if !ok {
		if wasm == nil {
			r.modMu.Unlock()
			return nil, fmt.Errorf("%w: %s", ErrUnknownModule, hex.EncodeToString(d[:]))
		}
		m = &module{}
		r.modules[d] = m
	}
	r.modMu.Unlock()
	m.once.Do(func() {
		var code []byte
		if code, m.meta, m.err = r.prepare(ctx, d, wasm, l); m.err != nil {
			return
		}
		m.cm, m.err = r.rt.CompileModule(ctx, code)
		if r.disk != nil && m.err == nil {
			if err := sealWazeroCache(filepath.Join(r.opts.cacheDir, wazeroDir)); err != nil {
				r.opts.logger.Warn("actor: compilation cache", "err", err)
			}
		}
		if m.err != nil {
			m.err = fmt.Errorf("%w: %w", ErrRefused, m.err)
			return
		}
		m.info, m.err = r.abi.Inspect(m.cm, r.wasi)
		if m.err != nil {
			m.err = fmt.Errorf("%w: %w", ErrRefused, m.err)
			return
		}
		if m.info.MemoryMin > l.MemoryPages {
			// Code from the cache directory was bounded under the limits of
			// whoever wrote it: the probe must not instantiate more.
			m.err = fmt.Errorf("%w: memory starts at %d pages, limit is %d", ErrRefused, m.info.MemoryMin, l.MemoryPages)
			return
		}
		m.err = r.probe(m, l)
	})
	if m.err != nil {
		// A failed compile is not cached: the next caller may bring a
		// context that does not expire or a larger memory limit, and a
		// refused module costs little to refuse again.
		r.modMu.Lock()
		if r.modules[d] == m {
			delete(r.modules, d)
		}
		r.modMu.Unlock()
		if m.cm != nil {
			m.cm.Close(context.Background())
		}
	}
	return m, m.err
}

// probe instantiates a module once, under the limits of the caller that
// compiles it, to refuse at spawn a guest whose start function or
// _initialize fails or whose theater_abi_version is not the host's.
func (r *Runtime) probe(m *module, l Limits) error {
	l.IdleTimeout, l.Fuel = -1, 0
	p := &Actor{rt: r, mod: m, spec: Spec{ID: "probe", Logger: slog.New(slog.DiscardHandler), Limits: l}, probing: true}
	inst, f := p.open()
	if f != nil {
		return fmt.Errorf("%w: %w", ErrRefused, *f)
	}
	inst.close()
	return nil
}

// Actor returns the live or hibernated actor with the given id.
func (r *Runtime) Actor(id string) (*Actor, bool) {
	r.actMu.RLock()
	a, ok := r.actors[id]
	r.actMu.RUnlock()
	return a, ok
}

// Len returns the number of actors, live and hibernated.
func (r *Runtime) Len() int {
	r.actMu.RLock()
	defer r.actMu.RUnlock()
	return len(r.actors)
}

// Live returns the number of open module instances.
func (r *Runtime) Live() int {
	r.lruMu.Lock()
	defer r.lruMu.Unlock()
	return r.live
}

func validID(id string) bool {
	return id != "" && !strings.ContainsAny(id, ".*> \t\r\n\x00")
}

// Spawn starts an actor: it checks the module against the granted
// capabilities and the memory limit, then, unless spec.Resume is set,
// instantiates it and runs theater_init. A refused module's error names
// the import and the actor.
func (r *Runtime) Spawn(ctx context.Context, spec Spec) (*Actor, error) {
	if !validID(spec.ID) {
		return nil, fmt.Errorf("%w: %q", ErrInvalidID, spec.ID)
	}
	d := spec.Digest
	if spec.Module != nil {
		d = sha256.Sum256(spec.Module)
	}
	spec.Limits = r.spawnLimits(spec.Limits)
	m, err := r.compile(ctx, d, spec.Module, spec.Limits)
	if err != nil {
		return nil, fmt.Errorf("actor: spawn %q (manifest %q): %w", spec.ID, spec.Manifest, err)
	}
	granted := func(c string) bool {
		for _, g := range spec.Capabilities {
			if g == c {
				return true
			}
		}
		return false
	}
	if err := m.info.Granted(granted); err != nil {
		return nil, fmt.Errorf("actor: spawn %q (manifest %q): %w: %w", spec.ID, spec.Manifest, ErrRefused, err)
	}
	if m.info.MemoryMin > spec.Limits.MemoryPages {
		return nil, fmt.Errorf("actor: spawn %q (manifest %q): %w: memory starts at %d pages, limit is %d",
			spec.ID, spec.Manifest, ErrRefused, m.info.MemoryMin, spec.Limits.MemoryPages)
	}
	if spec.Logger == nil {
		spec.Logger = r.opts.logger
	}
	if spec.LogLevel != nil {
		spec.Logger = slog.New(levelHandler{min: spec.LogLevel, Handler: spec.Logger.Handler()})
	}
	if t := spec.Types.State; t != nil && (spec.Resume || len(spec.State) > 0) {
		if err := codec.Validate(t, spec.State); err != nil {
			return nil, fmt.Errorf("actor: spawn %q: state: %w: %w", spec.ID, ErrInvalidMessage, err)
		}
	}
	spec.Module = nil // the compiled module is kept; the bytes are not needed
	spec.Digest = d
	a := &Actor{rt: r, mod: m, spec: spec, sem: make(chan struct{}, 1)}
	if spec.Resume {
		// Set before the actor is visible: a Request that finds it must
		// see its state.
		a.state = append([]byte(nil), spec.State...)
		a.spec.State = nil
	}

	r.actMu.Lock()
	switch {
	case r.closed:
		r.actMu.Unlock()
		return nil, ErrClosed
	case r.actors[spec.ID] != nil:
		r.actMu.Unlock()
		return nil, fmt.Errorf("%w: %q", ErrExists, spec.ID)
	}
	r.actors[spec.ID] = a // reserve the id while theater_init runs
	r.actMu.Unlock()

	if spec.Resume {
		return a, nil
	}
	// The id is visible while theater_init runs, so a message may already
	// wait for the semaphore, and a Kill or Close may come. On failure the
	// actor ends, still under the semaphore: its queued messages are
	// refused, its instance (a guest error keeps it open) is closed and
	// it is marked done before the id is freed, so whatever waits finds
	// it ended. Its callbacks are not told: Spawn's error is the report.
	a.sem <- struct{}{}
	f := a.init()
	if f != nil || a.killed.Load() {
		a.mu.Lock()
		a.silent = true
		a.mu.Unlock()
		if a.killed.Load() {
			a.end(Exit{Actor: spec.ID, Reason: Killed})
		} else {
			a.end(Exit{Actor: spec.ID, Reason: Failed, Failure: f})
		}
	}
	<-a.sem
	switch {
	case a.killed.Load():
		return nil, fmt.Errorf("actor: spawn %q: %w", spec.ID, &endedError{id: spec.ID, exit: Killed})
	case f != nil:
		return nil, fmt.Errorf("actor: spawn %q: %w", spec.ID, *f)
	}
	return a, nil
}

func (r *Runtime) remove(a *Actor) {
	r.actMu.Lock()
	if r.actors[a.spec.ID] == a {
		delete(r.actors, a.spec.ID)
	}
	r.actMu.Unlock()
}

// touch marks a live actor as most recently used.
func (r *Runtime) touch(a *Actor) {
	r.lruMu.Lock()
	if a.lruLinked && r.lruHead != a {
		r.unlink(a)
		r.pushFront(a)
	}
	r.lruMu.Unlock()
}

// addLive counts a new instance and hibernates the least recently used
// idle actors beyond the bound. The caller holds a's semaphore.
func (r *Runtime) addLive(a *Actor) {
	r.lruMu.Lock()
	r.live++
	r.pushFront(a)
	r.lruMu.Unlock()
	for r.opts.maxLive > 0 {
		r.lruMu.Lock()
		if r.live <= r.opts.maxLive {
			r.lruMu.Unlock()
			return
		}
		var victim *Actor
		for v := r.lruTail; v != nil; v = v.lruPrev {
			if v != a && !v.spec.KeepLive && v.trySem() {
				victim = v
				break
			}
		}
		r.lruMu.Unlock()
		if victim == nil {
			return // every other live actor is busy: stay over the bound until one is done
		}
		victim.hibernate()
		victim.told()
		victim.releaseSem()
	}
}

// removeLive forgets a closed instance.
func (r *Runtime) removeLive(a *Actor) {
	r.lruMu.Lock()
	if a.lruLinked {
		r.unlink(a)
		r.live--
	}
	r.lruMu.Unlock()
}

func (r *Runtime) pushFront(a *Actor) {
	a.lruPrev, a.lruNext, a.lruLinked = nil, r.lruHead, true
	if r.lruHead != nil {
		r.lruHead.lruPrev = a
	}
	r.lruHead = a
	if r.lruTail == nil {
		r.lruTail = a
	}
}

func (r *Runtime) unlink(a *Actor) {
	if !a.lruLinked {
		return
	}
	if a.lruPrev != nil {
		a.lruPrev.lruNext = a.lruNext
	} else {
		r.lruHead = a.lruNext
	}
	if a.lruNext != nil {
		a.lruNext.lruPrev = a.lruPrev
	} else {
		r.lruTail = a.lruPrev
	}
	a.lruPrev, a.lruNext, a.lruLinked = nil, nil, false
}
