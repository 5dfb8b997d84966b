package node_test

import (
	"context"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/replay"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/node"
)

// BenchmarkStore compares a store get and put made by a Go guest (a
// request to the kv-notes example, whose handler makes the one call)
// with a direct nats.go KV call on the same bucket, in the same run.
// "guest-denied" is the same request refused before any I/O: the part
// of the cost that is the actor, not the store. The "-xN" pairs measure
// one call inside a request: (T(xN) - T(x0)) / N.
func BenchmarkStore(b *testing.B) {
	const perCall = 16
	srv := testServer(b)
	ctx := context.Background()
	js, err := jetstream.New(connect(b, srv))
	if err != nil {
		b.Fatal(err)
	}
	l := transport.Layout{}
	if err := l.Ensure(ctx, js, transport.StoreConfig{}); err != nil {
		b.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, l.StoreBucket())
	if err != nil {
		b.Fatal(err)
	}
	s, err := node.NewKVStore(ctx, js, l.StoreBucket(), l.StoreValuesStore())
	if err != nil {
		b.Fatal(err)
	}
	value := make([]byte, 64)
	for _, k := range []string{"actor.bench.k", "actor.bench-rec.k", "actor.bench-timed.k"} { // every get finds its value
		if _, err := kv.Put(ctx, k, value); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("direct-get", func(b *testing.B) {
		defer cpuPerOp(b)()
		for b.Loop() {
			if _, err := kv.Get(ctx, "actor.bench.k"); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The same get as one core NATS request to the direct get API: what
	// the KV API adds to the round trip.
	nc := connect(b, srv)
	getSubj := "$JS.API.DIRECT.GET.KV_" + l.StoreBucket() + ".$KV." + l.StoreBucket() + ".actor.bench.k"
	b.Run("direct-request", func(b *testing.B) {
		defer cpuPerOp(b)()
		for b.Loop() {
			if m, err := nc.RequestWithContext(ctx, getSubj, nil); err != nil || len(m.Data) != len(value) {
				b.Fatal(err)
			}
		}
	})
	b.Run("direct-put", func(b *testing.B) {
		defer cpuPerOp(b)()
		for b.Loop() {
			if _, err := kv.Put(ctx, "actor.bench.k", value); err != nil {
				b.Fatal(err)
			}
		}
	})
	rt := newRuntime(b)
	mod := notesModule(b)
	spawn := func(id string, st actor.Store) *actor.Actor {
		a, err := rt.Spawn(ctx, actor.Spec{ID: id, Module: mod, Capabilities: []string{"store"}, Store: st})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { a.Stop(ctx) })
		return a
	}
	a := spawn("bench", s)
	run := func(name string, a *actor.Actor, msg []byte, after func()) {
		b.Run(name, func(b *testing.B) {
			defer cpuPerOp(b)()
			for b.Loop() {
				if _, err := a.Request(ctx, msg); err != nil {
					b.Fatal(err)
				}
				if after != nil {
					after()
				}
			}
		})
	}
	run("guest-get", a, notesMsg("get", "", "k", "", 0), nil)
	run("guest-put", a, notesMsg("put", "", "k", string(value), 0), nil)
	run("guest-denied", a, notesMsg("get", "other", "k", "", 0), nil)
	// Per call: a request making perCall calls less one making none,
	// divided by perCall, is one call's cost without the request's.
	run("guest-get-x0", a, notesMsg("many", "", "k", "0", 0), nil)
	run("guest-get-x"+strconv.Itoa(perCall), a, notesMsg("many", "", "k", strconv.Itoa(perCall), 0), nil)
	run("guest-put-x0", a, notesMsg("putn", "", "k", string(value), 0), nil)
	run("guest-put-x"+strconv.Itoa(perCall), a, notesMsg("putn", "", "k", string(value), perCall), nil)
	// Where a call's time goes: the time inside the Store's Get (the
	// network wait the guest makes) against the per-call figure.
	ts := &timedStore{Store: s}
	timed := spawn("bench-timed", ts)
	b.Run("guest-get-x"+strconv.Itoa(perCall)+"-timed", func(b *testing.B) {
		ts.n, ts.d = 0, 0
		defer cpuPerOp(b)()
		for b.Loop() {
			if _, err := timed.Request(ctx, notesMsg("many", "", "k", strconv.Itoa(perCall), 0)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(ts.d.Nanoseconds())/float64(ts.n), "ns-in-store/get")
	})
	// As a node runs it: recorded, the put held and applied after the
	// handler (here at once; a node waits for the event to be durable).
	rec := replay.NewRecorder(nil, nil, nil)
	r := spawn("bench-rec", rec.Store(s))
	rec.Take()
	seq := uint64(0)
	apply := func() {
		rec.Take()
		seq++
		if err := rec.Apply(ctx, "bench-rec", seq, rec.Writes()); err != nil {
			b.Fatal(err)
		}
	}
	run("recorded-get", r, notesMsg("get", "", "k", "", 0), apply)
	run("recorded-put", r, notesMsg("put", "", "k", string(value), 0), apply)
}

// timedStore sums the time its Gets take (one actor calls it: no lock).
type timedStore struct {
	actor.Store
	n int
	d time.Duration
}

func (s *timedStore) Get(ctx context.Context, ns, key string) (actor.StoreEntry, bool, error) {
	t := time.Now()
	e, found, err := s.Store.Get(ctx, ns, key)
	s.d += time.Since(t)
	s.n++
	return e, found, err
}

// cpuPerOp reports, when the returned func runs after b's loop, the
// process's CPU time (user and system, the embedded server's included)
// per op: the work an op costs, which a loaded machine inflates much
// less than it does wall time.
func cpuPerOp(b *testing.B) func() {
	start := processCPU()
	return func() { b.ReportMetric(float64((processCPU()-start).Nanoseconds())/float64(b.N), "cpu-ns/op") }
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru) // cannot fail for RUSAGE_SELF
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
