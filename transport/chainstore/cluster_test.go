package chainstore_test

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/chainstore"
)

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// runCluster starts three routed nats-servers with JetStream.
func runCluster(t testing.TB) []*server.Server {
	t.Helper()
	ports := []int{freePort(t), freePort(t), freePort(t)}
	var routes []*url.URL
	for _, p := range ports {
		routes = append(routes, &url.URL{Scheme: "nats-route", Host: "127.0.0.1:" + strconv.Itoa(p)})
	}
	var servers []*server.Server
	for i, p := range ports {
		s, err := server.NewServer(&server.Options{
			ServerName: fmt.Sprint("s", i), Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
			NoLog: true, NoSigs: true,
			Cluster: server.ClusterOpts{Name: "chain-test", Host: "127.0.0.1", Port: p},
			Routes:  routes,
		})
		if err != nil {
			t.Fatal(err)
		}
		go s.Start()
		t.Cleanup(func() {
			s.Shutdown()
			s.WaitForShutdown()
		})
		servers = append(servers, s)
	}
	for _, s := range servers {
		if !s.ReadyForConnections(10 * time.Second) {
			t.Fatal("server did not start")
		}
	}
	return servers
}

// TestReplicated runs the store on a three-server cluster with a chain
// stream of three replicas: atomic batches for every group (staged in
// memory there), the fence (whose error code differs on a replicated
// stream), reads and verify, through different servers.
func TestReplicated(t *testing.T) {
	servers := runCluster(t)
	ctx := testContext(t)
	var jss []jetstream.JetStream
	for _, s := range servers[:2] {
		nc, err := nats.Connect(s.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, _ := jetstream.New(nc)
		jss = append(jss, js)
	}
	layout := transport.Layout{}
	sc := layout.ChainStreamConfig(transport.StoreConfig{Replicas: 3})
	createWhenReady(t, jss[0], sc)
	var stores []*chainstore.Store
	for _, js := range jss {
		st, err := chainstore.New(ctx, js, layout)
		if err != nil {
			t.Fatal(err)
		}
		stores = append(stores, st)
	}

	// Group commit: 3,000 records queued at once go in few frames.
	a, err := stores[0].Appender("r-1", chainstore.Head{})
	if err != nil {
		t.Fatal(err)
	}
	var last *chainstore.Pending
	for i := range 3000 {
		if last, err = a.Append(ctx, handled(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := last.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	st := a.Stats()
	closeAppender(t, a)
	t.Logf("3000 records in %d messages", st.Messages)
	if st.Records != 3000 || st.Messages > 30 {
		t.Fatalf("stats %+v: not grouped", st)
	}

	// Two writers through two servers race from one head: one wins.
	head, err := stores[1].Head(ctx, "r-1")
	if err != nil || head.Seq != 3000 {
		t.Fatalf("head %+v %v", head, err)
	}
	var wg sync.WaitGroup
	results := make([]error, 2)
	for w, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ap, err := s.Appender("r-1", head)
			if err != nil {
				results[w] = err
				return
			}
			defer ap.Close(ctx)
			ps, err := ap.AppendAll(ctx, &chain.Stop{Reason: fmt.Sprint(w)}, &chain.Stop{Reason: fmt.Sprint(w)})
			if err != nil {
				results[w] = err
				return
			}
			results[w] = ps[1].Wait(ctx)
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range results {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, chainstore.ErrFenced):
			t.Fatalf("loser: %v, want ErrFenced", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d winners: %v", won, results)
	}
	rep, err := stores[1].Verify(ctx, "r-1", chain.Head{})
	if err != nil || !rep.OK() || rep.Head.Seq != 3002 {
		t.Fatalf("verify: %+v %v", rep.Findings, err)
	}
}
