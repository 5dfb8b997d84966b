package actor_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/guest"
)

// heldTimers keeps the ops the host passes on, as a node's recorder does.
type heldTimers struct {
	mu  sync.Mutex
	ops []actor.TimerOp
}

func (h *heldTimers) Timer(_ context.Context, op actor.TimerOp) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	op.Payload = append([]byte(nil), op.Payload...)
	h.ops = append(h.ops, op)
	return nil
}

func timerReq(op, id string, delay, interval uint32, payload string) []byte {
	b := guest.AppendArrayHeader(nil, 5)
	b = guest.AppendString(guest.AppendString(b, op), id)
	b = guest.AppendUint(guest.AppendUint(b, uint64(delay)), uint64(interval))
	return guest.AppendString(b, payload)
}

// TestTimerCapability: set and cancel reach the Timers with their
// arguments; a bad id and a short interval are refused as the WIT error
// the guest gets.
func TestTimerCapability(t *testing.T) {
	h := &heldTimers{}
	a, err := newRuntime(t).Spawn(context.Background(), actor.Spec{ID: "tim", Module: goGuest(t, "examples/timer-agent/guest"),
		Capabilities: []string{"timer"}, Timers: h, TimerMaxSets: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop(context.Background())
	ask := func(msg []byte) string {
		r, err := a.Request(context.Background(), msg)
		if err != nil {
			t.Fatal(err)
		}
		s, _, _ := guest.ReadString(r)
		return s
	}
	for _, tc := range []struct {
		msg  []byte
		want string
	}{
		{timerReq("set", "once", 250, 0, "hi"), "ok"},
		{timerReq("set", "tick", 0, 2000, "t"), "ok"},
		{timerReq("cancel", "tick", 0, 0, ""), "ok"},
		{timerReq("set", "a b", 0, 0, ""), `theater: timer: invalid: timer id "a b"`},
		{timerReq("set", "fast", 0, 999, ""), "theater: timer: invalid: interval 999ms is under 1s"},
	} {
		if got := ask(tc.msg); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%q, want %q", got, tc.want)
		}
	}
	want := []actor.TimerOp{{ID: "once", Delay: 250 * time.Millisecond, Payload: guest.AppendString(nil, "hi")},
		{ID: "tick", Interval: 2 * time.Second, Payload: guest.AppendString(nil, "t")}, {ID: "tick", Cancel: true, Payload: []byte{}}}
	if len(h.ops) != len(want) {
		t.Fatalf("ops %+v", h.ops)
	}
	for k, op := range h.ops {
		w := want[k]
		if op.ID != w.ID || op.Cancel != w.Cancel || op.Delay != w.Delay || op.Interval != w.Interval || string(op.Payload) != string(w.Payload) {
			t.Errorf("op %d: %+v, want %+v", k, op, w)
		}
	}
}

// TestTimerRefusedWithoutGrant: a module that imports timer without the
// grant is refused at spawn, naming the import.
func TestTimerRefusedWithoutGrant(t *testing.T) {
	_, err := newRuntime(t).Spawn(context.Background(), actor.Spec{ID: "tim", Module: goGuest(t, "examples/timer-agent/guest")})
	if !errors.Is(err, actor.ErrRefused) || !strings.Contains(err.Error(), "theater:actor/timer@0.1.0") {
		t.Fatalf("got %v", err)
	}
}
