package replay_test

import (
	"context"
	"testing"

	"github.com/theater-go/theater/actor/replay"
)

// BenchmarkReplay replays a chain of 10,000 sends to the WAT counter and,
// as its baseline in the same run, handles the same 10,000 sends live
// (Actor.Deliver, no recording). Compare the events/s metrics.
//
//	go test -run x -bench Replay -benchtime 20x -count 3 ./actor/replay
func BenchmarkReplay(b *testing.B) {
	const n = 10_000
	ctx := context.Background()
	module := counter(b, "wat")
	l := spawnLive(b, newRuntime(b), counterSpec("bench", module), nil, nil, nil)
	for i := 0; i < n; i++ {
		if err := l.send(u(1)); err != nil {
			b.Fatal(err)
		}
	}
	evs := l.events()
	rt := newRuntime(b)

	b.Run("live", func(b *testing.B) {
		for b.Loop() {
			a, err := rt.Spawn(ctx, counterSpec("bench", module))
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < n; i++ {
				if _, err := a.Deliver(ctx, u(1)); err != nil {
					b.Fatal(err)
				}
			}
			a.Kill(ctx)
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("replay", func(b *testing.B) {
		for b.Loop() {
			rep, err := replay.Replay(ctx, rt, counterSpec("bench", module), evs)
			if err != nil || !rep.OK() {
				b.Fatalf("%s: %v", &rep, err)
			}
		}
		b.ReportMetric(float64(len(evs)*b.N)/b.Elapsed().Seconds(), "events/s")
	})
	// From the stored bytes, as `theater replay` does after reading.
	b.Run("decode+replay", func(b *testing.B) {
		for b.Loop() {
			rep, err := replay.Replay(ctx, rt, counterSpec("bench", module), decodeAll(b, l.sealed))
			if err != nil || !rep.OK() {
				b.Fatalf("%s: %v", &rep, err)
			}
		}
		b.ReportMetric(float64(len(evs)*b.N)/b.Elapsed().Seconds(), "events/s")
	})
}
