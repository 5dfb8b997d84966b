package embedded_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/transport/embedded"
	"github.com/theater-go/theater/transport/natstest"
)

func TestEmbeddedStartStop(t *testing.T) {
	dir := t.TempDir()
	logger, logs := natstest.CapturingLogger(slog.LevelInfo)
	e := natstest.RunServerWith(t, embedded.Config{StoreDir: dir, ServerName: "n1"}, embedded.WithLogger(logger))

	if got, want := e.StoreDir(), filepath.Join(dir, "jetstream"); got != want {
		t.Errorf("StoreDir = %q, want %q", got, want)
	}
	if e.Name() != "n1" {
		t.Errorf("Name = %q", e.Name())
	}
	nc := natstest.Connect(t, e.ClientURL())
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.AccountInfo(natstest.Context(t)); err != nil {
		t.Fatalf("JetStream not enabled: %v", err)
	}
	if !logs.Contains("component=nats-server") || !logs.Contains("Server is ready") {
		t.Errorf("server log not routed to slog:\n%s", logs)
	}

	natstest.Shutdown(t, e)
	if _, err := os.Stat(filepath.Join(dir, "jetstream")); err != nil {
		t.Errorf("store dir: %v", err)
	}
	natstest.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if nc.IsConnected() {
			return errors.New("client still connected after shutdown")
		}
		return nil
	})
	natstest.Shutdown(t, e) // a second shutdown is harmless
}

func TestEmbeddedLoopbackByDefault(t *testing.T) {
	o, err := embedded.ServerOptions(embedded.Config{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if o.Host != "127.0.0.1" || o.Port != 4222 {
		t.Errorf("default listen %s:%d, want %s", o.Host, o.Port, embedded.DefaultListen)
	}
	if !o.JetStream || !o.NoSigs {
		t.Errorf("JetStream=%v NoSigs=%v, want both", o.JetStream, o.NoSigs)
	}

	e := natstest.RunServerWith(t, embedded.Config{})
	addr := embedded.Addr(e).(*net.TCPAddr)
	if !addr.IP.IsLoopback() || addr.Port == 0 {
		t.Errorf("listening on %v, want loopback", addr)
	}
	u, err := url.Parse(e.ClientURL())
	if err != nil || u.Hostname() != "127.0.0.1" {
		t.Errorf("ClientURL %q (%v)", e.ClientURL(), err)
	}
}

func TestEmbeddedAllInterfacesClientURL(t *testing.T) {
	e := natstest.RunServerWith(t, embedded.Config{Listen: ":0"})
	if u, _ := url.Parse(e.ClientURL()); u == nil || u.Hostname() != "127.0.0.1" {
		t.Errorf("ClientURL %q, want loopback host", e.ClientURL())
	}
}

func TestDefaultStoreDir(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "/data")
	if d, err := embedded.DefaultStoreDir(); err != nil || d != "/data/theater" {
		t.Errorf("with XDG_DATA_HOME: %q, %v", d, err)
	}
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("HOME", "/home/u")
	if d, err := embedded.DefaultStoreDir(); err != nil || d != "/home/u/.local/share/theater" {
		t.Errorf("without XDG_DATA_HOME: %q, %v", d, err)
	}
}

func TestEmbeddedPortInUse(t *testing.T) {
	first := natstest.RunServerWith(t, embedded.Config{})
	u, _ := url.Parse(first.ClientURL())
	_, err := embedded.Start(natstest.Context(t), embedded.Config{Listen: u.Host, StoreDir: t.TempDir()}, embedded.WithLogger(natstest.Logger(t)))
	if !errors.Is(err, embedded.ErrStart) || !strings.Contains(err.Error(), "did not start") || !strings.Contains(err.Error(), u.Port()) {
		t.Fatalf("second server on %s: %v", u.Host, err)
	}
}

func TestEmbeddedContextDeadline(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// A cancelled context stops the wait; the server may or may not have
	// been ready at the first check, so either outcome is valid, but a
	// returned server must work and an error must say why.
	e, err := embedded.Start(ctx, embedded.Config{Listen: "127.0.0.1:0", StoreDir: t.TempDir()}, embedded.WithLogger(natstest.Logger(t)))
	if err != nil {
		if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "embedded: ") {
			t.Fatalf("err = %v", err)
		}
		return
	}
	natstest.Shutdown(t, e)
}

func TestEmbeddedConfigErrors(t *testing.T) {
	for _, cfg := range []embedded.Config{
		{Listen: "localhost"},
		{Listen: "127.0.0.1:99999"},
		{Cluster: embedded.ClusterConfig{Routes: []string{"nats-route://127.0.0.1:6222"}}},
		{Cluster: embedded.ClusterConfig{Name: "c"}},
		{ServerName: "a", Cluster: embedded.ClusterConfig{Name: "c", Routes: []string{"127.0.0.1:6222"}}},
		{ConfigFile: "/does/not/exist.conf"},
	} {
		cfg.StoreDir = t.TempDir()
		_, err := embedded.Start(natstest.Context(t), cfg)
		if !errors.Is(err, embedded.ErrConfig) || !strings.HasPrefix(err.Error(), "embedded: ") {
			t.Errorf("%+v: err = %v, want ErrConfig", cfg, err)
		}
	}
}

func TestEmbeddedDebugLog(t *testing.T) {
	logs := &natstest.LogBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := natstest.RunServerWith(t, embedded.Config{}, embedded.WithLogger(logger))
	natstest.Connect(t, e.ClientURL())
	natstest.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if !logs.Contains("level=DEBUG") || !logs.Contains("component=nats-server") {
			return errors.New("no server debug output with a debug logger")
		}
		return nil
	})
}
