package syntax

import (
	"os"
	"path/filepath"
	"testing"
)

// corpusDir holds the WASI 0.2.12 WIT files shared with the rest of the
// project.
const corpusDir = "/work/shared/wit-corpus/wasi-0.2.12"

func corpusFiles(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(corpusDir, "*", "*.wit"))
	if err != nil || len(files) == 0 {
		tb.Skipf("WIT corpus not found at %s; skipping", corpusDir)
	}
	return files
}

func TestParseCorpus(t *testing.T) {
	for _, path := range corpusFiles(t) {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Parse(path, src)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		checkPositions(t, f, src)
	}
}

func BenchmarkParseCorpus(b *testing.B) {
	files := corpusFiles(b)
	srcs := make([][]byte, len(files))
	size := 0
	for i, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		srcs[i] = src
		size += len(src)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for i, src := range srcs {
			if _, err := Parse(files[i], src); err != nil {
				b.Fatal(err)
			}
		}
	}
}
