package actor

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// fuelSlice is how much fuel the meter grants at a time when the call has
// no fuel limit (or more left than this): the wall clock and the kill
// flag are checked once per slice. 2^17 units take 15–50 µs in a tight
// loop on wazero's compiler, which bounds a runaway's overshoot past its
// deadline or a kill, and costs one host call (~0.1 µs) per slice.
const fuelSlice = 1 << 17

// callCtx is the context of an instance's guest calls and the host side
// of its fuel meter (package meter's contract). It carries the instance
// for the host functions, and for each call a wall-clock deadline and an
// optional fuel limit, with no goroutine and no allocation per call.
//
// Nothing watches a running call from outside: the guest's metering
// points call [callCtx.refill] each time a slice of fuel is spent, and
// that checks the kill flag, the deadline and the fuel limit. Done is
// closed by a kill, and by the deadline only for a call that asked for
// Done (a host function waiting on the context): its timer is started
// then, so a call that never waits never touches a timer. Once the
// deadline passed or the instance was killed it is discarded, so the
// channel never needs to be reopened.
type callCtx struct {
	context.Context // the parent, for Value

	// endNs is the armed call's deadline on the clock of nanos, 0 when no
	// call is armed. Atomic so that arming and disarming a call takes no
	// lock; Done, the timer and kill take mu.
	endNs  atomic.Int64
	ended  atomic.Bool // err is set and done closed
	timing atomic.Bool // the timer runs for the current call
	killed atomic.Bool

	mu    sync.Mutex
	done  chan struct{}
	err   error
	timer *time.Timer // made by the first Done of an armed call

	// Owned by the goroutine running the call (refill runs on it).
	fuel    api.MutableGlobal // the instance's fuel global; nil while it is instantiated
	end     int64             // the current call's deadline, as endNs
	granted int64             // fuel granted to the current call
	budget  int64             // fuel the current call may still be granted
	abort   error             // why refill stopped the current call, once it did
	spent   int64             // fuel consumed when it stopped it
}

// clockBase is the origin of nanos.
var clockBase = time.Now()

// nanos reads the monotonic clock: time.Since reads only it, which costs
// half of time.Now.
func nanos() int64 { return int64(time.Since(clockBase)) }

func newCallCtx(parent context.Context) *callCtx {
	return &callCtx{Context: parent, done: make(chan struct{})}
}

// arm starts one call: its deadline d from now and, when limit is not
// zero, a limit of that many fuel units.
func (c *callCtx) arm(d time.Duration, limit uint64) {
	end := max(nanos()+int64(d), 1) // 0 means not armed
	c.endNs.Store(end)
	c.end, c.abort, c.spent = end, nil, 0
	c.budget = math.MaxInt64
	if limit != 0 {
		c.budget = int64(min(limit, math.MaxInt64))
	}
	c.granted = 0
	if c.fuel != nil {
		// The first slice goes in before the call, so a short call never
		// reaches the host; a guest's global is left at 0 between calls.
		g := min(fuelSlice, c.budget)
		c.budget -= g
		c.granted = g
		c.fuel.Set(uint64(g))
	}
}

// disarm ends the call. It returns the fuel the call consumed and whether
// its deadline passed (or the instance was killed), in which case the
// instance must be discarded.
func (c *callCtx) disarm() (spent uint64, expired bool) {
	c.endNs.Store(0)
	if c.timing.Load() {
		c.mu.Lock()
		if c.timer != nil {
			c.timer.Stop()
		}
		c.timing.Store(false)
		c.mu.Unlock()
	}
	expired = c.ended.Load()
	switch {
	case c.abort != nil:
		spent = uint64(c.spent)
		expired = expired || errors.Is(c.abort, context.DeadlineExceeded)
	case c.fuel != nil:
		// The global holds what is left of the grants; metering points
		// only ever subtract from it, so it never exceeds the grants.
		spent = uint64(c.granted - int64(c.fuel.Get()))
		c.fuel.Set(0)
	default:
		spent = uint64(c.granted)
	}
	c.granted = 0
	return spent, expired
}

// The errors refill stops a call with. wazero returns them, wrapped, as
// the call's error; failure turns them into a Failure's kind.
var (
	errMeterDeadline = fmt.Errorf("%w (stopped at a metering point)", context.DeadlineExceeded)
	errMeterKilled   = fmt.Errorf("%w (killed)", context.Canceled)
)

// refill is the meter's host function: left, negative, is the fuel the
// guest has overdrawn. It returns the new fuel, or panics to stop the
// call when the actor was killed, the deadline passed, or the fuel limit
// would be exceeded.
//
// It grants enough to cover the overdraft, so the call stops at the first
// metering point past its limit whatever the slice: that point, and the
// fuel consumed there, are the same on every run of the same call.
func (c *callCtx) refill(left int64) int64 {
	if c.abort != nil {
		panic(c.abort) // a nested call (cabi_realloc from a host call) after the stop
	}
	switch {
	case c.killed.Load():
		c.stop(errMeterKilled, left)
	case nanos() > c.end:
		c.stop(errMeterDeadline, left)
	}
	g := min(max(fuelSlice, -left), c.budget)
	if left+g < 0 {
		c.stop(&fuelError{limit: c.granted + c.budget}, left)
	}
	c.budget -= g
	c.granted += g
	return left + g
}

// stop records why and where the call stops, and stops it.
func (c *callCtx) stop(err error, left int64) {
	c.abort, c.spent = err, c.granted-left
	panic(err)
}

// fuelError is a call stopped by its fuel limit.
type fuelError struct{ limit int64 }

func (e *fuelError) Error() string {
	return fmt.Sprintf("%v: limit of %d units", ErrOutOfFuel, e.limit)
}

func (e *fuelError) Unwrap() error { return ErrOutOfFuel }

// fire is the timer's function.
func (c *callCtx) fire() { c.expire(nanos()) }

// expire ends the armed call if its deadline is not after now.
//
// Checking that a call is armed is not enough: the one timer is shared by
// every call, and when it fires just as a call ends, Stop in disarm is too
// late and the goroutine running fire may take the lock only after the
// next arm. That late fire belongs to the previous call; the deadline
// tells it apart, since the next call's lies ahead of it. A timer never
// runs before its deadline (Done starts it after arm took the deadline,
// on the same monotonic clock), so a fire for the current call always
// passes the check; a late fire that finds the current deadline passed
// too is right to end the call.
func (c *callCtx) expire(now int64) {
	c.mu.Lock()
	if end := c.endNs.Load(); end != 0 && c.err == nil && now >= end {
		c.err = context.DeadlineExceeded
		c.ended.Store(true)
		close(c.done)
	}
	c.mu.Unlock()
}

// errKilled is the context error of a killed actor's calls.
var errKilled = fmt.Errorf("%w (killed)", context.Canceled)

// kill ends the call in flight, if any, and every later call of the
// instance: the guest stops at its next metering point, and host calls
// waiting on the context return.
func (c *callCtx) kill() {
	c.mu.Lock()
	c.killed.Store(true)
	if c.err == nil {
		c.err = errKilled
		c.ended.Store(true)
		close(c.done)
	}
	c.mu.Unlock()
}

// release stops the timer when the instance is closed.
func (c *callCtx) release() {
	c.mu.Lock()
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
}

func (c *callCtx) Deadline() (time.Time, bool) {
	end := c.endNs.Load()
	if end == 0 {
		return time.Time{}, false
	}
	return clockBase.Add(time.Duration(end)), true
}

// Done starts the deadline's timer for the current call, if it has not
// started yet: only a host function that waits asks for Done.
func (c *callCtx) Done() <-chan struct{} {
	c.mu.Lock()
	if end := c.endNs.Load(); end != 0 && !c.timing.Load() && c.err == nil {
		c.timing.Store(true)
		if d := time.Duration(end - nanos()); c.timer == nil {
			c.timer = time.AfterFunc(d, c.fire)
		} else {
			c.timer.Reset(d)
		}
	}
	c.mu.Unlock()
	return c.done
}

func (c *callCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
