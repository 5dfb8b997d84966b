package actor

import (
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

// MaxMemoryPages is the largest memory limit an actor may have, in 64 KiB
// pages: 4 GiB less one page. A spec asking for more gets this. wazero
// reports a memory's size as a uint32 number of bytes, which reads 0 for
// a memory of 65536 pages, so such a memory would look empty to the host.
const MaxMemoryPages = 65535

// maxPooled is the largest linear-memory buffer kept for reuse. A larger
// one goes back to the garbage collector when its instance closes, so an
// actor that grew its memory far gives it back when it stops rather than
// leaving it to wait in the pool; and clearing it for reuse would touch,
// and so make resident, every page of it the guest never used.
const maxPooled = 64 << 20

// memLimit is the linear memory of one instance, refusing to grow past
// max. wazero's own page limit is runtime-wide; an allocator given per
// instantiation makes the limit per actor while all actors share one
// runtime and one compiled module per digest.
//
// Its buffers come from the runtime's memPool and go back to it when the
// instance is closed, so that waking or spawning an actor does not
// allocate (and have the GC collect) a fresh linear memory every time.
// Capacities are exactly those of a fresh allocation: the pool is keyed
// by capacity, never hands out a larger buffer, and the limit is checked
// as before.
type memLimit struct {
	max  uint64
	pool *memPool
	cur  *memBuf
	// old are the buffers a grow replaced during the current guest call.
	// Host code may still hold a view of one until the call ends, so they
	// go back to the pool only then (recycleOld), not at the grow.
	old     []*memBuf
	refused bool // a grow was refused since the current call began
}

func (m *memLimit) Allocate(capacity, _ uint64) experimental.LinearMemory {
	m.cur = m.pool.get(min(capacity, m.max))
	return m
}

func (m *memLimit) Reallocate(size uint64) []byte {
	if size > m.max {
		m.refused = true
		return nil
	}
	if c := uint64(cap(m.cur.b)); size > c {
		// Grow geometrically, as append would, so a guest growing a page at
		// a time does not copy its memory every time.
		nb := m.pool.get(min(max(size, 2*c), m.max))
		nb.b = nb.b[:size]
		copy(nb.b, m.cur.b)
		m.old = append(m.old, m.cur)
		m.cur = nb
		return nb.b
	}
	m.cur.b = m.cur.b[:size]
	return m.cur.b
}

// Free is called by wazero when it closes the module's resources. That
// can happen while guest code of the instance may still run: when a
// deadline closes the module, wazero frees its resources at the guest's
// next check, which may be a nested call (cabi_realloc from a host
// function) with the outer guest frame still to return to; and when the
// runtime closes, for an actor whose Stop gave up. So the buffers are not
// pooled here but by release, once the instance is closed and none of its
// code can run.
func (m *memLimit) Free() {}

// recycleOld gives the buffers replaced by grows back to the pool; the
// caller has just seen a guest call return (no view of them is left).
func (m *memLimit) recycleOld() {
	for i, b := range m.old {
		m.pool.put(b)
		m.old[i] = nil
	}
	m.old = m.old[:0]
}

// release gives every buffer back to the pool; the module is closed and
// no call of it is in progress.
func (m *memLimit) release() {
	m.recycleOld()
	if m.cur != nil {
		m.pool.put(m.cur)
		m.cur = nil
	}
}

// memBuf is a linear-memory buffer. Everything past len(b) is zero: a
// guest and the host only ever see b[:len(b)].
type memBuf struct{ b []byte }

// memPool keeps the linear-memory buffers of closed instances, one
// sync.Pool per capacity, so the garbage collector still takes back
// buffers left unused for two cycles. A pooled buffer is all zeros up to
// its capacity: put clears what was used before pooling it, so the
// memory of one actor never shows in another and no actor's data waits
// in the pool.
type memPool struct {
	classes sync.Map // capacity in bytes (uint64) -> *sync.Pool of *memBuf
	off     atomic.Bool
}

// get returns an empty buffer of exactly capacity c, zeroed.
func (p *memPool) get(c uint64) *memBuf {
	if sp, ok := p.classes.Load(c); ok {
		if v := sp.(*sync.Pool).Get(); v != nil {
			return v.(*memBuf)
		}
	}
	return &memBuf{b: make([]byte, 0, c)}
}

// put zeroes b's used part and pools it, unless the pool is off or b is
// larger than maxPooled.
func (p *memPool) put(b *memBuf) {
	if p.off.Load() || cap(b.b) > maxPooled {
		return
	}
	clear(b.b)
	b.b = b.b[:0]
	c := uint64(cap(b.b))
	sp, ok := p.classes.Load(c)
	if !ok {
		sp, _ = p.classes.LoadOrStore(c, new(sync.Pool))
	}
	sp.(*sync.Pool).Put(b)
}

// close stops pooling: buffers freed from now on, by the closing wazero
// runtime among others, are left to the garbage collector.
func (p *memPool) close() {
	p.off.Store(true)
	p.classes.Clear()
}
