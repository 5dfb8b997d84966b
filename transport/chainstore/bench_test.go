package chainstore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/chainstore"
)

var runs atomic.Int64

// BenchmarkAppend compares, on one server in one run, durable appends of
// handled records (64-byte payloads) into one chain and over 100 chains
// with the baseline: plain JetStream async publish of 64-byte sends into
// a mailbox-shaped stream (the layout's mailbox stream: per-subject
// limits, Nats-Msg-Id). Each reports records/s; chain÷baseline is the
// figure of docs/CHAIN.md. Run with -benchtime=40000x.
func BenchmarkAppend(b *testing.B) {
	e := setup(b, nil)
	benchAppend(b, e.nc, e.store, transport.StoreConfig{})
}

// BenchmarkAppendReplicated is BenchmarkAppend on three routed servers
// with three replicas of every stream.
func BenchmarkAppendReplicated(b *testing.B) {
	servers := runCluster(b)
	ctx := testContext(b)
	nc, err := nats.Connect(servers[0].ClientURL())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	layout := transport.Layout{}
	sc := layout.ChainStreamConfig(transport.StoreConfig{Replicas: 3})
	createWhenReady(b, js, sc)
	st, err := chainstore.New(ctx, js, layout)
	if err != nil {
		b.Fatal(err)
	}
	benchAppend(b, nc, st, transport.StoreConfig{Replicas: 3})
}

// createWhenReady creates sc once the cluster has elected its meta
// leader, polling with a deadline.
func createWhenReady(t testing.TB, js jetstream.JetStream, sc jetstream.StreamConfig) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		try, cancel := context.WithTimeout(testContext(t), 2*time.Second)
		_, err := js.CreateStream(try, sc)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func benchAppend(b *testing.B, nc *nats.Conn, st *chainstore.Store, cfg transport.StoreConfig) {
	ctx := testContext(b)
	layout := transport.Layout{}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, layout.MailboxStreamConfig(cfg)); err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 64)

	b.Run("baseline=mailbox-async", func(b *testing.B) {
		b.ResetTimer()
		for i := range b.N {
			m := &nats.Msg{Subject: layout.SendSubject(fmt.Sprint("a", i%100)), Data: payload, Header: nats.Header{}}
			if _, err := js.PublishMsgAsync(m, jetstream.WithMsgID(fmt.Sprint("b", b.N, "-", i)), jetstream.WithStallWait(testTimeout)); err != nil {
				b.Fatal(err)
			}
		}
		select {
		case <-js.PublishAsyncComplete():
		case <-ctx.Done():
			b.Fatal("async publishes not acknowledged")
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})

	run := func(b *testing.B, actors int) {
		b.Helper()
		var wg sync.WaitGroup
		var appends atomic.Int64
		b.ResetTimer()
		for w := range actors {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a, err := st.Appender(fmt.Sprint("bench-", runs.Add(1)), chainstore.Head{})
				if err != nil {
					b.Error(err)
					return
				}
				defer a.Close(ctx)
				var last *chainstore.Pending
				for i := w; i < b.N; i += actors {
					if last, err = a.Append(ctx, &chain.Handled{Call: chain.CallSend, From: "sender", MsgID: "m", MailboxSeq: uint64(i + 1), Payload: payload, State: chain.Sum(payload)}); err != nil {
						b.Error(err)
						return
					}
				}
				if last != nil {
					if err := last.Wait(ctx); err != nil {
						b.Error(err)
					}
				}
				appends.Add(int64(a.Stats().Messages))
			}()
		}
		wg.Wait()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		b.ReportMetric(float64(b.N)/float64(appends.Load()), "records/message")
	}
	b.Run("chain=1", func(b *testing.B) { run(b, 1) })
	b.Run("chain=100", func(b *testing.B) { run(b, 100) })
}

// BenchmarkStoreVerify reads a 10,000-event chain from the stream (direct
// batch gets) and verifies it: the end-to-end rate of a verify.
func BenchmarkStoreVerify(b *testing.B) {
	e := setup(b, nil)
	ctx := testContext(b)
	const n = 10_000
	appendN(b, e, "counter-1", n)
	b.ResetTimer()
	for b.Loop() {
		rep, err := e.store.Verify(ctx, "counter-1", chain.Head{})
		if err != nil || !rep.OK() || rep.Events != n {
			b.Fatal(rep.Findings, err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
