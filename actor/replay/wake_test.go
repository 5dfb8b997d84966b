package replay_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/replay"
)

// replayFuel replays events in a new runtime, fails the test on a
// divergence, and returns the fuel of every successful handled event by
// its sequence.
func replayFuel(t *testing.T, spec actor.Spec, events []chain.Event) map[uint64]uint64 {
	t.Helper()
	rt := newRuntime(t)
	fuel := map[uint64]uint64{}
	progress := func(done, _ int) {
		e := events[done-1]
		if _, ok := e.Body.(*chain.Handled); !ok {
			return // a failure event, or one that runs nothing
		}
		if a, ok := rt.Actor(e.Actor); ok {
			fuel[e.Seq] = a.LastFuel()
		}
	}
	rep, err := replay.Replay(context.Background(), rt, spec, events, replay.WithProgress(progress))
	if err != nil || !rep.OK() {
		t.Fatalf("replay: %v, %v", err, rep.Divergence)
	}
	return fuel
}

// lastSeq is the sequence of the last event the live run recorded.
func (l *live) lastSeq() uint64 { return l.head.Seq }

// waitHibernated waits until the idle timer has closed the instance.
func waitHibernated(t *testing.T, a *actor.Actor) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for a.Live() {
		if time.Now().After(deadline) {
			t.Fatal("the actor did not hibernate")
		}
		time.Sleep(time.Millisecond) // polling the idle timer's effect, with a deadline
	}
}

// TestFuelAcrossWakes: with hibernations between calls (a short idle
// timeout and explicit ones), every call of a C and a Go counter
// consumes the same fuel live and on replay, the first call of each
// woken instance included (it costs 2.7-4.3 times a warm one, so the
// test fails if replay runs it in its warm instance). Without the wake
// events, replay's first call after a wake costs the warm fuel.
func TestFuelAcrossWakes(t *testing.T) {
	for _, lang := range []string{"c", "go"} {
		t.Run(lang, func(t *testing.T) {
			module := counter(t, lang)
			spec := counterSpec("wake-"+lang, module)
			spec.Limits.IdleTimeout = 20 * time.Millisecond
			l := spawnLive(t, newRuntime(t), spec, nil, nil, nil)
			live := map[uint64]uint64{l.lastSeq(): l.a.LastFuel()}
			woke := 0
			for i := uint64(1); i <= 12; i++ {
				switch i % 4 {
				case 0:
					waitHibernated(t, l.a)
					woke++
				case 2:
					if err := l.a.Hibernate(context.Background()); err != nil {
						t.Fatal(err)
					}
					woke++
				}
				var err error
				if i%3 == 0 {
					_, err = l.request(u(i))
				} else {
					err = l.send(u(i))
				}
				if err != nil {
					t.Fatal(err)
				}
				live[l.lastSeq()] = l.a.LastFuel()
			}
			evs := l.events()
			wakes := 0
			for _, e := range evs {
				if lc, ok := e.Body.(*chain.Lifecycle); ok && lc.What == chain.Wake {
					wakes++
				}
			}
			// The idle timer may also fire between two calls the test did
			// not wait for: at least the waited ones are wakes.
			if wakes < woke {
				t.Fatalf("%d wake events, want at least %d", wakes, woke)
			}
			replayed := replayFuel(t, counterSpec("", module), evs)
			cold, warm := uint64(0), uint64(1<<63)
			for seq, f := range live {
				if replayed[seq] != f {
					t.Fatalf("event %d: fuel %d on replay, %d live (live %v, replay %v)", seq, replayed[seq], f, live, replayed)
				}
				cold, warm = max(cold, f), min(warm, f)
			}
			if cold < 2*warm {
				t.Fatalf("a woken call costs %d, a warm one %d: the test shows nothing", cold, warm)
			}
		})
	}
}

// TestOutOfFuelAtWake: a fuel limit above init and every warm call but
// below the first call of a woken Go counter. Live, the first call after
// each hibernation runs out of fuel; replay fails the same calls out of
// fuel and no other (a divergence otherwise), with every state hash
// equal. Before the chain recorded wakes, replay ran those calls in its
// warm instance, where they succeed.
func TestOutOfFuelAtWake(t *testing.T) {
	module := counter(t, "go")
	// The fuel of init, a warm call and a woken one, measured without a
	// limit.
	probe := spawnLive(t, newRuntime(t), counterSpec("probe", module), nil, nil, nil)
	initFuel := probe.a.LastFuel()
	if err := probe.send(u(1)); err != nil {
		t.Fatal(err)
	}
	warmFuel := probe.a.LastFuel()
	if err := probe.a.Hibernate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := probe.send(u(1)); err != nil {
		t.Fatal(err)
	}
	wokenFuel := probe.a.LastFuel()
	limit := (max(initFuel, warmFuel) + wokenFuel) / 2
	if limit <= max(initFuel, warmFuel) || limit >= wokenFuel {
		t.Fatalf("init %d, warm %d, woken %d: no limit between", initFuel, warmFuel, wokenFuel)
	}

	spec := counterSpec("oof-at-wake", module)
	spec.Limits.Fuel = limit
	spec.FailurePolicy = actor.RecreateOnFailure
	l := spawnLive(t, newRuntime(t), spec, nil, nil, nil)
	var failedAt []uint64
	for i := uint64(1); i <= 6; i++ {
		if i == 4 {
			if err := l.a.Hibernate(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		err := l.send(u(i))
		var f actor.Failure
		switch {
		case err == nil:
		case errors.As(err, &f) && f.Kind == actor.OutOfFuel:
			failedAt = append(failedAt, l.lastSeq()-1) // the handled event before its failure
		default:
			t.Fatalf("send %d: %v", i, err)
		}
	}
	// Sends 1-3 are warm; 4 wakes and fails, and so does every one after
	// it (a failure closes the instance, so each runs in a woken one).
	if len(failedAt) != 3 {
		t.Fatalf("out of fuel at events %v, want the last 3 sends", failedAt)
	}
	replaySpec := counterSpec("", module)
	replaySpec.Limits.Fuel = limit
	rep, err := replay.Replay(context.Background(), newRuntime(t), replaySpec, l.events())
	if err != nil || !rep.OK() {
		t.Fatalf("replay: %v, %v", err, rep.Divergence)
	}
	if rep.Handled != 7 || rep.StatesEqual != 7 {
		t.Fatalf("%d handled, %d equal; want 7 of 7", rep.Handled, rep.StatesEqual)
	}
}

// TestGoClocksAcrossWakes: a Go guest's WASI clocks restart with each
// instance (wall time from 2022-01-01, monotonic time from its image);
// across hibernations, replay gives it the same readings, so its replies,
// which carry them, are equal. Without the wake events replay's instance
// reads later times and the first reply after a wake diverges.
func TestGoClocksAcrossWakes(t *testing.T) {
	module := goGuest(t, "actor/testdata/host/clock")
	spec := actor.Spec{ID: "clock", Module: module, Logger: quiet}
	l := spawnLive(t, newRuntime(t), spec, nil, nil, nil)
	var replies [][]byte
	for i := 1; i <= 6; i++ {
		if i == 4 {
			if err := l.a.Hibernate(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		reply, err := l.request(nil)
		if err != nil {
			t.Fatal(err)
		}
		replies = append(replies, reply)
	}
	if bytes.Equal(replies[3], replies[2]) || !bytes.Equal(replies[3], replies[0]) {
		// Each instance reads the same clocks from its start.
		t.Fatalf("replies %x: the woken instance's first reading is not the first instance's", replies)
	}
	rep, err := replay.Replay(context.Background(), newRuntime(t), actor.Spec{Module: module, Logger: quiet}, l.events())
	if err != nil || !rep.OK() {
		t.Fatalf("replay: %v, %v", err, rep.Divergence)
	}
}
