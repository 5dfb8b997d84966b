package actor

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"time"
	"unicode/utf8"

	"github.com/tetratelabs/wazero/api"

	"github.com/theater-go/theater/actor/abi"
	"github.com/theater-go/theater/wit/codec"
)

// hostFunc is the body of one import: it reads its arguments from the
// stack and returns the status.
type hostFunc func(ctx context.Context, i *instance, stack []uint64) int32

// hostFuncs implements every function of theater.wit's actor world, keyed
// by capability and name. NewRuntime refuses to start if the WIT has a
// function missing here, so the two cannot drift apart silently.
func (r *Runtime) hostFuncs() map[string]hostFunc {
	return map[string]hostFunc{
		"log.write":       hostLogWrite,
		"runtime.self-id": hostSelfID,
		"message.send":    r.hostSend,
		"message.request": r.hostRequest,
		"clock.now":       hostClockNow,
		"random.bytes":    hostRandomBytes,
		// host_supervisor.go
		"supervisor.spawn":    hostSpawn,
		"supervisor.stop":     hostStopChild,
		"supervisor.restart":  hostRestartChild,
		"supervisor.children": hostChildren,
		"supervisor.state":    hostChildState,
		// host_http.go
		"http-client.send": hostHTTPSend,
		// host_store.go
		"config.get": hostConfigGet,                                 // host_config.go
		"timer.set":  hostTimerSet, "timer.cancel": hostTimerCancel, // host_timer.go
		"store.get": hostStoreGet, "store.put": hostStorePut, "store.delete": hostStoreDelete, "store.list-keys": hostStoreKeys,

		"channel.publish": hostChannelPublish, "log.write-fields": hostLogWriteFields, // host_channel.go, host_logfields.go
	}
}

// instantiateHosts builds one host module per interface of the actor
// world, named as guests import it ("theater:actor/log@0.1.0"), with the
// signatures derived from the WIT. Host modules are shared by all actors:
// each call finds its actor through the context (instanceFrom).
func (r *Runtime) instantiateHosts(ctx context.Context) error {
	impls := r.hostFuncs()
	builders := map[string][]*abi.Func{}
	var order []string
	for _, f := range r.abi.Funcs() {
		if _, ok := builders[f.Module]; !ok {
			order = append(order, f.Module)
		}
		builders[f.Module] = append(builders[f.Module], f)
	}
	for _, mod := range order {
		b := r.rt.NewHostModuleBuilder(mod)
		for _, f := range builders[mod] {
			impl, ok := impls[f.Capability+"."+f.Name]
			if !ok {
				return fmt.Errorf("actor: %w: no host implementation of %s %s", abi.ErrWIT, f.Module, f.Name)
			}
			b.NewFunctionBuilder().
				WithGoModuleFunction(goFunc(f.Module+" "+f.Name, impl), f.Params, f.Results).
				WithName(f.Name).
				Export(f.Name)
		}
		if _, err := b.Instantiate(ctx); err != nil {
			return fmt.Errorf("actor: host module %s: %w", mod, err)
		}
	}
	return nil
}

// goFunc adapts a hostFunc to wazero's stack-based calling convention.
// Every call is charged [HostCallFuel] first; a call made while a module's
// image is made stops the initialisation (the module gets no image).
func goFunc(name string, h hostFunc) api.GoModuleFunc {
	return func(ctx context.Context, _ api.Module, stack []uint64) {
		status := abi.StatusUnavailable
		if i := instanceFrom(ctx); i != nil {
			if i.pre != nil {
				i.pre.refuse("calls " + name)
				panic(errPreinitHost)
			}
			i.ctx.charge(HostCallFuel)
			status = h(ctx, i, stack)
		}
		stack[0] = api.EncodeI32(status)
	}
}

// bytesAt returns the guest bytes at ptr, len, or false when they are not
// all inside memory. wazero checks ptr+len in 64 bits, so there is no
// overflow.
func (i *instance) bytesAt(ptr, n uint64) ([]byte, bool) {
	return i.mem.Read(uint32(ptr), uint32(n))
}

// give copies data into a block the guest allocates with
// cabi_realloc(0, 0, 1, len) and writes ptr, len at retptr.
func (i *instance) give(ctx context.Context, data []byte, retptr uint32) int32 {
	if _, ok := i.mem.Read(retptr, 8); !ok {
		return abi.StatusFault
	}
	s := i.hstack
	s[0], s[1], s[2], s[3] = 0, 0, 1, uint64(len(data))
	if err := i.realloc.CallWithStack(ctx, s); err != nil {
		return abi.StatusNoMemory
	}
	p := uint32(s[0])
	if !i.mem.Write(p, data) {
		return abi.StatusNoMemory
	}
	// retptr+8 is inside memory (checked above; memory only grows).
	i.mem.WriteUint32Le(retptr, p)
	i.mem.WriteUint32Le(retptr+4, uint32(len(data)))
	return abi.StatusOK
}

var logLevels = [...]slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError}

// log.write(level, msg_ptr, msg_len)
func hostLogWrite(ctx context.Context, i *instance, stack []uint64) int32 {
	level := uint32(stack[0])
	msg, ok := i.bytesAt(stack[1], stack[2])
	switch {
	case !ok:
		return abi.StatusFault
	case level >= uint32(len(logLevels)) || !utf8.Valid(msg):
		return abi.StatusInvalid
	case len(msg) > i.a.spec.Limits.MaxMessageSize:
		return abi.StatusTooLarge
	case !i.a.logAllowed(ctx, len(msg)):
		return abi.StatusOK // dropped and counted
	}
	i.a.spec.Logger.Log(ctx, logLevels[level], string(msg), "actor", i.a.spec.ID)
	return abi.StatusOK
}

// runtime.self-id(retptr)
func hostSelfID(ctx context.Context, i *instance, stack []uint64) int32 {
	return i.give(ctx, []byte(i.a.spec.ID), uint32(stack[0]))
}

// clock.now(retptr)
func hostClockNow(_ context.Context, i *instance, stack []uint64) int32 {
	retptr := uint32(stack[0])
	if _, ok := i.mem.Read(retptr, 8); !ok {
		return abi.StatusFault
	}
	var now time.Time
	if c := i.a.spec.Clock; c != nil {
		now = c.Now()
	} else {
		now = time.Now()
	}
	i.mem.WriteUint64Le(retptr, uint64(now.UnixNano()))
	return abi.StatusOK
}

// maxRandom is the largest n random.bytes serves (theater.wit).
const maxRandom = 65536

// random.bytes(n, retptr)
func hostRandomBytes(ctx context.Context, i *instance, stack []uint64) int32 {
	n, retptr := uint32(stack[0]), uint32(stack[1])
	if _, ok := i.mem.Read(retptr, 8); !ok {
		return abi.StatusFault
	}
	if n > maxRandom {
		return abi.StatusInvalid
	}
	// Allocate first and fill in place: no copy through a Go buffer.
	s := i.hstack
	s[0], s[1], s[2], s[3] = 0, 0, 1, uint64(n)
	if err := i.realloc.CallWithStack(ctx, s); err != nil {
		return abi.StatusNoMemory
	}
	p := uint32(s[0])
	buf, ok := i.mem.Read(p, n)
	if !ok {
		return abi.StatusNoMemory
	}
	src := i.a.spec.Entropy
	if src == nil {
		src = systemEntropy{}
	}
	if _, err := io.ReadFull(src, buf); err != nil {
		return abi.StatusUnavailable
	}
	i.mem.WriteUint32Le(retptr, p)
	i.mem.WriteUint32Le(retptr+4, n)
	return abi.StatusOK
}

// systemEntropy is the random capability when the spec has no Entropy.
type systemEntropy struct{}

func (systemEntropy) Read(p []byte) (int, error) { return rand.Read(p) }

// message.send(to_ptr, to_len, payload_ptr, payload_len, retptr)
func (r *Runtime) hostSend(ctx context.Context, i *instance, stack []uint64) int32 {
	to, payload, retptr, st := i.messageArgs(stack)
	if st != abi.StatusOK {
		return st
	}
	if !i.a.allowed(to) {
		return r.sendErr(ctx, i, retptr, to, ErrDenied)
	}
	if err := i.a.sendAllowed(); err != nil {
		return r.sendErr(ctx, i, retptr, to, err)
	}
	if err := i.a.spec.Router.Send(ctx, i.a.spec.ID, to, payload); err != nil {
		return r.sendErr(ctx, i, retptr, to, err)
	}
	return abi.StatusOK
}

// message.request(to_ptr, to_len, payload_ptr, payload_len, timeout_ms, retptr)
func (r *Runtime) hostRequest(ctx context.Context, i *instance, stack []uint64) int32 {
	timeout := time.Duration(uint32(stack[4])) * time.Millisecond
	args := [5]uint64{stack[0], stack[1], stack[2], stack[3], stack[5]}
	to, payload, retptr, st := i.messageArgs(args[:])
	if st != abi.StatusOK {
		return st
	}
	if !i.a.allowed(to) {
		return r.sendErr(ctx, i, retptr, to, ErrDenied)
	}
	if err := i.a.requestAllowed(to); err != nil {
		return r.sendErr(ctx, i, retptr, to, err)
	}
	// The payload is a view of this guest's memory; it stays valid and
	// unchanged while the guest waits in this call.
	reply, err := i.a.spec.Router.Request(ctx, i.a.spec.ID, to, payload, timeout)
	if err == nil && len(reply) > i.a.spec.Limits.MaxMessageSize {
		err = &TooLargeError{Size: len(reply), Limit: i.a.spec.Limits.MaxMessageSize}
	}
	if err != nil {
		return r.sendErr(ctx, i, retptr, to, err)
	}
	return i.give(ctx, reply, retptr)
}

// messageArgs checks the arguments shared by send and request: to_ptr,
// to_len, payload_ptr, payload_len, retptr.
func (i *instance) messageArgs(s []uint64) (to string, payload []byte, retptr uint32, status int32) {
	toB, ok1 := i.bytesAt(s[0], s[1])
	payload, ok2 := i.bytesAt(s[2], s[3])
	retptr = uint32(s[4])
	_, ok3 := i.mem.Read(retptr, 8)
	switch {
	case !ok1 || !ok2 || !ok3:
		return "", nil, 0, abi.StatusFault
	case !utf8.Valid(toB):
		return "", nil, 0, abi.StatusInvalid
	case len(payload) > i.a.spec.Limits.MaxMessageSize:
		return "", nil, 0, abi.StatusTooLarge
	case i.a.spec.Router == nil:
		return "", nil, 0, abi.StatusUnavailable
	}
	return string(toB), payload, retptr, abi.StatusOK
}

func (a *Actor) allowed(to string) bool {
	return a.spec.AllowTarget != nil && a.spec.AllowTarget(to)
}

// sendErr writes the message.error variant for err at retptr, as msgpack,
// and returns status 1 (or the status of a failed write).
func (r *Runtime) sendErr(ctx context.Context, i *instance, retptr uint32, to string, err error) int32 {
	var v codec.Variant
	var tooLarge *TooLargeError
	switch {
	case errors.Is(err, ErrUnknownActor):
		v = codec.Variant{Case: "unknown-actor", Value: to}
	case errors.Is(err, ErrDenied):
		v = codec.Variant{Case: "denied", Value: to}
	case errors.Is(err, ErrInvalidMessage):
		v = codec.Variant{Case: "invalid", Value: err.Error()}
	case errors.As(err, &tooLarge):
		v = codec.Variant{Case: "too-large", Value: uint32(min(tooLarge.Limit, math.MaxUint32))}
	case errors.Is(err, ErrTooLarge):
		v = codec.Variant{Case: "too-large", Value: uint32(min(i.a.spec.Limits.MaxMessageSize, math.MaxUint32))}
	case errors.Is(err, context.DeadlineExceeded):
		v = codec.Variant{Case: "timeout"}
	default:
		v = codec.Variant{Case: "failed", Value: err.Error()}
	}
	data, merr := codec.Marshal(r.errTyp, v)
	if merr != nil {
		return abi.StatusUnavailable // the WIT and this switch disagree: a host defect
	}
	if st := i.give(ctx, data, retptr); st != abi.StatusOK {
		return st
	}
	return abi.StatusErr
}
