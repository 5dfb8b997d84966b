package node_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/natstest"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// echoManifest is the WAT echo guest: a request's reply is its message.
const echoManifest = `
name = "echo"
module = "echo.wasm"
[types]
request = "list<u8>"
reply = "list<u8>"
`

// payload64 is a 64-byte msgpack bin (2 header bytes, 62 data bytes).
var payload64 = append([]byte{0xc4, 62}, make([]byte, 62)...)

// requesters runs b.N requests spread over k goroutines.
func requesters(b *testing.B, k int, do func() error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, k)
	b.ResetTimer()
	for range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := do(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkRequest compares request/reply to the WAT echo actor with raw
// NATS request/reply to a plain nats.go responder on the same server, with
// 1 and 32 requesters on one connection.
func BenchmarkRequest(b *testing.B) {
	ctx := context.Background()
	srv := testServer(b)
	startNode(b, srv, "bench")
	c := newClient(b, srv)
	spawnEcho(b, c, "echo")
	responder := connect(b, srv)
	if _, err := responder.Subscribe("bench.echo", func(m *nats.Msg) { _ = m.Respond(m.Data) }); err != nil {
		b.Fatal(err)
	}
	if err := responder.Flush(); err != nil {
		b.Fatal(err)
	}
	nc := connect(b, srv)
	for _, k := range []int{1, 32} {
		b.Run(fmt.Sprintf("raw/%d", k), func(b *testing.B) {
			requesters(b, k, func() error {
				_, err := nc.Request("bench.echo", payload64, 5*time.Second)
				return err
			})
		})
		b.Run(fmt.Sprintf("actor/%d", k), func(b *testing.B) {
			requesters(b, k, func() error {
				reply, err := c.Request(ctx, "echo", payload64, wire.Msgpack)
				if err == nil && len(reply) != len(payload64) {
					err = fmt.Errorf("reply of %d bytes", len(reply))
				}
				return err
			})
		})
	}
}

// BenchmarkRequestRatio measures the actor ÷ raw request rate with 32
// requesters on one connection, alternating chunks of 1,000 requests to
// each, so that the load of a shared machine weighs on both alike; it
// reports both rates and their ratio.
func BenchmarkRequestRatio(b *testing.B) {
	ctx := context.Background()
	srv := testServer(b)
	startNode(b, srv, "bench")
	c := newClient(b, srv)
	spawnEcho(b, c, "echo")
	responder := connect(b, srv)
	if _, err := responder.Subscribe("bench.echo", func(m *nats.Msg) { _ = m.Respond(m.Data) }); err != nil {
		b.Fatal(err)
	}
	if err := responder.Flush(); err != nil {
		b.Fatal(err)
	}
	nc := connect(b, srv)
	raw := func() error {
		_, err := nc.Request("bench.echo", payload64, 5*time.Second)
		return err
	}
	act := func() error {
		_, err := c.Request(ctx, "echo", payload64, wire.Msgpack)
		return err
	}
	const chunk, k = 1000, 32
	var rawT, actT time.Duration
	b.ResetTimer()
	for b.Loop() {
		rawT += timed(b, chunk, k, raw)
		actT += timed(b, chunk, k, act)
	}
	n := float64(b.N * chunk)
	b.ReportMetric(n/rawT.Seconds(), "raw-req/s")
	b.ReportMetric(n/actT.Seconds(), "actor-req/s")
	b.ReportMetric(rawT.Seconds()/actT.Seconds(), "actor/raw")
}

// timed runs n calls of do over k goroutines and returns how long they
// took.
func timed(b *testing.B, n, k int, do func() error) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	start := time.Now()
	for range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := do(); err != nil {
					failed.Store(&err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	return time.Since(start)
}

// BenchmarkDurableSend measures how fast one node handles stored sends.
// Each round fills the counter actors' mailboxes while their node is
// down (the baseline: JetStream async publish into the mailbox stream,
// js-msg/s); starts the node, which takes its actors back from their
// chains and handles those sends (start-msg/s: from node.Start until
// every send's handled event is durable and its effects released; the
// figure this benchmark reported first, start and adoption included);
// then, with the node up and every actor hosted, fills the mailboxes
// again, the same way, and clocks from the first publish until every
// send is durably handled (msg/s: a running node's rate, the publishing
// inside the window). ratio is msg/s ÷ js-msg/s of the same run.
func BenchmarkDurableSend(b *testing.B) {
	for _, tc := range []struct{ actors, each int }{{1, 5000}, {100, 100}} {
		b.Run(fmt.Sprintf("actors=%d", tc.actors), func(b *testing.B) {
			ctx := context.Background()
			srv := testServer(b)
			n, err := node.Start(ctx, node.Config{Conn: connect(b, srv), Runtime: newRuntime(b), Name: "bench", Logger: quiet})
			if err != nil {
				b.Fatal(err)
			}
			c := newClient(b, srv)
			for i := range tc.actors {
				spawnCounter(b, c, fmt.Sprintf("c%d", i), "")
			}
			if err := n.Close(ctx); err != nil {
				b.Fatal(err)
			}
			js := natsJS(b, connect(b, srv))
			durable := func(n *node.Node, last []uint64) {
				natstest.CheckFor(b, 5*time.Minute, time.Millisecond, func() error {
					for i := range tc.actors {
						if d := node.Durable(n, fmt.Sprintf("c%d", i)); d < last[i] {
							return fmt.Errorf("c%d at %d of %d", i, d, last[i])
						}
					}
					return nil
				})
			}
			var jsT, startT, nodeT time.Duration
			for range b.N {
				fillStart := time.Now()
				last := fillMailboxes(b, js, tc.actors, tc.each)
				jsT += time.Since(fillStart)
				start := time.Now()
				n, err := node.Start(ctx, node.Config{Conn: connect(b, srv), Runtime: newRuntime(b), Name: "bench", Logger: quiet})
				if err != nil {
					b.Fatal(err)
				}
				durable(n, last)
				startT += time.Since(start)
				start = time.Now()
				durable(n, fillMailboxes(b, js, tc.actors, tc.each))
				nodeT += time.Since(start)
				b.StopTimer()
				if err := n.Close(ctx); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			msgs := float64(b.N * tc.actors * tc.each)
			b.ReportMetric(msgs/nodeT.Seconds(), "msg/s")
			b.ReportMetric(msgs/startT.Seconds(), "start-msg/s")
			b.ReportMetric(msgs/jsT.Seconds(), "js-msg/s")
			b.ReportMetric(jsT.Seconds()/nodeT.Seconds(), "ratio")
			b.ReportMetric(jsT.Seconds()/startT.Seconds(), "start-ratio")
		})
	}
}

// fillMailboxes stores each sends of u32 1 for every actor and returns
// each actor's last mailbox sequence. Each send has a Nats-Msg-Id of its
// own, as every send through wire.PublishSend (the client's, a node's)
// has: the pump matches a wake-up's id against the sends it read.
func fillMailboxes(b *testing.B, js jetstream.JetStream, actors, each int) []uint64 {
	b.Helper()
	l := transport.Layout{Prefix: transport.DefaultPrefix}
	futures := make([][]jetstream.PubAckFuture, actors)
	for i := range actors {
		for range each {
			f, err := js.PublishAsync(l.SendSubject(fmt.Sprintf("c%d", i)), []byte{0x01},
				jetstream.WithMsgID(fmt.Sprint("fill-", fills.Add(1))), jetstream.WithStallWait(time.Minute))
			if err != nil {
				b.Fatal(err)
			}
			futures[i] = append(futures[i], f)
		}
	}
	last := make([]uint64, actors)
	for i, fs := range futures {
		for _, f := range fs {
			select {
			case ack := <-f.Ok():
				last[i] = max(last[i], ack.Sequence)
			case err := <-f.Err():
				b.Fatal(err)
			}
		}
	}
	return last
}

// fills numbers the sends of fillMailboxes.
var fills atomic.Uint64

// BenchmarkDeadlineHeader measures what the Theater-Deadline header costs
// a request to an actor: 32 requesters, alternating chunks of 1,000
// requests without the header (nc.RequestMsg on the actor's subject) and
// through wire.Request (which sets it, and which the node parses); it
// reports both rates and their ratio.
func BenchmarkDeadlineHeader(b *testing.B) {
	ctx := context.Background()
	srv := testServer(b)
	startNode(b, srv, "bench")
	c := newClient(b, srv)
	spawnEcho(b, c, "echo")
	nc := connect(b, srv)
	bare := func() error {
		_, err := nc.RequestMsg(&nats.Msg{Subject: "theater.actor.echo.req", Data: payload64}, 5*time.Second)
		return err
	}
	withDeadline := func() error {
		_, err := wire.Request(ctx, nc, &nats.Msg{Subject: "theater.actor.echo.req", Data: payload64}, 5*time.Second)
		return err
	}
	const chunk, k = 1000, 32
	var bareT, dlT time.Duration
	b.ResetTimer()
	for b.Loop() {
		bareT += timed(b, chunk, k, bare)
		dlT += timed(b, chunk, k, withDeadline)
	}
	n := float64(b.N * chunk)
	b.ReportMetric(n/bareT.Seconds(), "bare-req/s")
	b.ReportMetric(n/dlT.Seconds(), "deadline-req/s")
	b.ReportMetric(bareT.Seconds()/dlT.Seconds(), "deadline/bare")
}
