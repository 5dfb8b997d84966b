package replay_test

import (
	"context"
	"testing"

	"github.com/theater-go/theater/actor/replay"
)

// TestFuelReplays: in every guest language, each handler call of a
// replay consumes the same fuel (Actor.LastFuel) as the live call it
// replays: the fuel of a call depends only on the message, the state and
// the calls the instance made before. (Across hibernations too, once the
// chain records them: TestFuelAcrossWakes.)
func TestFuelReplays(t *testing.T) {
	ctx := context.Background()
	for _, lang := range []string{"wat", "c", "assemblyscript", "go"} {
		t.Run(lang, func(t *testing.T) {
			module := counter(t, lang)
			id := "fuel-" + lang
			l := spawnLive(t, newRuntime(t), counterSpec(id, module), nil, nil, nil)
			live := []uint64{l.a.LastFuel()} // theater_init
			for i := uint64(1); i <= 12; i++ {
				var err error
				if i%2 == 0 {
					_, err = l.request(u(i << (4 * i)))
				} else {
					err = l.send(u(i))
				}
				if err != nil {
					t.Fatal(err)
				}
				live = append(live, l.a.LastFuel())
			}
			rt := newRuntime(t)
			var replayed []uint64
			progress := func(done, _ int) {
				// Events: the spawn, then one handled event per call.
				if a, ok := rt.Actor(id); ok && done >= 2 {
					replayed = append(replayed, a.LastFuel())
				}
			}
			rep, err := replay.Replay(ctx, rt, counterSpec("", module), l.events(), replay.WithProgress(progress))
			if err != nil || !rep.OK() {
				t.Fatalf("replay: %v, %v", err, rep.Divergence)
			}
			if len(replayed) != len(live) {
				t.Fatalf("replayed %d calls, %d live", len(replayed), len(live))
			}
			for i := range live {
				if live[i] == 0 || replayed[i] != live[i] {
					t.Fatalf("call %d: fuel %d in replay, %d live (all: %v, %v)", i, replayed[i], live[i], replayed, live)
				}
			}
		})
	}
}
