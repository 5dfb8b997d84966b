package transport_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/embedded"
	"github.com/theater-go/theater/transport/natstest"
)

// The shared helpers of natstest, under the short names these tests use.

func testContext(t *testing.T) context.Context { return natstest.Context(t) }

func startServer(t *testing.T, cfg embedded.Config, opts ...embedded.Option) *embedded.Server {
	t.Helper()
	return natstest.RunServerWith(t, cfg, opts...)
}

func shutdown(t *testing.T, e *embedded.Server) { t.Helper(); natstest.Shutdown(t, e) }

func connect(t *testing.T, cfg transport.ClientConfig, opts ...transport.Option) *nats.Conn {
	t.Helper()
	return natstest.ConnectWith(t, cfg, opts...)
}

func checkFor(t *testing.T, timeout, interval time.Duration, f func() error) {
	t.Helper()
	natstest.CheckFor(t, timeout, interval, f)
}

func capturingLogger() (*slog.Logger, *natstest.LogBuffer) {
	return natstest.CapturingLogger(slog.LevelInfo)
}

func testLogger(t *testing.T) *slog.Logger { return natstest.Logger(t) }

// writeFile writes content to name in a temporary directory and returns
// its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
