package actor_test

import (
	"context"
	"encoding/binary"
	"runtime/debug"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/abi"
)

// benchGuest is a guest and a request message for it.
type benchGuest struct {
	name string
	wasm func(testing.TB) []byte
	msg  func(testing.TB) []byte
}

// benchGuests: the four counters answer a 9-byte request (the largest
// msgpack uint); the WAT echo guest answers a 64-byte one.
func benchGuests() []benchGuest {
	nine := func(t testing.TB) []byte { return u64(t, 1<<40) }
	out := []benchGuest{{"echo-wat-64B", func(t testing.TB) []byte { return wasmFile(t, "../examples/echo/wat/echo.wasm") },
		func(testing.TB) []byte { return make([]byte, 64) }}}
	for _, lang := range languages {
		out = append(out, benchGuest{"counter-" + lang + "-9B", func(t testing.TB) []byte { return counter(t, lang) }, nine})
	}
	return out
}

func benchSpec(id string, d actor.Digest) actor.Spec {
	return actor.Spec{ID: id, Digest: d, Capabilities: []string{"log"}, Limits: actor.Limits{IdleTimeout: -1}}
}

// BenchmarkSpawn spawns from a compiled module: instantiate, _initialize,
// theater_abi_version, theater_init; p50 and p99 are reported from sorted
// samples. With 100 live instances at most, each
// spawn past the first hundred also hibernates an older actor.
func BenchmarkSpawn(b *testing.B) {
	ctx := context.Background()
	for _, g := range benchGuests() {
		benchImages(b, g.name, func(b *testing.B, pre actor.Option) {
			rt := newRuntime(b, actor.WithMaxLiveInstances(100), actor.WithLogger(discard()), pre)
			d, err := rt.Compile(ctx, g.wasm(b))
			if err != nil {
				b.Fatal(err)
			}
			i := 0
			var samples []time.Duration
			for b.Loop() {
				t0 := time.Now()
				if _, err := rt.Spawn(ctx, benchSpec("s"+strconv.Itoa(i), d)); err != nil {
					b.Fatal(err)
				}
				samples = append(samples, time.Since(t0))
				i++
			}
			reportQuantiles(b, samples)
		})
	}
}

// BenchmarkRequest is a host->guest->host request on a live actor, next
// to the same guest calls made with bare wazero ("bare"): one
// cabi_realloc and a copy of the state and the message into that block,
// the handler export, reading the return area and copying the reply. The
// bare runs use the module as given, not metered, on a runtime without
// deadline checks ("bare-no-deadline-checks", the floor) and with
// WithCloseOnContextDone ("bare-close-on-done", how the runtime enforced
// deadlines before the metering pass). The ratio to the floor is the cost
// of the actor runtime: mailbox, metering, deadline, bounds checks, state
// bookkeeping.
func BenchmarkRequest(b *testing.B) {
	for _, g := range benchGuests() {
		benchRequest(b, g)
	}
}

// BenchmarkLoop is BenchmarkRequest for a loop-heavy handler: work.wat
// runs 10^6 iterations of a 17-instruction loop body per request.
func BenchmarkLoop(b *testing.B) {
	benchRequest(b, benchGuest{"work-wat-1e6", func(t testing.TB) []byte { return hostile(t, "work") },
		func(testing.TB) []byte { return workMsg(1_000_000) }})
}

func benchRequest(b *testing.B, g benchGuest) {
	ctx := context.Background()
	msg := g.msg(b)
	b.Run(g.name+"/actor", func(b *testing.B) {
		rt := newRuntime(b, actor.WithLogger(discard()))
		a, err := rt.Spawn(ctx, actor.Spec{ID: "r", Module: g.wasm(b), Capabilities: []string{"log"},
			Limits: actor.Limits{IdleTimeout: -1}})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.Request(ctx, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, closeOnDone := range []bool{false, true} {
		name := g.name + "/bare-no-deadline-checks"
		if closeOnDone {
			name = g.name + "/bare-close-on-done"
		}
		b.Run(name, func(b *testing.B) { benchBare(b, g.wasm(b), msg, closeOnDone) })
	}
}

func benchBare(b *testing.B, wasm, msg []byte, closeOnDone bool) {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(closeOnDone))
	defer rt.Close(ctx)
	if closeOnDone {
		// The runtime's old deadline: a context with a deadline per call
		// would allocate; one that can be cancelled makes wazero watch it.
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
	}
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	// The counters log in theater_init; a host function that does nothing
	// stands in for the log capability.
	_, err := rt.NewHostModuleBuilder("theater:actor/log@0.1.0").NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, _ api.Module, s []uint64) { s[0] = 0 }),
			[]api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}).
		Export("write").Instantiate(ctx)
	if err != nil {
		b.Fatal(err)
	}
	mod, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithStartFunctions())
	if err != nil {
		b.Fatal(err)
	}
	if f := mod.ExportedFunction(abi.ExportInitialize); f != nil {
		if _, err := f.Call(ctx); err != nil {
			b.Fatal(err)
		}
	}
	mem, realloc, handler := mod.Memory(), mod.ExportedFunction(abi.ExportRealloc), mod.ExportedFunction(abi.ExportHandleRequest)
	state := []byte{0}
	stack := make([]uint64, 4)
	b.ReportAllocs()
	for b.Loop() {
		stack[0], stack[1], stack[2], stack[3] = 0, 0, 1, uint64(len(state)+len(msg))
		if err := realloc.CallWithStack(ctx, stack); err != nil {
			b.Fatal(err)
		}
		sp := stack[0]
		mem.Write(uint32(sp), state)
		mem.Write(uint32(sp)+uint32(len(state)), msg)
		stack[0], stack[1], stack[2], stack[3] = sp, uint64(len(state)), sp+uint64(len(state)), uint64(len(msg))
		if err := handler.CallWithStack(ctx, stack); err != nil {
			b.Fatal(err)
		}
		area, _ := mem.Read(uint32(stack[0]), 20)
		st, _ := mem.Read(binary.LittleEndian.Uint32(area[4:]), binary.LittleEndian.Uint32(area[8:]))
		r, _ := mem.Read(binary.LittleEndian.Uint32(area[12:]), binary.LittleEndian.Uint32(area[16:]))
		state = append(state[:0], st...)
		_ = append([]byte(nil), r...)
	}
}

// BenchmarkWake measures a request to a hibernated actor: the instance is
// recreated from the state (instantiate, _initialize, version check) and
// the request handled. p50 and p99 are reported from sorted samples.
func BenchmarkWake(b *testing.B) {
	ctx := context.Background()
	for _, g := range benchGuests() {
		benchImages(b, g.name, func(b *testing.B, pre actor.Option) {
			rt := newRuntime(b, actor.WithLogger(discard()), pre)
			a, err := rt.Spawn(ctx, actor.Spec{ID: "w", Module: g.wasm(b), Capabilities: []string{"log"},
				Limits: actor.Limits{IdleTimeout: -1}})
			if err != nil {
				b.Fatal(err)
			}
			msg := g.msg(b)
			var samples []time.Duration
			for b.Loop() {
				b.StopTimer()
				if err := a.Hibernate(ctx); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				t0 := time.Now()
				if _, err := a.Request(ctx, msg); err != nil {
					b.Fatal(err)
				}
				samples = append(samples, time.Since(t0))
			}
			reportQuantiles(b, samples)
		})
	}
}

// benchImages runs bench with pre-initialised images ("image") and without
// ("no-image": every instance runs its initialisation), in the same run.
func benchImages(b *testing.B, name string, bench func(*testing.B, actor.Option)) {
	for _, pre := range []bool{false, true} {
		sub := name + "/no-image"
		if pre {
			sub = name + "/image"
		}
		b.Run(sub, func(b *testing.B) { bench(b, actor.WithPreinit(pre)) })
	}
}

// reportQuantiles reports the p50 and p99 of samples.
func reportQuantiles(b *testing.B, samples []time.Duration) {
	slices.Sort(samples)
	b.ReportMetric(float64(samples[len(samples)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(samples[len(samples)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkLiveInstanceRSS reports the resident memory of one live
// instance (after theater_init and one request). It spawns b.N live
// actors, at most 500 (20 for Go), and reports the RSS growth per actor;
// its ns/op means nothing.
func BenchmarkLiveInstanceRSS(b *testing.B) {
	ctx := context.Background()
	for _, g := range benchGuests() {
		b.Run(g.name, func(b *testing.B) {
			rt := newRuntime(b, actor.WithMaxLiveInstances(0), actor.WithLogger(discard()))
			d, err := rt.Compile(ctx, g.wasm(b))
			if err != nil {
				b.Fatal(err)
			}
			limit := 500
			if g.name == "counter-go-9B" {
				limit = 20
			}
			n := min(b.N, limit)
			msg := g.msg(b)
			debug.FreeOSMemory() // what earlier benchmarks freed must not count against this one
			before := rssBytes()
			for i := range n {
				a, err := rt.Spawn(ctx, benchSpec("l"+strconv.Itoa(i), d))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := a.Request(ctx, msg); err != nil {
					b.Fatal(err)
				}
			}
			debug.FreeOSMemory()
			b.ReportMetric(float64(int64(rssBytes())-int64(before))/float64(n), "rss-bytes/instance")
			if rt.Live() != n {
				b.Fatalf("%d live, want %d", rt.Live(), n)
			}
		})
	}
}
