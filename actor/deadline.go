package actor

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// callCtx is the context of an instance's guest calls. It carries the
// instance for the host functions and the handler deadline, with one
// timer and one Done channel for the instance's whole life instead of a
// context.WithTimeout (a timer, a context and a channel) per call.
//
// wazero watches Done during every call (the runtime is configured with
// WithCloseOnContextDone) and closes the module when it is closed. Once
// that happened the instance is discarded, so the channel never needs to
// be reopened.
type callCtx struct {
	context.Context // the parent, for Value

	mu       sync.Mutex
	done     chan struct{}
	err      error
	armed    bool
	deadline time.Time
	timer    *time.Timer
}

func newCallCtx(parent context.Context) *callCtx {
	c := &callCtx{Context: parent, done: make(chan struct{})}
	c.timer = time.AfterFunc(time.Hour, c.fire)
	c.timer.Stop()
	return c
}

// arm starts the deadline of one call.
func (c *callCtx) arm(d time.Duration) {
	c.mu.Lock()
	c.armed, c.deadline = true, time.Now().Add(d)
	c.mu.Unlock()
	c.timer.Reset(d)
}

// disarm ends the call and reports whether its deadline passed, in which
// case wazero has closed or is closing the module.
func (c *callCtx) disarm() (expired bool) {
	c.timer.Stop()
	c.mu.Lock()
	c.armed = false
	expired = c.err != nil
	c.mu.Unlock()
	return expired
}

// fire is the timer's function.
func (c *callCtx) fire() { c.expire(time.Now()) }

// expire ends the armed call if its deadline is not after now.
//
// Checking armed alone is not enough: the one timer is shared by every
// call, and when it fires just as a call ends, Stop in disarm is too late
// and the goroutine running fire may take the lock only after the next
// arm. That late fire belongs to the previous call; the deadline tells it
// apart, since the next call's lies ahead of it. A timer never runs before
// its deadline (arm takes the deadline before Reset, on the same
// monotonic clock), so a fire for the current call always passes the
// check; a late fire that finds the current deadline passed too is right
// to end the call.
func (c *callCtx) expire(now time.Time) {
	c.mu.Lock()
	if c.armed && c.err == nil && !now.Before(c.deadline) {
		c.err = context.DeadlineExceeded
		close(c.done)
	}
	c.mu.Unlock()
}

// errKilled ends the calls of a killed actor. It wraps context.Canceled
// because wazero closes the module only for a context error it knows.
var errKilled = fmt.Errorf("%w (killed)", context.Canceled)

// kill ends the call in flight, if any, and every later call of the
// instance: wazero closes the module at its next check, and host calls
// waiting on the context return.
func (c *callCtx) kill() {
	c.mu.Lock()
	if c.err == nil {
		c.err = errKilled
		close(c.done)
	}
	c.mu.Unlock()
}

// stop releases the timer when the instance is closed.
func (c *callCtx) stop() { c.timer.Stop() }

func (c *callCtx) Deadline() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deadline, c.armed
}

func (c *callCtx) Done() <-chan struct{} { return c.done }

func (c *callCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
