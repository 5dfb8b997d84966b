package node_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/natstest"
	"github.com/theater-go/theater/transport/node"
)

// TestSlowAdoptKeepsHeartbeat: a node restarted under its name adopts its
// actors at start, and a Go guest compiles for seconds, longer than the
// node TTL. Its heartbeat (and the renewal of the lease it took) must run
// meanwhile, so another node, started during the adoption, never takes
// the actor it is still resuming.
func TestSlowAdoptKeepsHeartbeat(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	store := transport.StoreConfig{NodeTTL: time.Second}
	x := startNodeCfg(t, srv, node.Config{Name: "x", Store: store})
	c := newClient(t, srv)
	wasm := filepath.Join(t.TempDir(), "counter.wasm")
	build := exec.Command("go", "build", "-buildmode=c-shared", "-o", wasm, "./examples/counter/go")
	build.Dir = filepath.Join("..", "..")
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	m, err := manifest.Load(counterManifest)
	if err != nil {
		t.Fatal(err)
	}
	m.Module = wasm
	sctx, cancel := context.WithTimeout(ctx, 5*time.Minute) // a Go guest compiles slowly on a loaded machine
	defer cancel()
	if _, err := c.Spawn(sctx, m, readFile(t, wasm), readFile(t, m.WIT), client.SpawnOptions{ID: "go-counter"}); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(ctx); err != nil {
		t.Fatal(err)
	}

	// x again, on a fresh runtime (nothing compiled), started in the
	// background; y starts once x's heartbeat is back.
	rt, err := actor.NewRuntime(ctx, actor.WithLogger(natstest.Logger(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close(context.Background()) })
	type started struct {
		n    *node.Node
		took time.Duration
		err  error
	}
	done := make(chan started, 1)
	go func() {
		t0 := time.Now()
		n, err := node.Start(ctx, node.Config{Name: "x", Store: store, Runtime: rt, Conn: connect(t, srv), Logger: natstest.Logger(t)})
		done <- started{n, time.Since(t0), err}
	}()
	checkFor(t, 10*time.Second, func() error {
		nodes, err := c.Nodes(ctx)
		if err != nil || len(nodes) == 0 {
			return fmt.Errorf("no heartbeat of x yet (%v)", err)
		}
		return nil
	})
	y := startNodeCfg(t, srv, node.Config{Name: "y", Store: store})
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { _ = r.n.Close(context.Background()) })
	if r.took < 3*store.NodeTTL/2 {
		t.Fatalf("x adopted its actors in %v: the test needs an adoption longer than the TTL (%v)", r.took, store.NodeTTL)
	}
	// Another node that took the actor mid-resume holds its lease now
	// (it may still be compiling the module itself).
	kv, err := natsJS(t, connect(t, srv)).KeyValue(ctx, transport.Layout{}.LeasesBucket())
	if err != nil {
		t.Fatal(err)
	}
	l, err := kv.Get(ctx, "go-counter")
	if err != nil {
		t.Fatal(err)
	}
	var lease struct{ Node string }
	if err := json.Unmarshal(l.Value(), &lease); err != nil || lease.Node != "x" {
		t.Fatalf("go-counter's lease is %s (%v): taken while x resumed it in %v", l.Value(), err, r.took)
	}
	if !node.Hosts(r.n, "go-counter") || node.Hosts(y, "go-counter") {
		t.Fatalf("go-counter: hosted by x: %v, by y: %v (x took %v to start)", node.Hosts(r.n, "go-counter"), node.Hosts(y, "go-counter"), r.took)
	}
	waitState(t, c, "go-counter", "0")
}
