package actor

import (
	"crypto/sha256"
	"encoding/binary"
	"time"
)

// The WASI clocks every instance sees (ABI.md, "WASI"): wall time starts
// at 2022-01-01T00:00:00Z, monotonic time at zero, and each advances by
// one millisecond on every read. Real time comes only through the clock
// capability.
const (
	virtualEpoch = 1640995200 * int64(time.Second)
	virtualStep  = int64(time.Millisecond)
)

// virtualClock is one instance's pair of WASI clocks. An instance runs on
// one goroutine at a time, so it needs no lock.
type virtualClock struct{ wallReads, monoReads int64 }

func (c *virtualClock) walltime() (int64, int32) {
	t := virtualEpoch + c.wallReads*virtualStep
	c.wallReads++
	return t / int64(time.Second), int32(t % int64(time.Second))
}

func (c *virtualClock) nanotime() int64 {
	c.monoReads++
	return c.monoReads * virtualStep
}

// detRand is WASI random_get for one instance: SHA-256 in counter mode,
// block i = SHA-256(seed || i as u64 big-endian), with seed =
// SHA-256("theater wasi random\x00" || actor id). Every instance of an
// actor sees the same stream from its start.
type detRand struct {
	seed  [sha256.Size]byte
	ctr   uint64
	block [sha256.Size]byte
	off   int
}

func newDetRand(id string) *detRand {
	r := &detRand{off: sha256.Size}
	r.seed = sha256.Sum256([]byte("theater wasi random\x00" + id))
	return r
}

func (r *detRand) Read(p []byte) (int, error) {
	var in [sha256.Size + 8]byte
	copy(in[:], r.seed[:])
	for n := 0; n < len(p); {
		if r.off == sha256.Size {
			binary.BigEndian.PutUint64(in[sha256.Size:], r.ctr)
			r.block = sha256.Sum256(in[:])
			r.ctr++
			r.off = 0
		}
		c := copy(p[n:], r.block[r.off:])
		n += c
		r.off += c
	}
	return len(p), nil
}
