package transport_test

import (
	"net"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/embedded"
)

// freePort returns a loopback port nothing listens on right now. Routes
// must be configured before the servers start, so each server's route
// port is chosen up front rather than left to the server.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestCluster runs two embedded servers routed to each other with
// JetStream replicas 2: the layout is created through one server and
// used through the other.
func TestCluster(t *testing.T) {
	routes := []string{"nats-route://" + freePort(t), "nats-route://" + freePort(t)}
	var servers []*embedded.Server
	for i, name := range []string{"s1", "s2"} {
		servers = append(servers, startServer(t, embedded.Config{
			ServerName: name,
			Cluster:    embedded.ClusterConfig{Name: "theater-test", Listen: routes[i][len("nats-route://"):], Routes: routes},
		}))
	}
	ctx := testContext(t)
	for _, s := range servers {
		if err := s.WaitJetStream(ctx); err != nil {
			t.Fatal(err)
		}
		if s.ClusterURL() == "" {
			t.Errorf("%s: no cluster URL", s.Name())
		}
	}

	js1, err := jetstream.New(connect(t, transport.ClientConfig{URLs: servers[0].ClientURL()}))
	if err != nil {
		t.Fatal(err)
	}
	l := transport.Layout{}
	// Each replicated asset elects its own leader, which can take a few
	// seconds; Ensure returns once all of them exist.
	if err := l.Ensure(ctx, js1, transport.StoreConfig{Replicas: 2}); err != nil {
		t.Fatal(err)
	}

	js2, err := jetstream.New(connect(t, transport.ClientConfig{URLs: servers[1].ClientURL()}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js2.Publish(ctx, l.SendSubject("a"), []byte("hi")); err != nil {
		t.Fatal(err)
	}
	s, err := js1.Stream(ctx, l.MailboxStream())
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Replicas != 2 || info.State.Msgs != 1 || info.Cluster == nil || len(info.Cluster.Replicas) != 1 {
		t.Errorf("mailbox: replicas %d, msgs %d, cluster %+v", info.Config.Replicas, info.State.Msgs, info.Cluster)
	}
}
