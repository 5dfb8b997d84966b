package natstest

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/embedded"
	"github.com/theater-go/theater/transport/node"
)

// Timeout bounds every wait of the helpers, so a hang fails the test with
// a message instead of reaching the go test timeout.
const Timeout = time.Minute

// Context returns a context that ends after [Timeout] or with the test.
func Context(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), Timeout)
	t.Cleanup(cancel)
	return ctx
}

// RunServer starts an embedded nats-server with JetStream on a free
// loopback port, its store in a fresh temporary directory, logging
// warnings to [Logger]; it shuts down when the test ends.
func RunServer(t testing.TB) *embedded.Server {
	t.Helper()
	return RunServerWith(t, embedded.Config{})
}

// RunServerWith is [RunServer] with cfg: an empty Listen or StoreDir takes
// RunServer's free port or temporary directory, and without options the
// server logs to [Logger].
func RunServerWith(t testing.TB, cfg embedded.Config, opts ...embedded.Option) *embedded.Server {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.StoreDir == "" {
		cfg.StoreDir = t.TempDir()
	}
	if len(opts) == 0 {
		opts = []embedded.Option{embedded.WithLogger(Logger(t))}
	}
	s, err := embedded.Start(Context(t), cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Shutdown(t, s) })
	return s
}

// Shutdown stops s within [Timeout], failing the test if it does not.
// Calling it again, or after the cleanup of RunServer, is harmless.
func Shutdown(t testing.TB, s *embedded.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Error(err)
	}
}

// Connect connects to url with [transport.Connect], logging to [Logger]
// unless opts say otherwise, and closes the connection when the test
// ends.
func Connect(t testing.TB, url string, opts ...transport.Option) *nats.Conn {
	t.Helper()
	return ConnectWith(t, transport.ClientConfig{URLs: url}, opts...)
}

// ConnectWith is [Connect] with a full client configuration.
func ConnectWith(t testing.TB, cfg transport.ClientConfig, opts ...transport.Option) *nats.Conn {
	t.Helper()
	opts = append([]transport.Option{transport.WithLogger(Logger(t))}, opts...)
	nc, err := transport.Connect(Context(t), cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// StartNode starts a node on url with cfg. Unset fields are filled: Conn
// with a new connection, Runtime with a new runtime (closed when the test
// ends), Logger with [Logger]. The node is closed when the test ends.
func StartNode(t testing.TB, url string, cfg node.Config) *node.Node {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = Logger(t)
	}
	if cfg.Conn == nil {
		cfg.Conn = Connect(t, url)
	}
	if cfg.Runtime == nil {
		rt, err := actor.NewRuntime(context.Background(), actor.WithLogger(cfg.Logger))
		if err != nil {
			t.Fatal(err)
		}
		// Registered before the node's cleanup, so it runs after it.
		t.Cleanup(func() { _ = rt.Close(context.Background()) })
		cfg.Runtime = rt
	}
	n, err := node.Start(Context(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		defer cancel()
		_ = n.Close(ctx)
	})
	return n
}

// NewClient returns a client of the system on url (some node must have
// started there) on its own connection.
func NewClient(t testing.TB, url string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(Context(t), Connect(t, url), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// CheckFor polls f every interval until it returns nil, failing the test
// with f's last error after timeout. Tests wait for conditions this way,
// never by sleeping a guessed amount.
func CheckFor(t testing.TB, timeout, interval time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after %v: %v", timeout, err)
		}
		time.Sleep(interval)
	}
}

// Eventually is [CheckFor] with a timeout of [Timeout] and an interval
// that starts at a millisecond and doubles up to 50ms, for conditions
// that are usually met at once.
func Eventually(t testing.TB, f func() error) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	interval := time.Millisecond
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v: %v", Timeout, err)
		}
		time.Sleep(interval)
		interval = min(2*interval, 50*time.Millisecond)
	}
}

// LogBuffer collects log output written from any goroutine.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p; it is safe for concurrent use.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Contains reports whether s was written.
func (b *LogBuffer) Contains(s string) bool { return strings.Contains(b.String(), s) }

// CapturingLogger logs at level and above, as text, into a buffer the
// test reads.
func CapturingLogger(level slog.Level) (*slog.Logger, *LogBuffer) {
	b := &LogBuffer{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: level})), b
}

// Logger collects warnings and errors and shows them if the test fails.
// It does not write through t.Log, which panics when a client callback
// logs after the test has ended.
func Logger(t testing.TB) *slog.Logger {
	l, b := CapturingLogger(slog.LevelWarn)
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(b.String())
		}
	})
	return l
}

// Discard is a logger that drops everything, for benchmarks.
var Discard = slog.New(slog.DiscardHandler)
