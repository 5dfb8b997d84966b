package node_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/theater-go/theater/actor/guest"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/wire"
)

// BenchmarkChannelLatency measures, on one node, how long a message
// takes from an actor's handler to its receiver's handled event: by a
// channel publication ("channel": published once the publisher's event
// is durable, stored on the channels stream, moved by the subscriber's
// consumer into its mailbox) against a plain send ("send": published
// into the mailbox once durable), in the same run. Each iteration sends
// the publisher a durable message telling it to publish (or send) a
// unique payload and waits for the subscriber's chain event holding it;
// p50 and p99 are reported beside the mean.
func BenchmarkChannelLatency(b *testing.B) {
	ctx := context.Background()
	srv := testServer(b)
	startNode(b, srv, "a")
	c := newClient(b, srv)
	mod, err := publisherWasm()
	if err != nil {
		b.Fatal(err)
	}
	for id, grant := range map[string]string{
		"sub": "[capabilities.channel]\nsubscribe = [\"bench\"]\n",
		"pub": "[capabilities.channel]\npublish = [\"bench\"]\n",
	} {
		m, err := manifest.Parse(id+".toml", []byte(channelManifest(id, "")+grant))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Spawn(ctx, m, mod, nil, client.SpawnOptions{ID: id, Node: "a"}); err != nil {
			b.Fatal(err)
		}
	}
	events := make(chan *nats.Msg, 64)
	sub, err := connect(b, srv).ChanSubscribe(transport.Layout{}.ChainSubject("sub"), events)
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Unsubscribe()
	k := 0
	for _, how := range []string{"send sub", "pub bench"} {
		name := map[string]string{"send sub": "send", "pub bench": "channel"}[how]
		b.Run(name, func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				k++
				marker := guest.AppendString(nil, fmt.Sprint("m", k))
				start := time.Now()
				if err := c.Send(ctx, "pub", guest.AppendString(nil, fmt.Sprint(how, " m", k)), wire.Msgpack); err != nil {
					b.Fatal(err)
				}
				for done := false; !done; {
					select {
					case m := <-events:
						done = bytes.Contains(m.Data, marker)
					case <-time.After(10 * time.Second):
						b.Fatalf("%s m%d never handled", name, k)
					}
				}
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max-µs")
		})
	}
}
