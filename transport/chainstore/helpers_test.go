package chainstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/chainstore"
)

const testTimeout = 30 * time.Second

func testContext(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// runServer starts a real nats-server with JetStream on a free loopback
// port and a temporary store, and stops it when the test ends.
func runServer(t testing.TB) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

// chainConfig is the layout's chain stream with what the store needs on
// top of it: atomic batch publish. Deleting messages stays denied.
func chainConfig(l transport.Layout) jetstream.StreamConfig {
	sc := l.ChainStreamConfig(transport.StoreConfig{})
	return sc
}

type env struct {
	srv    *server.Server
	nc     *nats.Conn
	js     jetstream.JetStream
	layout transport.Layout
	store  *chainstore.Store
}

// setup starts a server, creates the chain stream from sc (chainConfig
// when nil) and opens a Store on it.
func setup(t testing.TB, edit func(*jetstream.StreamConfig), opts ...chainstore.Option) *env {
	t.Helper()
	s := runServer(t)
	e := &env{srv: s, layout: transport.Layout{}}
	e.nc, e.js = connect(t, s)
	sc := chainConfig(e.layout)
	if edit != nil {
		edit(&sc)
	}
	if _, err := e.js.CreateStream(testContext(t), sc); err != nil {
		t.Fatal(err)
	}
	var err error
	if e.store, err = chainstore.New(testContext(t), e.js, e.layout, opts...); err != nil {
		t.Fatal(err)
	}
	return e
}

func connect(t testing.TB, s *server.Server) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

func closeAppender(t testing.TB, a *chainstore.Appender) {
	t.Helper()
	if err := a.Close(testContext(t)); err != nil {
		t.Error(err)
	}
}
