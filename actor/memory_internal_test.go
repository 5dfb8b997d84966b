package actor

import (
	"context"
	"os"
	"testing"
)

const page = 65536

// TestMemLimitPooled checks that a linear memory from the pool behaves
// as a fresh one: the capacities and the limit of a fresh allocation, and
// nothing of a previous instance left in it.
func TestMemLimitPooled(t *testing.T) {
	pool := &memPool{}
	dirty := func(b []byte) {
		for i := range b {
			b[i] = 0xAA
		}
	}
	zero := func(what string, b []byte) {
		t.Helper()
		for i, c := range b {
			if c != 0 {
				t.Fatalf("%s: byte %d is %#x, want 0", what, i, c)
			}
		}
	}
	for round := range 3 { // round 0 allocates, the others reuse
		m := &memLimit{max: 5 * page, pool: pool}
		m.Allocate(2*page, 1<<32)
		b := m.Reallocate(2 * page)
		if len(b) != 2*page || cap(b) != 2*page {
			t.Fatalf("round %d: first memory len %d cap %d, want %d, %d", round, len(b), cap(b), 2*page, 2*page)
		}
		zero("first memory", b[:cap(b)])
		dirty(b)
		b = m.Reallocate(3 * page) // past the capacity: doubles it
		if len(b) != 3*page || cap(b) != 4*page {
			t.Fatalf("round %d: grown memory len %d cap %d, want %d, %d", round, len(b), cap(b), 3*page, 4*page)
		}
		for i, c := range b[:2*page] {
			if c != 0xAA {
				t.Fatalf("round %d: byte %d not copied by the grow", round, i)
			}
		}
		zero("grown part", b[2*page:cap(b)])
		dirty(b)
		if len(m.old) != 1 {
			t.Fatalf("round %d: %d replaced buffers kept, want 1", round, len(m.old))
		}
		m.recycleOld()
		b = m.Reallocate(5 * page) // capped by the limit
		if len(b) != 5*page || cap(b) != 5*page {
			t.Fatalf("round %d: len %d cap %d at the limit, want %d, %d", round, len(b), cap(b), 5*page, 5*page)
		}
		dirty(b)
		if m.Reallocate(6*page) != nil || !m.refused {
			t.Fatalf("round %d: a grow past the limit was not refused", round)
		}
		m.Free() // wazero closing the module: nothing is pooled yet
		m.release()
		if m.cur != nil || len(m.old) != 0 {
			t.Fatalf("round %d: buffers kept after release", round)
		}
	}
	// A limit below the suggested capacity caps the first buffer too.
	m := &memLimit{max: page, pool: pool}
	m.Allocate(2*page, 1<<32)
	if b := m.Reallocate(page); cap(b) != page {
		t.Fatalf("cap %d under a one-page limit", cap(b))
	}
	m.release()

	pool.close()
	m = &memLimit{max: 2 * page, pool: pool}
	m.Allocate(2*page, 1<<32)
	zero("memory after close", m.Reallocate(2*page))
	m.release()
	if _, ok := pool.classes.Load(uint64(2 * page)); ok {
		t.Fatal("a closed pool kept a buffer")
	}
}

// TestWakeReusesMemory wakes an actor many times: its state comes
// through intact though every instance after the first reuses a pooled
// memory.
func TestWakeReusesMemory(t *testing.T) {
	ctx := context.Background()
	for _, path := range []string{"../examples/counter/wat/counter.wasm", "../examples/counter/c/counter.wasm"} {
		wasm, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rt, err := NewRuntime(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var as []*Actor
		for _, id := range []string{"a", "b"} {
			a, err := rt.Spawn(ctx, Spec{ID: id, Module: wasm, Capabilities: []string{"log"}})
			if err != nil {
				t.Fatal(err)
			}
			as = append(as, a)
		}
		one := []byte{0x01} // msgpack 1: add one
		for i := range 20 {
			for _, a := range as {
				if _, err := a.Request(ctx, one); err != nil {
					t.Fatalf("%s: request %d: %v", path, i, err)
				}
				if err := a.Hibernate(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, a := range as {
			if st := a.State(); len(st) != 1 || st[0] != 20 {
				t.Fatalf("%s: actor %s state %x after 20 additions, want 14 (msgpack 20)", path, a.ID(), st)
			}
		}
		rt.Close(ctx)
	}
}
