package replay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
)

// CallTimer is one timer.set or timer.cancel the host accepted; Data is
// the msgpack map {"op": "set"|"cancel", "id": str, "delay_ms": uint,
// "interval_ms": uint, "payload": bin} (zero and empty for a cancel). It
// records an effect, not a value the guest got (the call only says ok):
// the owner does the op once the event is durable ([Recorder.ApplyTimers]),
// and a restore finds the ops that may not have been done ([TimerOpsOf]).
const CallTimer = "timer"

// Timers returns the timers to put in the actor's spec: each op is
// recorded as a [CallTimer] input and held like a send; [Recorder.Take]
// ends the handler's ops, [Recorder.TimerOps] hands them to the owner,
// who does them with [Recorder.ApplyTimers] once the event is durable,
// or drops them.
func (r *Recorder) Timers(t actor.Timers) actor.Timers {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.timers == nil {
		r.timers = &recTimers{r: r, t: t}
	}
	return r.timers
}

type recTimers struct {
	r *Recorder
	t actor.Timers
	held[actor.TimerOp]
}

func (rt *recTimers) Timer(_ context.Context, op actor.TimerOp) error {
	op.Payload = bytes.Clone(op.Payload) // a view of guest memory
	rt.r.record(CallTimer, encodeTimer(op))
	rt.add(op)
	return nil
}

// TimerOps returns and resets the timer ops of the handlers
// [Recorder.Take] ended since the last call, in order.
func (r *Recorder) TimerOps() []actor.TimerOp {
	r.mu.Lock()
	rt := r.timers
	r.mu.Unlock()
	if rt == nil {
		return nil
	}
	return rt.take()
}

// TimerMsgID is the id of the i-th timer op of the event at chain
// sequence seq of actor id.
func TimerMsgID(id string, seq uint64, i int) string {
	return id + ":" + strconv.FormatUint(seq, 10) + ":t" + strconv.Itoa(i)
}

// ApplyTimers does ops, the timer ops of the event at chain sequence seq
// of actor id, in order, each under its [TimerMsgID].
func (r *Recorder) ApplyTimers(ctx context.Context, id string, seq uint64, ops []actor.TimerOp) error {
	return applyEach(ops, func(i int, op actor.TimerOp) error {
		op.MsgID = TimerMsgID(id, seq, i)
		err := errNoTimers
		if r.timers != nil && r.timers.t != nil {
			err = r.timers.t.Timer(ctx, op)
		}
		if err != nil {
			return fmt.Errorf("replay: timer %s %s: %w", op.MsgID, op.ID, err)
		}
		return nil
	})
}

var errNoTimers = errors.New("replay: no timers")

type timerInput struct {
	Op         string `msgpack:"op"`
	ID         string `msgpack:"id"`
	DelayMs    uint64 `msgpack:"delay_ms"`
	IntervalMs uint64 `msgpack:"interval_ms"`
	Payload    []byte `msgpack:"payload"`
}

func encodeTimer(op actor.TimerOp) []byte {
	in := timerInput{Op: "set", ID: op.ID, DelayMs: uint64(op.Delay / time.Millisecond),
		IntervalMs: uint64(op.Interval / time.Millisecond), Payload: nonNilBytes(op.Payload)}
	if op.Cancel {
		in = timerInput{Op: "cancel", ID: op.ID, Payload: []byte{}}
	}
	b, _ := msgpack.Marshal(&in) // a struct of strings, ints and bytes
	return b
}

func decodeTimer(data []byte) (actor.TimerOp, error) {
	var in timerInput
	if err := msgpack.Unmarshal(data, &in); err != nil {
		return actor.TimerOp{}, fmt.Errorf("%w: timer: %v", ErrMalformedInput, err)
	}
	op := actor.TimerOp{ID: in.ID, Cancel: in.Op == "cancel", Delay: time.Duration(in.DelayMs) * time.Millisecond,
		Interval: time.Duration(in.IntervalMs) * time.Millisecond, Payload: nonNilBytes(in.Payload)}
	if in.Op != "set" && in.Op != "cancel" || !bytes.Equal(encodeTimer(op), data) {
		return actor.TimerOp{}, fmt.Errorf("%w: timer: not in canonical form", ErrMalformedInput)
	}
	return op, nil
}

// TimerOpsOf returns the timer ops recorded in an event's inputs, in
// order: what [Recorder.ApplyTimers] did, or should have, for it.
func TimerOpsOf(inputs []chain.Input) []actor.TimerOp {
	return effectsOf(inputs, CallTimer, decodeTimer)
}

// playTimers checks timer calls against the record.
type playTimers struct{ p *player }

func (t playTimers) Timer(_ context.Context, op actor.TimerOp) error {
	return t.p.playEffect(CallTimer, encodeTimer(op), "timer "+op.ID)
}
