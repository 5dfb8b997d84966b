package actor_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/abi"
	"github.com/theater-go/theater/wit"
)

func hostile(t testing.TB, name string) []byte {
	return wasmFile(t, "testdata/guests/"+name+".wasm")
}

// healthy keeps requesting a counter until stop is closed and reports how
// many correct answers it got; a wrong answer fails the test.
func healthy(t *testing.T, c *actor.Actor, stop <-chan struct{}) <-chan int {
	out := make(chan int, 1)
	go func() {
		defer close(out)
		ctx := context.Background()
		r, err := c.Request(ctx, u64(t, 0))
		base, _, ok := decodeUint(r)
		if err != nil || !ok {
			t.Errorf("healthy counter: %x, %v", r, err)
			return
		}
		for n := 1; ; n++ {
			select {
			case <-stop:
				out <- n - 1
				return
			default:
			}
			r, err := c.Request(ctx, u64(t, 1))
			if v, _, _ := decodeUint(r); err != nil || v != base+uint64(n) {
				t.Errorf("healthy counter: %x, %v; want %d", r, err, base+uint64(n))
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	return out
}

// TestHostileGuests runs each misbehaving guest beside a healthy counter:
// each fails as its typed failure, within its limit, the failure reaches
// the owner, the state is unchanged, and the counter keeps answering.
func TestHostileGuests(t *testing.T) {
	ctx := context.Background()
	start := []byte{0x90} // every hostile guest keeps the state it is given
	cases := []struct {
		guest    string
		limits   actor.Limits
		types    actor.Types
		requests [][]byte // each must fail with kind
		send     bool     // a send must fail with kind too
		kind     actor.FailureKind
		check    func(t *testing.T, f actor.Failure)
	}{
		{guest: "trap", requests: [][]byte{{0}}, send: true, kind: actor.Trap},
		{guest: "loop", limits: actor.Limits{HandlerTimeout: 100 * time.Millisecond},
			requests: [][]byte{{0}}, send: true, kind: actor.Deadline},
		{guest: "membomb", limits: actor.Limits{MemoryPages: 64, HandlerTimeout: 300 * time.Millisecond},
			requests: [][]byte{{0}}, send: true, kind: actor.MemoryLimit},
		{guest: "exit", requests: [][]byte{{0}}, send: true, kind: actor.ProcExit,
			check: func(t *testing.T, f actor.Failure) {
				if f.ExitCode != 3 {
					t.Errorf("exit code %d, want 3", f.ExitCode)
				}
			}},
		{guest: "badreturn", requests: [][]byte{{0}, {1}, {2}, {3}, {4}, {5}}, send: true, kind: actor.Fault},
		{guest: "garbage", types: actor.Types{State: wit.U64, Reply: wit.U64},
			requests: [][]byte{{0}, {1}}, send: true, kind: actor.Fault,
			check: func(t *testing.T, f actor.Failure) {
				if !errors.Is(f, actor.ErrInvalidMessage) || !strings.Contains(f.Error(), "0xc1") ||
					!(strings.Contains(f.Error(), "state:") || strings.Contains(f.Error(), "reply:")) {
					t.Errorf("garbage not named: %v", f)
				}
			}},
		{guest: "garbage", requests: [][]byte{{2}}, kind: actor.GuestError,
			check: func(t *testing.T, f actor.Failure) {
				if !strings.Contains(f.Err.Error(), "\uFFFD") {
					t.Errorf("non-UTF-8 error message: %q", f.Err.Error())
				}
			}},
		{guest: "huge", limits: actor.Limits{MemoryPages: 2048}, requests: [][]byte{{0}}, send: true, kind: actor.Fault,
			check: func(t *testing.T, f actor.Failure) {
				if !errors.Is(f, actor.ErrTooLarge) {
					t.Errorf("not too large: %v", f)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.guest, func(t *testing.T) {
			rt := newRuntime(t)
			c, err := rt.Spawn(ctx, actor.Spec{ID: "healthy", Module: counter(t, "wat"), Capabilities: []string{"log"}})
			if err != nil {
				t.Fatal(err)
			}
			var fails failures
			var state []byte = start
			if tc.types.State != nil {
				state = u64(t, 0)
			}
			// Recreating after each failure lets one actor fail several
			// times; TestFailureEndsActor covers the default, ending.
			h, err := rt.Spawn(ctx, actor.Spec{ID: "hostile", Module: hostile(t, tc.guest), State: state,
				Limits: tc.limits, Types: tc.types, OnFailure: fails.record, FailurePolicy: actor.RecreateOnFailure})
			if err != nil {
				t.Fatal(err)
			}
			stop := make(chan struct{})
			answered := healthy(t, c, stop)
			limit := 10 * time.Second // generous: CI machines are slow; the deadline itself is tc.limits
			for _, msg := range tc.requests {
				began := time.Now()
				_, err := h.Request(ctx, msg)
				var f actor.Failure
				if !errors.As(err, &f) || f.Kind != tc.kind || f.Actor != "hostile" {
					t.Fatalf("request %x: %v, want a %v failure", msg, err, tc.kind)
				}
				if el := time.Since(began); el > limit {
					t.Errorf("request %x failed after %v", msg, el)
				}
				if tc.check != nil {
					tc.check(t, f)
				}
				if (tc.kind == actor.GuestError) != h.Live() {
					t.Errorf("after a %v failure, live = %v", tc.kind, h.Live())
				}
				if !bytes.Equal(h.State(), state) {
					t.Errorf("state changed to %x", h.State())
				}
			}
			want := len(tc.requests)
			if tc.send {
				if err := h.Send(ctx, []byte{0}); err != nil {
					t.Fatal(err)
				}
				want++
			}
			// OnFailure runs on a goroutine of its own: poll.
			deadline := time.Now().Add(limit)
			for len(fails.kinds()) < want && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			close(stop)
			if n := <-answered; n == 0 && tc.limits.HandlerTimeout > 0 {
				t.Error("the healthy counter did not answer while the hostile guest ran")
			}
			if _, err := c.Request(ctx, u64(t, 0)); err != nil || !c.Live() {
				t.Errorf("healthy counter after: %v", err)
			}
			if k := fails.kinds(); len(k) != want {
				t.Errorf("owner told of %v, want %d %v failures:\n%s", k, want, tc.kind, &fails)
			} else {
				for _, kind := range k {
					if kind != tc.kind {
						t.Errorf("owner told of %v, want %v", kind, tc.kind)
					}
				}
			}
			if !bytes.Equal(h.State(), state) {
				t.Errorf("state changed to %x", h.State())
			}
		})
	}
}

// TestOutOfBoundsImports: every import called with a pointer outside
// memory answers -1 and the instance lives on.
func TestOutOfBoundsImports(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	peer, err := rt.Spawn(ctx, actor.Spec{ID: "peer", Module: counter(t, "wat"), Capabilities: []string{"log"}})
	if err != nil {
		t.Fatal(err)
	}
	var fails failures
	a, err := rt.Spawn(ctx, actor.Spec{ID: "oob", Module: hostile(t, "oobptr"), State: []byte{0x90},
		Capabilities: []string{"log", "runtime", "message"}, Router: actor.NewLocalRouter(rt),
		AllowTarget: func(id string) bool { return id == "peer" }, OnFailure: fails.record})
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0x97, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	if r, err := a.Request(ctx, []byte{0}); err != nil || !bytes.Equal(r, want) {
		t.Errorf("statuses %x, %v; want %x", r, err, want)
	}
	if err := a.Send(ctx, []byte{0}); err != nil {
		t.Fatal(err)
	}
	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.State(), want) || len(fails.kinds()) != 0 {
		t.Errorf("state %x, failures %v", a.State(), fails.kinds())
	}
	if r, err := peer.Request(ctx, u64(t, 0)); err != nil || !bytes.Equal(r, u64(t, 0)) {
		t.Errorf("peer received something: %x, %v", r, err)
	}
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

func TestRefusedAtSpawn(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	cases := []struct {
		guest string
		caps  []string
		is    []error
		names []string
	}{
		{"unimported", []string{"log"}, []error{abi.ErrNotGranted}, []string{`"theater:actor/clock@0.1.0" "now"`}},
		{"badsig", []string{"log"}, []error{abi.ErrSignature}, []string{`"theater:actor/log@0.1.0" "write"`, "(param i32 i32 i32) (result i32)"}},
		{"noversion", nil, []error{abi.ErrMissingExport}, []string{`"theater_abi_version"`}},
		{"wrongversion", nil, []error{abi.ErrVersion, actor.ErrABI}, []string{"version 2", "supports 1"}},
	}
	for _, tc := range cases {
		t.Run(tc.guest, func(t *testing.T) {
			_, err := rt.Spawn(ctx, actor.Spec{ID: tc.guest, Manifest: tc.guest + ".toml", Module: hostile(t, tc.guest), Capabilities: tc.caps})
			if err == nil {
				t.Fatal("spawned")
			}
			for _, e := range append(tc.is, actor.ErrRefused) {
				if !errors.Is(err, e) {
					t.Errorf("%v is not %v", err, e)
				}
			}
			for _, n := range append(tc.names, `"`+tc.guest+`"`) {
				if !strings.Contains(err.Error(), n) {
					t.Errorf("%v does not name %s", err, n)
				}
			}
		})
	}
	// With clock granted, unimported works and sees the capability's time.
	now := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	a, err := rt.Spawn(ctx, actor.Spec{ID: "clocked", Module: hostile(t, "unimported"), State: []byte{0x90},
		Capabilities: []string{"clock"}, Clock: fixedClock(now)})
	if err != nil {
		t.Fatal(err)
	}
	r, err := a.Request(ctx, []byte{0})
	if err != nil || len(r) != 9 || r[0] != 0xcf || binary.BigEndian.Uint64(r[1:]) != uint64(now.UnixNano()) {
		t.Errorf("time reply %x, %v", r, err)
	}
}

// TestConcurrentUse hammers one actor from many goroutines, with sends,
// requests, hibernation and an LRU of one, for the race detector.
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, actor.WithMaxLiveInstances(1))
	var as []*actor.Actor
	for _, id := range []string{"p", "q"} {
		a, err := rt.Spawn(ctx, actor.Spec{ID: id, Module: counter(t, "wat"), Capabilities: []string{"log"},
			Limits: actor.Limits{IdleTimeout: time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		as = append(as, a)
	}
	var wg sync.WaitGroup
	var total atomic.Uint64
	for g := range 8 {
		wg.Go(func() {
			a := as[g%2]
			for i := range 50 {
				var err error
				switch i % 3 {
				case 0:
					err = a.Send(ctx, u64(t, 1))
				case 1:
					_, err = a.Request(ctx, u64(t, 1))
				default:
					err = a.Hibernate(ctx)
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				total.Add(1)
			}
		})
	}
	wg.Wait()
	var sum uint64
	for _, a := range as {
		r, err := a.Request(ctx, u64(t, 0))
		if err != nil {
			t.Fatal(err)
		}
		v, _, _ := decodeUint(r)
		sum += v
	}
	if sum != total.Load() {
		t.Errorf("counters sum to %d, want %d", sum, total.Load())
	}
}

// decodeUint reads a msgpack uint of up to 64 bits.
func decodeUint(b []byte) (uint64, int, bool) {
	switch {
	case len(b) >= 1 && b[0] < 0x80:
		return uint64(b[0]), 1, true
	case len(b) >= 2 && b[0] == 0xcc:
		return uint64(b[1]), 2, true
	case len(b) >= 3 && b[0] == 0xcd:
		return uint64(binary.BigEndian.Uint16(b[1:])), 3, true
	case len(b) >= 5 && b[0] == 0xce:
		return uint64(binary.BigEndian.Uint32(b[1:])), 5, true
	case len(b) >= 9 && b[0] == 0xcf:
		return binary.BigEndian.Uint64(b[1:]), 9, true
	}
	return 0, 0, false
}
