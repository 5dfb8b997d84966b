package actor_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

// languages are the guest languages of the counter example, in table order.
var languages = []string{"wat", "c", "assemblyscript", "go"}

// committed are the counter modules built by scripts/build-guests and
// committed; the Go one is built by the tests (goGuest).
var committed = map[string]string{
	"wat":            "../examples/counter/wat/counter.wasm",
	"c":              "../examples/counter/c/counter.wasm",
	"assemblyscript": "../examples/counter/assemblyscript/counter.wasm",
}

var (
	tmpDir   string // removed by TestMain
	cacheDir string // one compilation cache for the whole run

	goMu    sync.Mutex
	goBuilt = map[string]*goBuild{}
	modMu   sync.Mutex
	modData = map[string][]byte{}
)

type goBuild struct {
	once sync.Once
	wasm []byte
	err  error
}

func TestMain(m *testing.M) {
	var err error
	tmpDir, err = os.MkdirTemp("", "theater-actor-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cacheDir = filepath.Join(tmpDir, "cache")
	code := m.Run()
	os.RemoveAll(tmpDir)
	os.Exit(code)
}

// goGuest builds a Go guest once per test binary, with the standard
// toolchain, as a reactor; pkg is relative to the module root.
func goGuest(t testing.TB, pkg string) []byte {
	t.Helper()
	goMu.Lock()
	b, ok := goBuilt[pkg]
	if !ok {
		b = &goBuild{}
		goBuilt[pkg] = b
	}
	goMu.Unlock()
	b.once.Do(func() {
		out := filepath.Join(tmpDir, strings.ReplaceAll(pkg, "/", "_")+".wasm")
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, "./"+pkg)
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, msg)
			return
		}
		b.wasm, b.err = os.ReadFile(out)
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.wasm
}

// counter returns the counter module in one language.
func counter(t testing.TB, lang string) []byte {
	t.Helper()
	if lang == "go" {
		return goGuest(t, "examples/counter/go")
	}
	return wasmFile(t, committed[lang])
}

// wasmFile reads a committed module once.
func wasmFile(t testing.TB, path string) []byte {
	t.Helper()
	modMu.Lock()
	defer modMu.Unlock()
	if b, ok := modData[path]; ok {
		return b
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run scripts/build-guests)", err)
	}
	modData[path] = b
	return b
}

func newRuntime(t testing.TB, opts ...actor.Option) *actor.Runtime {
	t.Helper()
	ctx := context.Background()
	rt, err := actor.NewRuntime(ctx, append([]actor.Option{actor.WithCacheDir(cacheDir), actor.WithLogger(discard())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(ctx) })
	return rt
}

// u64 encodes n as the msgpack uint the counter speaks, with the one codec.
func u64(t testing.TB, n uint64) []byte {
	t.Helper()
	b, err := codec.Marshal(wit.U64, n)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// logBuffer collects log lines without times, so two runs compare equal.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		},
	}))
}

// failures records what OnFailure reports.
type failures struct {
	mu   sync.Mutex
	list []actor.Failure
}

func (f *failures) record(x actor.Failure) {
	f.mu.Lock()
	f.list = append(f.list, x)
	f.mu.Unlock()
}

// wait polls until n failures have been reported (OnFailure runs on a
// goroutine of its own) or ten seconds have passed, and returns the kinds.
func (f *failures) wait(n int) []actor.FailureKind {
	deadline := time.Now().Add(10 * time.Second)
	for len(f.kinds()) < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	return f.kinds()
}

func (f *failures) kinds() []actor.FailureKind {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []actor.FailureKind
	for _, x := range f.list {
		out = append(out, x.Kind)
	}
	return out
}

func (f *failures) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var s []string
	for _, x := range f.list {
		s = append(s, x.Error())
	}
	return strings.Join(s, "\n")
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
