package actor_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/theater-go/theater/actor"
)

// largest returns the largest file under dir, sidecars left out.
func largest(t *testing.T, dir string) string {
	t.Helper()
	var best string
	var size int64
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || filepath.Ext(path) == ".theater-sha256" {
			return err
		}
		if info, err := e.Info(); err == nil && info.Size() > size {
			best, size = path, info.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if best == "" {
		t.Fatalf("no file in %s", dir)
	}
	return best
}

// flip changes one byte of a file, at its middle.
func flip(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x5a
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestCacheDir: a second runtime on the same cache directory takes a
// module's pre-initialised code from it instead of metering and
// initialising it again; a corrupted file of the module cache, or of
// wazero's compilation cache, is detected, deleted and compiled again,
// and the actor answers as before.
func TestCacheDir(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	wasm := counter(t, "go")
	var want []byte
	run := func(name string, check func(actor.CompileStats) bool) {
		t.Helper()
		rt := newRuntime(t, actor.WithCacheDir(dir), actor.WithLogger(discard()))
		a, err := rt.Spawn(ctx, actor.Spec{ID: "c", Module: wasm, Capabilities: []string{"log"}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		r, err := a.Request(ctx, u64(t, 41))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want == nil {
			want = r
		} else if string(r) != string(want) {
			t.Fatalf("%s: reply %x, first runtime %x", name, r, want)
		}
		if s := rt.CompileStats(); !check(s) || s.Preinitialised != 1 {
			t.Fatalf("%s: stats %+v", name, s)
		}
		if err := rt.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	run("cold", func(s actor.CompileStats) bool { return s.DiskHits == 0 && s.DiskCorrupt == 0 })
	run("warm", func(s actor.CompileStats) bool { return s.DiskHits == 1 && s.DiskCorrupt == 0 })

	flip(t, largest(t, filepath.Join(dir, "modules")))
	run("module file corrupted", func(s actor.CompileStats) bool { return s.DiskHits == 0 && s.DiskCorrupt == 1 })
	run("module file rewritten", func(s actor.CompileStats) bool { return s.DiskHits == 1 && s.DiskCorrupt == 0 })

	// The middle of each file of wazero's cache is machine code, which
	// wazero alone would refuse to load (CRC) and fail the compile.
	files := 0
	filepath.WalkDir(filepath.Join(dir, "wazero"), func(path string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && filepath.Ext(path) != ".theater-sha256" {
			flip(t, path)
			files++
		}
		return err
	})
	run("wazero files corrupted", func(s actor.CompileStats) bool { return s.DiskHits == 1 && s.DiskCorrupt == uint64(files) })
	run("wazero file rewritten", func(s actor.CompileStats) bool { return s.DiskHits == 1 && s.DiskCorrupt == 0 })
}

// BenchmarkCompileCacheDir is a new runtime compiling the Go counter:
// from an empty cache directory ("cold"), from one that holds only
// wazero's machine code ("wazero-only", what WithCacheDir kept before the
// module cache: metering and pre-initialisation run again), and from one
// a previous runtime filled ("warm").
func BenchmarkCompileCacheDir(b *testing.B) {
	ctx := context.Background()
	wasm := counter(b, "go")
	compile := func(b *testing.B, dir string) {
		rt, err := actor.NewRuntime(ctx, actor.WithCacheDir(dir), actor.WithLogger(discard()))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := rt.Compile(ctx, wasm); err != nil {
			b.Fatal(err)
		}
		rt.Close(ctx)
	}
	b.Run("cold", func(b *testing.B) {
		i := 0
		for b.Loop() {
			compile(b, filepath.Join(b.TempDir(), strconv.Itoa(i)))
			i++
		}
	})
	for _, name := range []string{"wazero-only", "warm"} {
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			compile(b, dir)
			for b.Loop() {
				if name == "wazero-only" {
					b.StopTimer()
					os.RemoveAll(filepath.Join(dir, "modules"))
					b.StartTimer()
				}
				compile(b, dir)
			}
		})
	}
}
