package node_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/theater-go/theater/transport/node"
)

// BenchmarkRestore: the time a restore (what a restart, a takeover or a
// wake reads of an actor's chain) takes for chains of 1,000, 10,000 and
// 40,000 events of the counter (and 50 more, so that each restore from
// the last snapshot reads the same tail), snapshots every 100 handled
// events.
//
//	go test -run x -bench Restore -benchtime 5x ./transport/node
func BenchmarkRestore(b *testing.B) {
	for _, n := range []int{1000, 10000, 40000} {
		b.Run(fmt.Sprint(n/1000, "k"), func(b *testing.B) {
			ctx := context.Background()
			srv := testServer(b)
			nd := startNode(b, srv, "a")
			c := newClient(b, srv)
			spawnCounter(b, c, "counter-1", "")
			var wg sync.WaitGroup
			const par = 10
			for range par {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range (n + 50) / par {
						if _, err := requestAdd(ctx, c, "counter-1", 1); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			if err := node.Restore(ctx, nd, "counter-1"); err != nil { // opens what a first restore opens
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if err := node.Restore(ctx, nd, "counter-1"); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "events")
		})
	}
}
