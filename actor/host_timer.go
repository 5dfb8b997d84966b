package actor

import (
	"context"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/theater-go/theater/actor/abi"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

// MinTimerInterval is the shortest interval of a repeating timer (the
// granularity of JetStream's "@every" schedules).
const MinTimerInterval = time.Second

// TimerOp is one timer.set (or, with Cancel, timer.cancel) of the actor's
// timer ID: Payload delivered once after Delay when Interval is 0,
// otherwise every Interval.
// MsgID, when not empty, makes doing the op again a no-op (the node
// derives it from the chain, as for sends).
type TimerOp struct {
	ID              string
	Cancel          bool
	Delay, Interval time.Duration
	Payload         []byte
	MsgID           string
}

// Timers serves the timer capability. The node keeps timers in a
// JetStream stream of message schedules and wraps its Timers to hold
// each op until the handler's event is durable (package replay). ctx
// carries the calling handler's deadline.
type Timers interface {
	Timer(ctx context.Context, op TimerOp) error
}

// TimerMaxSetsOf is the per-handler budget of timer calls a manifest's
// [capabilities.timer] grants.
func TimerMaxSetsOf(m *manifest.Manifest) int {
	if c := m.Capabilities.Timer; c != nil && c.MaxSets > 0 {
		return c.MaxSets
	}
	return manifest.DefaultTimerMaxSets
}

var loadTimerErr = sync.OnceValues(func() (wit.Type, error) {
	a, err := abi.Load()
	if err != nil {
		return nil, err
	}
	t, ok := a.Type("timer", "error")
	if !ok {
		return nil, abi.ErrWIT
	}
	return t, nil
})

// timer.set(id_ptr, id_len, delay_ms, interval_ms, payload_ptr, payload_len, retptr)
func hostTimerSet(ctx context.Context, i *instance, stack []uint64) int32 {
	payload, ok := i.bytesAt(stack[4], stack[5])
	if !ok {
		return abi.StatusFault
	}
	op := TimerOp{Delay: time.Duration(uint32(stack[2])) * time.Millisecond,
		Interval: time.Duration(uint32(stack[3])) * time.Millisecond, Payload: payload}
	if op.Interval > 0 && op.Interval < MinTimerInterval {
		return timerCall(ctx, i, stack[0], stack[1], uint32(stack[6]), op,
			codec.Variant{Case: "invalid", Value: fmt.Sprintf("interval %v is under %v", op.Interval, MinTimerInterval)})
	}
	if len(payload) > i.a.spec.Limits.MaxMessageSize {
		return timerCall(ctx, i, stack[0], stack[1], uint32(stack[6]), op,
			codec.Variant{Case: "too-large", Value: uint32(min(i.a.spec.Limits.MaxMessageSize, 1<<32-1))})
	}
	return timerCall(ctx, i, stack[0], stack[1], uint32(stack[6]), op, codec.Variant{})
}

// timer.cancel(id_ptr, id_len, retptr)
func hostTimerCancel(ctx context.Context, i *instance, stack []uint64) int32 {
	return timerCall(ctx, i, stack[0], stack[1], uint32(stack[2]), TimerOp{Cancel: true}, codec.Variant{})
}

// timerCall checks what set and cancel share and makes the call; refuse,
// when it has a case, is the error the arguments already deserve.
func timerCall(ctx context.Context, i *instance, idP, idL uint64, retptr uint32, op TimerOp, refuse codec.Variant) int32 {
	id, ok := i.bytesAt(idP, idL)
	_, ok2 := i.mem.Read(retptr, 8)
	switch {
	case !ok || !ok2:
		return abi.StatusFault
	case !utf8.Valid(id):
		return abi.StatusInvalid
	case i.a.spec.Timers == nil:
		return abi.StatusUnavailable
	}
	max := i.a.spec.TimerMaxSets
	if max <= 0 {
		max = manifest.DefaultTimerMaxSets
	}
	if i.timerOps++; i.timerOps > max {
		return timerErr(ctx, i, retptr, codec.Variant{Case: "budget", Value: uint32(max)})
	}
	if !manifest.ValidStoreNamespace(string(id)) {
		return timerErr(ctx, i, retptr, codec.Variant{Case: "invalid", Value: fmt.Sprintf("timer id %q: want 1 to 64 of A-Z a-z 0-9 - _", id)})
	}
	if refuse.Case != "" {
		return timerErr(ctx, i, retptr, refuse)
	}
	op.ID = string(id)
	// op.Payload is a view of guest memory: the Timers copies what it keeps.
	if err := i.a.spec.Timers.Timer(ctx, op); err != nil {
		return timerErr(ctx, i, retptr, codec.Variant{Case: "failed", Value: err.Error()})
	}
	return abi.StatusOK
}

func timerErr(ctx context.Context, i *instance, retptr uint32, v codec.Variant) int32 {
	t, err := loadTimerErr()
	if err != nil {
		return abi.StatusUnavailable
	}
	data, err := codec.Marshal(t, v)
	if err != nil {
		return abi.StatusUnavailable // the WIT and this code disagree: a host defect
	}
	if st := i.give(ctx, data, retptr); st != abi.StatusOK {
		return st
	}
	return abi.StatusErr
}
