package node_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestTimersEndWithActor: a stopped actor's timers stay (they fire while
// it is stopped); an actor spawned again under its id starts with none
// of them, and one removed leaves none in the timers stream.
func TestTimersEndWithActor(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startGoNode(t, srv, "a")
	c := newClient(t, srv)
	st, err := natsJS(t, connect(t, srv)).Stream(ctx, "theater_timers")
	if err != nil {
		t.Fatal(err)
	}
	// left counts the messages of actor id's timers in the stream.
	left := func(id string) uint64 {
		t.Helper()
		info, err := st.Info(ctx, jetstream.WithSubjectFilter("theater.timer."+id+".>"))
		if err != nil {
			t.Fatal(err)
		}
		var n uint64
		for _, k := range info.State.Subjects {
			n += k
		}
		return n
	}
	for _, id := range []string{"tim", "gone"} {
		spawnTimer(t, c, id, "a")
		for _, msg := range [][]byte{timerMsg("set", "tick", 0, 1000, "tick"), timerMsg("set", "later", 2000, 0, "later")} {
			if got, err := timerAsk(t, c, id, msg); err != nil || got != "ok" {
				t.Fatalf("%s: set: %q %v", id, got, err)
			}
		}
		checkFor(t, 10*time.Second, func() error {
			if n := left(id); n < 2 {
				return errors.New("the schedules are not in the stream yet")
			}
			return nil
		})
		if _, err := c.Stop(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if n := left("tim"); n < 2 {
		t.Fatalf("a stopped actor's timers: %d messages left", n)
	}
	spawnTimer(t, c, "tim", "a")
	if n := left("tim"); n != 0 {
		t.Fatalf("spawned again: %d messages of the earlier actor's timers left", n)
	}
	time.Sleep(2500 * time.Millisecond) // past both timers' times: their fires are what is tested against
	if got := timerCount(t, c, "tim"); got != "0 " {
		t.Fatalf("the new actor got an earlier one's timers: count %q", got)
	}
	if got, err := timerAsk(t, c, "tim", timerMsg("set", "once", 100, 0, "mine")); err != nil || got != "ok" {
		t.Fatalf("set: %q %v", got, err)
	}
	checkFor(t, 10*time.Second, func() error {
		if got := timerCount(t, c, "tim"); got != "1 mine" {
			return errors.New("count " + got)
		}
		return nil
	})
	if _, err := c.Remove(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if n := left("gone"); n != 0 {
		t.Fatalf("removed: %d messages of its timers left", n)
	}
}
