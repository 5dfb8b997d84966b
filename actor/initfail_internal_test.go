package actor

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"
)

// hookHandler is a slog handler that runs hook on the first record: the
// counter logs from theater_init, so hook runs in the middle of it.
type hookHandler struct {
	once sync.Once
	hook func()
}

func (h *hookHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *hookHandler) Handle(context.Context, slog.Record) error {
	h.once.Do(h.hook)
	return nil
}
func (h *hookHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *hookHandler) WithGroup(string) slog.Handler      { return h }

// TestRequestDuringFailedInit sends a request to an actor while its
// theater_init runs and then fails: the request must not run on the
// instance of the failed actor, but get ErrStopped.
func TestRequestDuringFailedInit(t *testing.T) {
	ctx := context.Background()
	wasm, err := os.ReadFile("../examples/counter/wat/counter.wasm")
	if err != nil {
		t.Fatal(err)
	}
	rt, err := NewRuntime(ctx, WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)

	type result struct {
		reply []byte
		err   error
	}
	res := make(chan result, 1)
	h := &hookHandler{hook: func() {
		a, ok := rt.Actor("c")
		if !ok {
			t.Error("the id is not visible while theater_init runs")
			res <- result{err: ErrStopped}
			return
		}
		go func() {
			r, err := a.Request(ctx, []byte{1})
			res <- result{r, err}
		}()
		// Wait until the request has taken the handler's place: it then
		// waits for the semaphore, which init holds.
		deadline := time.Now().Add(10 * time.Second)
		for {
			a.mu.Lock()
			running := a.running
			a.mu.Unlock()
			if running {
				return
			}
			if time.Now().After(deadline) {
				t.Error("the request never started")
				return
			}
			time.Sleep(time.Millisecond)
		}
	}}
	// 0xc1 is not msgpack: the counter's init logs, then returns an err.
	a, err := rt.Spawn(ctx, Spec{ID: "c", Module: wasm, Capabilities: []string{"log"},
		State: []byte{0xc1}, Logger: slog.New(h), Limits: Limits{IdleTimeout: -1}})
	var f Failure
	if a != nil || !errors.As(err, &f) || f.Kind != GuestError {
		t.Fatalf("spawn with a bad state: %v, %v; want a guest error", a, err)
	}
	select {
	case r := <-res:
		if !errors.Is(r.err, ErrStopped) {
			t.Errorf("request during the failed init: %x, %v; want ErrStopped", r.reply, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the request never returned")
	}
	if n, live := rt.Len(), rt.Live(); n != 0 || live != 0 {
		t.Errorf("after a failed init: Len %d, Live %d; want 0, 0", n, live)
	}
}
