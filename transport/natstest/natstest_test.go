package natstest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/natstest"
	"github.com/theater-go/theater/transport/node"
)

// TestRunServer: a server with JetStream on a free port, a node on it,
// and a client that sees the node.
func TestRunServer(t *testing.T) {
	srv := natstest.RunServer(t)
	if !strings.HasPrefix(srv.ClientURL(), "nats://127.0.0.1:") || strings.HasSuffix(srv.ClientURL(), ":4222") {
		t.Errorf("client URL %s, want a free loopback port", srv.ClientURL())
	}
	natstest.StartNode(t, srv.ClientURL(), node.Config{Name: "n1"})
	c := natstest.NewClient(t, srv.ClientURL())
	natstest.Eventually(t, func() error {
		nodes, err := c.Nodes(natstest.Context(t))
		if err != nil || len(nodes) != 1 || nodes[0].Node != "n1" {
			return errors.Join(errors.New("node n1 not listed"), err)
		}
		return nil
	})
}

// TestStartCluster: three nats-server processes with JetStream replicas
// 3 keep a Theater layout usable after one of them is killed.
func TestStartCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("builds nats-server")
	}
	bin, err := natstest.BuildNATSServer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	procs := natstest.StartCluster(t, bin, 3)
	nc := natstest.Connect(t, procs[1].URL+","+procs[2].URL)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	l := transport.Layout{}
	if err := l.Ensure(ctx, js, transport.StoreConfig{Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	procs[0].Kill()
	// Each try has a context of its own: Ensure may have used most of
	// ctx on a loaded machine, and a try must not fail for that alone.
	natstest.CheckFor(t, time.Minute, 100*time.Millisecond, func() error {
		pctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		_, err := js.Publish(pctx, l.SendSubject("a"), []byte("after"), jetstream.WithMsgID("after"))
		return err
	})
	ctx, cancel = context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s, err := js.Stream(ctx, l.MailboxStream())
	if err != nil {
		t.Fatal(err)
	}
	if info, err := s.Info(ctx); err != nil || info.Config.Replicas != 3 || info.State.Msgs != 1 {
		t.Fatalf("mailbox after a kill: %+v, %v", info, err)
	}
}
