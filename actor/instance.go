package actor

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"

	"github.com/theater-go/theater/actor/abi"
	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

// instance is one module instance of an actor, with what its calls reuse.
type instance struct {
	a   *Actor
	mod api.Module
	mem api.Memory
	// ctx carries the instance to the host functions (see host.go) and
	// the deadline of the current call.
	ctx             *callCtx
	realloc         api.Function
	hsend, hrequest api.Function // nil until first used
	alloc           *memLimit
	idle            *time.Timer
	stack           []uint64 // params and results of handler calls
	hstack          []uint64 // cabi_realloc calls, made while a handler's stack is in use
	clk             *virtualClock
	pre             *preinitRun // set while the instance initialises a module for its image
	storeOps        int         // store calls of the current guest call (host_store.go)
	timerOps        int         // timer calls of the current guest call (host_timer.go)
}

type instanceKey struct{}

// instanceFrom finds the calling instance from the context wazero passes
// to host functions: a context lookup, no map and no lock.
func instanceFrom(ctx context.Context) *instance {
	i, _ := ctx.Value(instanceKey{}).(*instance)
	return i
}

// open creates the actor's instance; the caller holds the semaphore. It
// runs _initialize, under the handler deadline; theater_abi_version is
// checked only by the probe of a module and the run its image is made
// from. An instance of a pre-initialised image has no _initialize and
// its clocks go on from where the image's initialisation left them.
func (a *Actor) open() (*instance, *Failure) { return a.openWith(nil) }

// openWith is open; pre, when not nil, makes it the one run of a module's
// initialisation that its image is taken from (preinit.go).
func (a *Actor) openWith(pre *preinitRun) (_ *instance, f *Failure) {
	r := a.rt
	inst := &instance{a: a, alloc: &memLimit{max: uint64(a.spec.Limits.MemoryPages) * 65536, pool: &r.mem},
		stack: make([]uint64, 4), hstack: make([]uint64, 4), pre: pre}
	inst.ctx = newCallCtx(context.WithValue(context.Background(), instanceKey{}, inst))
	// Kill finds the calls' context here; a kill that came first closes
	// it at once, so the new instance runs nothing.
	a.mu.Lock()
	a.cctx = inst.ctx
	killed := a.killed.Load()
	a.mu.Unlock()
	if killed {
		inst.ctx.kill()
	}
	name := a.spec.ID + "#" + strconv.FormatUint(r.seq.Add(1), 10)
	clk := &virtualClock{wallReads: int64(a.mod.meta.WallReads), monoReads: int64(a.mod.meta.MonoReads)}
	inst.clk = clk
	seed := a.spec.ID
	if pre != nil {
		seed = pre.seed
	}
	cfg := r.baseConfig.WithName(name).
		WithWalltime(clk.walltime, 1).
		WithNanotime(clk.nanotime, 1).
		WithRandSource(newDetRand(seed)).
		WithStdout(logWriter{a: a, stream: "stdout", pre: pre}).
		WithStderr(logWriter{a: a, stream: "stderr", pre: pre})
	ctx := experimental.WithMemoryAllocator(inst.ctx, inst.alloc)
	// The start function, _initialize and theater_abi_version run as one
	// call, under the handler deadline and with no fuel limit: the fuel
	// limit is per handler.
	inst.ctx.arm(a.spec.Limits.HandlerTimeout, 0)
	handler := "instantiate"
	defer func() {
		if _, expired := inst.ctx.disarm(); expired && f == nil {
			f = &Failure{Kind: Deadline, Actor: a.spec.ID, Handler: handler, Err: context.DeadlineExceeded}
		}
		// wazero turns guest and host-function panics into errors; this
		// catches anything else rather than crash the node.
		if p := recover(); p != nil {
			f = a.failure(inst, handler, fmt.Errorf("panic: %v", p))
		}
		if f != nil {
			inst.ctx.release()
			a.forgetCtx(inst.ctx)
			if inst.mod != nil {
				inst.mod.Close(context.Background())
				inst.alloc.release()
			}
		} else {
			inst.alloc.recycleOld()
		}
	}()
	mod, err := r.rt.InstantiateModule(ctx, a.mod.cm, cfg)
	if err != nil {
		return nil, a.failure(inst, handler, err)
	}
	inst.mod = mod
	inst.mem = mod.Memory()
	// From here the meter's accounting goes through the global: what the
	// start function left of its grants is in it.
	if inst.ctx.fuel, err = fuelGlobal(mod); err != nil {
		return nil, a.failure(inst, handler, err)
	}
	// Handler functions are looked up on first use: each one wazero hands
	// out carries its own call stack, which a hibernating actor need not
	// have paid for.
	inst.realloc = mod.ExportedFunction(abi.ExportRealloc)
	if a.mod.info.Initialize {
		handler = abi.ExportInitialize
		if err := mod.ExportedFunction(abi.ExportInitialize).CallWithStack(ctx, inst.stack); err != nil {
			return nil, a.failure(inst, handler, err)
		}
	}
	if pre != nil || a.probing {
		// Once per module, when it is compiled: the export is the same
		// code in every instance, and looking it up costs each instance a
		// call stack.
		handler = abi.ExportVersion
		if err := mod.ExportedFunction(abi.ExportVersion).CallWithStack(ctx, inst.stack); err != nil {
			return nil, a.failure(inst, handler, err)
		}
		if v := int32(inst.stack[0]); v != abi.Version {
			return nil, &Failure{Kind: ABI, Actor: a.spec.ID, Handler: handler,
				Err: fmt.Errorf("%w: guest has version %d, host supports %d", abi.ErrVersion, v, abi.Version)}
		}
	}
	if d := a.spec.Limits.IdleTimeout; d > 0 {
		inst.idle = time.AfterFunc(d, func() { a.idleFire(inst) })
	}
	return inst, nil
}

func (i *instance) close() {
	if i.idle != nil {
		i.idle.Stop()
	}
	i.ctx.release()
	i.a.forgetCtx(i.ctx)
	i.mod.Close(context.Background())
	i.alloc.release() // no call is in progress: nothing can use the memory
}

// forgetCtx drops Kill's reference to a closed instance's context, which
// would otherwise keep the closed module in memory.
func (a *Actor) forgetCtx(c *callCtx) {
	a.mu.Lock()
	if a.cctx == c {
		a.cctx = nil
	}
	a.mu.Unlock()
}

// idleFire hibernates an instance that sat unused for the idle time; a
// busy actor re-arms the timer when its handler ends.
func (a *Actor) idleFire(inst *instance) {
	if !a.trySem() {
		return
	}
	if a.inst == inst {
		a.hibernate()
		a.told()
	}
	a.releaseSem()
}

// ensure returns the live instance, opening one from the state when the
// actor is hibernated or its last instance was discarded.
func (a *Actor) ensure() (*instance, *Failure) {
	if a.inst != nil {
		a.rt.touch(a)
		return a.inst, nil
	}
	inst, f := a.open()
	if f != nil {
		return nil, f
	}
	a.inst = inst
	a.instances.Add(1)
	a.live.Store(true)
	a.rt.addLive(a)
	return inst, nil
}

// discard closes a broken instance; the state stays as it was.
func (a *Actor) discard() {
	if a.inst != nil {
		a.inst.close()
		a.inst = nil
		a.live.Store(false)
		a.rt.removeLive(a)
	}
}

// init runs theater_init with the spec's state; the caller holds the
// semaphore.
func (a *Actor) init() *Failure {
	inst, f := a.ensure()
	if f != nil {
		return f
	}
	_, f = a.call(inst, inst.mod.ExportedFunction(abi.ExportInit), abi.ExportInit, a.spec.State, nil, false)
	a.spec.State = nil
	return f
}

// onStop runs theater_on_stop; the caller holds the semaphore.
func (a *Actor) onStop() *Failure {
	inst, f := a.ensure()
	if f != nil {
		return f
	}
	_, f = a.call(inst, inst.mod.ExportedFunction(abi.ExportOnStop), abi.ExportOnStop, a.state, nil, false)
	return f
}

// handle runs one message; the caller holds the semaphore.
func (a *Actor) handle(msg []byte, request bool) ([]byte, *Failure) {
	inst, f := a.ensure()
	if f != nil {
		return nil, f
	}
	if request {
		if inst.hrequest == nil {
			inst.hrequest = inst.mod.ExportedFunction(abi.ExportHandleRequest)
		}
		return a.call(inst, inst.hrequest, abi.ExportHandleRequest, a.state, msg, true)
	}
	if inst.hsend == nil {
		inst.hsend = inst.mod.ExportedFunction(abi.ExportHandleSend)
	}
	return a.call(inst, inst.hsend, abi.ExportHandleSend, a.state, msg, false)
}

// call runs one handler export: state (and msg, when not nil) are copied
// into guest memory, the return area is checked and read, and on success
// the new state replaces the old. Any failure but a guest error discards
// the instance.
func (a *Actor) call(inst *instance, fn api.Function, name string, state, msg []byte, request bool) (reply []byte, f *Failure) {
	ctx := inst.ctx
	ctx.arm(a.spec.Limits.HandlerTimeout, a.spec.Limits.Fuel)
	a.usage.startCall()
	armed := true
	defer func() {
		if armed {
			ctx.disarm() // for the early returns; their failure is already known
		}
		if p := recover(); p != nil {
			f = a.failure(inst, name, fmt.Errorf("panic: %v", p))
		}
		if f != nil && f.Kind != GuestError {
			a.discard()
		} else {
			inst.alloc.recycleOld() // the views of this call are gone
			if inst.idle != nil {
				inst.idle.Reset(a.spec.Limits.IdleTimeout)
			}
		}
	}()
	inst.alloc.refused = false
	inst.storeOps, inst.timerOps = 0, 0
	// One block holds the state and then the message: every guest call
	// costs a goroutine in wazero (see RATIONALE.md), so one allocation
	// call instead of two is a third less per message.
	sp, err := inst.put(ctx, state, msg)
	if err != nil {
		return nil, a.failure(inst, name, err)
	}
	stack := inst.stack
	stack[0], stack[1] = uint64(sp), uint64(len(state))
	if msg != nil {
		stack[2], stack[3] = uint64(sp)+uint64(len(state)), uint64(len(msg))
	}
	err = fn.CallWithStack(ctx, stack)
	fuel, expired := ctx.disarm()
	armed = false
	if err != nil {
		f := a.failure(inst, name, err)
		f.Fuel = fuel
		return nil, f
	}
	if expired {
		// The deadline closed the context of a host call, which the guest
		// survived: the result does not count.
		return nil, &Failure{Kind: Deadline, Actor: a.spec.ID, Handler: name, Fuel: fuel, Err: context.DeadlineExceeded}
	}
	if inst.alloc.refused {
		// The guest survived a refused memory.grow, but ABI.md makes
		// exceeding the limit a failure: the instance is discarded.
		return nil, a.failure(inst, name, errors.New("memory.grow refused"))
	}
	ret := uint32(stack[0])
	area, ok := inst.mem.Read(ret, 12) // tag, then ptr, len: the layout of every err and of send's ok
	if !ok {
		return nil, a.fault(name, "return area %#x is outside memory", ret)
	}
	switch area[0] {
	case 0:
	case 1:
		text, err := inst.view(area[4:12])
		if err != nil {
			return nil, a.fault(name, "error message: %v", err)
		}
		if len(text) > a.spec.Limits.MaxMessageSize {
			text = text[:a.spec.Limits.MaxMessageSize]
		}
		return nil, &Failure{Kind: GuestError, Actor: a.spec.ID, Handler: name,
			Err: errors.New(strings.ToValidUTF8(string(text), "\uFFFD"))}
	default:
		return nil, a.fault(name, "result tag %d", area[0])
	}
	if request {
		if area, ok = inst.mem.Read(ret, 20); !ok {
			return nil, a.fault(name, "return area %#x is outside memory", ret)
		}
	}
	newState, err := inst.view(area[4:12])
	if err != nil {
		return nil, a.fault(name, "state: %v", err)
	}
	if err := a.checkOutput("state", newState, a.spec.Limits.MaxStateSize, a.spec.Types.State); err != nil {
		return nil, &Failure{Kind: Fault, Actor: a.spec.ID, Handler: name, Err: err}
	}
	if request {
		r, err := inst.view(area[12:20])
		if err != nil {
			return nil, a.fault(name, "reply: %v", err)
		}
		if err := a.checkOutput("reply", r, a.spec.Limits.MaxMessageSize, a.spec.Types.Reply); err != nil {
			return nil, &Failure{Kind: Fault, Actor: a.spec.ID, Handler: name, Err: err}
		}
		reply = append([]byte(nil), r...)
	}
	// Double buffering: the old state stays intact until the swap, and
	// the two buffers are reused from call to call.
	next := append(a.spare[:0], newState...)
	a.mu.Lock()
	a.spare, a.state, a.revertable = a.state, next, true
	a.mu.Unlock()
	a.lastFuel.Store(fuel)
	return reply, nil
}

// checkOutput checks a state or reply the guest returned, before it is
// copied: its size, then its type.
func (a *Actor) checkOutput(what string, b []byte, limit int, t wit.Type) error {
	if len(b) > limit {
		return fmt.Errorf("%s: %w", what, &TooLargeError{Size: len(b), Limit: limit})
	}
	if t != nil {
		if err := codec.Validate(t, b); err != nil {
			return fmt.Errorf("%s: %w: %w", what, ErrInvalidMessage, err)
		}
	}
	return nil
}

// put copies a and b, back to back, into one block the guest allocates
// with cabi_realloc, and returns the block's address.
func (i *instance) put(ctx context.Context, a, b []byte) (uint32, error) {
	n := len(a) + len(b)
	s := i.hstack
	s[0], s[1], s[2], s[3] = 0, 0, 1, uint64(n)
	if err := i.realloc.CallWithStack(ctx, s); err != nil {
		return 0, err
	}
	p := uint32(s[0])
	if uint64(p)+uint64(n) > uint64(i.mem.Size()) || !i.mem.Write(p, a) || !i.mem.Write(p+uint32(len(a)), b) {
		return 0, faultErr{fmt.Sprintf("cabi_realloc returned %#x for %d bytes, outside memory", p, n)}
	}
	return p, nil
}

// view returns the guest bytes named by a ptr, len pair (two
// little-endian u32) without copying.
func (i *instance) view(pair []byte) ([]byte, error) {
	p, n := binary.LittleEndian.Uint32(pair), binary.LittleEndian.Uint32(pair[4:])
	b, ok := i.mem.Read(p, n) // wazero checks p+n in 64 bits: no overflow
	if !ok {
		return nil, fmt.Errorf("%#x+%d is outside memory", p, n)
	}
	return b, nil
}

// faultErr marks a bad pointer from the guest found by the host.
type faultErr struct{ msg string }

func (e faultErr) Error() string { return e.msg }

func (a *Actor) fault(handler, format string, args ...any) *Failure {
	return &Failure{Kind: Fault, Actor: a.spec.ID, Handler: handler, Err: fmt.Errorf(format, args...)}
}

// failure classifies an error from a guest call.
func (a *Actor) failure(inst *instance, handler string, err error) *Failure {
	f := &Failure{Kind: Trap, Actor: a.spec.ID, Handler: handler, Err: err}
	var exit *sys.ExitError
	var fe faultErr
	switch stop := inst.ctx.abort; {
	case inst.alloc.refused:
		f.Kind = MemoryLimit
	case stop != nil:
		// Stopped by the meter: its reason, not wazero's wrapping of it
		// with a stack trace, which changes with the code.
		f.Err = stop
		f.Kind = Deadline // a kill too: the caller reports it as one
		if errors.Is(stop, ErrOutOfFuel) {
			f.Kind = OutOfFuel
		}
	case errors.As(err, &exit):
		f.Kind, f.ExitCode = ProcExit, exit.ExitCode()
	case errors.As(err, &fe):
		f.Kind = Fault
	}
	return f
}

// logWriter turns the guest's stdout and stderr into log lines.
type logWriter struct {
	a      *Actor
	stream string
	pre    *preinitRun
}

func (w logWriter) Write(p []byte) (int, error) {
	if w.pre != nil {
		// A line written while the image is made would be written once
		// per machine, not once per instance: no image for this module.
		w.pre.refuse("writes to " + w.stream)
		return len(p), nil
	}
	line := strings.TrimRight(string(p[:min(len(p), w.a.spec.Limits.MaxMessageSize)]), "\n")
	if line != "" {
		w.a.spec.Logger.Info(strings.ToValidUTF8(line, "\uFFFD"), "actor", w.a.spec.ID, "stream", w.stream)
	}
	return len(p), nil
}
