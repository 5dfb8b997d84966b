package actor_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/theater-go/theater/actor"
)

// rssBytes reads the resident set size of this process from
// /proc/self/status, or 0 where there is none.
func rssBytes() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// TestManyHibernatedActors spawns many WAT counters on one runtime (each
// runs theater_init, then the LRU hibernates all but the most recent) and
// reports the resident memory per actor. The goal is 100,000 actors under
// 1 GiB; -short and -race spawn 10,000.
func TestManyHibernatedActors(t *testing.T) {
	n := 100_000
	if testing.Short() || raceEnabled {
		n = 10_000
	}
	ctx := context.Background()
	rt := newRuntime(t, actor.WithMaxLiveInstances(1000))
	wat := counter(t, "wat")
	d, err := rt.Compile(ctx, wat)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	before := rssBytes()
	caps := []string{"log"}
	var quiet logBuffer
	logger := quiet.logger()
	var as []*actor.Actor
	for i := range n {
		a, err := rt.Spawn(ctx, actor.Spec{ID: "n" + strconv.Itoa(i), Digest: d, Capabilities: caps,
			State: u64(t, uint64(i)), Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		as = append(as, a)
	}
	runtime.GC()
	after := rssBytes()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("Go heap in use %.1f MiB (%d live instances among them)", float64(ms.HeapInuse)/(1<<20), rt.Live())
	if rt.Len() != n || rt.Live() > 1000 {
		t.Fatalf("%d actors, %d live", rt.Len(), rt.Live())
	}
	debug.FreeOSMemory()
	settled := rssBytes()
	per := float64(int64(settled)-int64(before)) / float64(n)
	t.Logf("%d actors (%d live): RSS %.1f MiB before, %.1f MiB after a GC, %.1f MiB once freed memory is returned: %.0f bytes per actor",
		n, rt.Live(), float64(before)/(1<<20), float64(after)/(1<<20), float64(settled)/(1<<20), per)
	if after > 1<<30 {
		t.Errorf("RSS %d MiB is over 1 GiB", after>>20)
	}
	// Hibernated actors answer from their state.
	for i := 0; i < n; i += n / 100 {
		r, err := as[i].Request(ctx, u64(t, 1))
		if err != nil || !bytes.Equal(r, u64(t, uint64(i)+1)) {
			t.Fatalf("actor %d: %x, %v", i, r, err)
		}
	}
}
