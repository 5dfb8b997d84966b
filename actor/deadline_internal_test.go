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
	defer c.stop()

	c.arm(time.Hour) // the first call
	if c.disarm() {
		t.Fatal("first call expired")
	}
	c.arm(time.Hour) // the next call
	c.fire()         // the first call's timer, late
	if err := c.Err(); err != nil {
		t.Fatalf("a late fire ended the next call: %v", err)
	}
	select {
	case <-c.Done():
		t.Fatal("a late fire closed Done")
	default:
	}
	if c.disarm() {
		t.Fatal("the next call reported expired")
	}

	// A fire at or past the armed deadline does end the call.
	c.arm(time.Hour)
	c.mu.Lock()
	d := c.deadline
	c.mu.Unlock()
	c.expire(d)
	if !c.disarm() || !errors.Is(c.Err(), context.DeadlineExceeded) {
		t.Fatalf("a fire at the deadline: Err %v", c.Err())
	}
	select {
	case <-c.Done():
	default:
		t.Fatal("Done is open after the deadline")
	}
}

// TestDeadlineFires checks that the real timer still ends a call.
func TestDeadlineFires(t *testing.T) {
	c := newCallCtx(context.Background())
	defer c.stop()
	c.arm(time.Millisecond)
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the deadline timer never ended the call")
	}
	if !c.disarm() {
		t.Fatal("disarm after the deadline: not expired")
	}
}
