package actor

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestLateFireSparesNextCall plays a timer that fired for one call but
// whose goroutine took the lock only after the next call was armed: it
// must not end the next call.
func TestLateFireSparesNextCall(t *testing.T) {
	c := newCallCtx(context.Background())
	defer c.release()

	c.arm(time.Hour, 0) // the first call
	c.Done()            // a host call waits: the timer starts
	if _, expired := c.disarm(); expired {
		t.Fatal("first call expired")
	}
	c.arm(time.Hour, 0) // the next call
	c.fire()            // the first call's timer, late
	if err := c.Err(); err != nil {
		t.Fatalf("a late fire ended the next call: %v", err)
	}
	select {
	case <-c.Done():
		t.Fatal("a late fire closed Done")
	default:
	}
	if _, expired := c.disarm(); expired {
		t.Fatal("the next call reported expired")
	}

	// A fire at or past the armed deadline does end the call.
	c.arm(time.Hour, 0)
	c.expire(c.endNs.Load())
	if _, expired := c.disarm(); !expired || !errors.Is(c.Err(), context.DeadlineExceeded) {
		t.Fatalf("a fire at the deadline: Err %v", c.Err())
	}
	select {
	case <-c.Done():
	default:
		t.Fatal("Done is open after the deadline")
	}
}

// TestDeadlineFires checks that the timer a waiting host call starts
// ends the call, and that a call nobody waits on starts no timer.
func TestDeadlineFires(t *testing.T) {
	c := newCallCtx(context.Background())
	defer c.release()
	c.arm(time.Millisecond, 0)
	c.disarm()
	if c.timer != nil {
		t.Fatal("a call that never asked for Done made a timer")
	}
	c.arm(time.Millisecond, 0)
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the deadline timer never ended the call")
	}
	if _, expired := c.disarm(); !expired {
		t.Fatal("disarm after the deadline: not expired")
	}
}

// stopped runs refill and returns the error it stopped the call with.
func stopped(c *callCtx, left int64) (fuel int64, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = p.(error)
		}
	}()
	return c.refill(left), nil
}

// TestRefill: refill covers any overdraft up to the limit, stops the call
// at the first point past it whatever the slice, and stops a killed or
// expired call.
func TestRefill(t *testing.T) {
	c := newCallCtx(context.Background())
	c.arm(time.Hour, 3*fuelSlice)
	// No fuel global yet (an instantiation): the first point asks.
	if g, err := stopped(c, -10); err != nil || g != fuelSlice-10 {
		t.Fatalf("first refill: %d, %v", g, err)
	}
	// An overdraft larger than a slice is covered in one refill.
	if g, err := stopped(c, -(fuelSlice + 5)); err != nil || g != 0 {
		t.Fatalf("large overdraft: %d, %v", g, err)
	}
	// fuelSlice - 5 units are left of the limit; an overdraft past them stops.
	if _, err := stopped(c, -fuelSlice); !errors.Is(err, ErrOutOfFuel) {
		t.Fatalf("past the limit: %v", err)
	}
	if spent, _ := c.disarm(); spent != 3*fuelSlice+5 {
		t.Errorf("spent %d, want %d", spent, 3*fuelSlice+5)
	}

	c.arm(time.Hour, 0)
	c.kill()
	if _, err := stopped(c, -1); !errors.Is(err, context.Canceled) {
		t.Errorf("killed: %v", err)
	}
	c.disarm()

	d := newCallCtx(context.Background())
	d.arm(-time.Second, 0)
	if _, err := stopped(d, -1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("expired: %v", err)
	}
	if _, expired := d.disarm(); !expired {
		t.Error("a call stopped at its deadline is not reported expired")
	}
}
