package meter_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Loop guests in each compiled language, built from these sources at
// test time with the toolchains of scripts/install-toolchains. Each
// exports spin, a loop that never ends and calls nothing.
const (
	goLoop = `package main

var sink int

//go:wasmexport spin
func spin() {
	for i := 0; ; i++ {
		sink = i
	}
}

func main() {}
`
	cLoop = `volatile int sink;

__attribute__((export_name("spin"))) void spin(void) {
	for (int i = 0;; i++) sink = i;
}
`
	asLoop = `export let sink: i32 = 0;

export function spin(): void {
  for (let i = 0; ; i++) sink = i;
}
`
)

func buildLoop(t *testing.T, lang string) []byte {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "loop.wasm")
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var cmd *exec.Cmd
	switch lang {
	case "go":
		write("go.mod", "module loop\n\ngo 1.26\n")
		write("main.go", goLoop)
		cmd = exec.Command("go", "build", "-buildmode=c-shared", "-o", out, ".")
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOWORK=off", "GOFLAGS=")
	case "c":
		write("loop.c", cLoop)
		cmd = exec.Command("clang", "--target=wasm32-wasi", "--sysroot=/usr", "-mexec-model=reactor",
			"-O2", "-Wl,--strip-all", "-o", out, "loop.c")
	case "assemblyscript":
		write("loop.ts", asLoop)
		asc, err := filepath.Abs(filepath.Join(root, "actor/guest/assemblyscript/node_modules/.bin/asc"))
		if err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command(asc, "loop.ts", "-o", out, "-O3", "--runtime", "stub", "--use", "abort=")
	}
	if _, err := exec.LookPath(cmd.Path); err != nil {
		t.Skipf("%s toolchain missing (scripts/install-toolchains): %v", lang, err)
	}
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLanguageLoops: an endless loop compiled from Go, C and
// AssemblyScript is stopped by a fuel limit, deterministically, and by a
// wall-clock deadline within twice that deadline.
func TestLanguageLoops(t *testing.T) {
	for _, lang := range []string{"go", "c", "assemblyscript"} {
		t.Run(lang, func(t *testing.T) {
			wasm, err := instrumentBytes(buildLoop(t, lang))
			if err != nil {
				t.Fatal(err)
			}
			// spin runs _initialize on an unlimited tank, then spin on
			// limit units (the tank as set by arm), and times spin alone.
			spin := func(tk *tank, arm func()) (error, time.Duration) {
				mod, err := compiled(t, wasm, tk)()
				if err != nil {
					t.Fatal(err)
				}
				if init := mod.ExportedFunction("_initialize"); init != nil {
					if _, err := init.Call(context.Background()); err != nil {
						t.Fatal(err)
					}
				}
				arm()
				began := time.Now()
				_, err = mod.ExportedFunction("spin").Call(context.Background())
				return err, time.Since(began)
			}
			var spent []int64
			for range 2 {
				tk := bigTank()
				var before int64
				err, _ := spin(tk, func() { tk.left, before = 50_000_000, tk.granted })
				if !errors.Is(err, errOutOfFuel) || tk.left != 0 {
					t.Fatalf("spin: %v with %d fuel left, want out of fuel", err, tk.left)
				}
				spent = append(spent, tk.granted-before)
			}
			if spent[0] != spent[1] {
				t.Fatalf("fuel limit reached after %v, want the same twice", spent)
			}
			const deadline = 50 * time.Millisecond
			end := time.Now().Add(time.Hour)
			tk := &tank{slice: 100_000, left: 1 << 62, stop: func() bool { return time.Now().After(end) }}
			err, took := spin(tk, func() { end = time.Now().Add(deadline) })
			if !errors.Is(err, errOutOfFuel) || took > 2*deadline {
				t.Fatalf("spin with a deadline: %v after %v, want stopped within %v", err, took, 2*deadline)
			}
			t.Logf("%d bytes; stopped at the deadline after %v (%d refills)", len(wasm), took, tk.refills)
		})
	}
}
