package node_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// theaterBin is the theater binary TestMain builds for the tests that
// need a real node process.
var theaterBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "theater-node-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	theaterBin = filepath.Join(dir, "theater")
	if out, err := exec.Command("go", "build", "-o", theaterBin, "../../cmd/theater").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build theater: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startServe runs `theater serve` against url as node name, with more
// flags in args, and waits until it says it serves.
func startServe(t *testing.T, url, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(theaterBin, append([]string{"serve", "--server", url, "--name", name, "--cache-dir", t.TempDir()}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(out).ReadString('\n')
		if err == nil && !strings.Contains(line, "serving") {
			err = fmt.Errorf("unexpected first line %q", line)
		}
		ready <- err
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("theater serve did not start")
	}
	return cmd
}

// TestKillAfterAck: a send is acknowledged while the hosting node process
// cannot run (SIGSTOP), then the process is killed with SIGKILL. A new
// node under the same name resumes the actor from its recorded state and
// mailbox position and handles the send exactly once.
func TestKillAfterAck(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	child := startServe(t, srv.ClientURL(), "victim")
	c := newClient(t, srv)
	spawnCounter(t, c, "survivor", "victim")
	if err := c.Send(ctx, "survivor", []byte("5"), wire.JSON); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "survivor", "5")

	if err := child.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(ctx, "survivor", []byte("3"), wire.JSON); err != nil {
		t.Fatal(err)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()

	startNode(t, srv, "victim")
	waitState(t, c, "survivor", "8")
	// One more send: had the 3 been handled twice, the total would be 12.
	if err := c.Send(ctx, "survivor", []byte("1"), wire.JSON); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "survivor", "9")
	checkFor(t, 5*time.Second, func() error { return exactlyOnce(chainOf(t, connect(t, srv), "survivor"), 3) })
}

// TestServeSIGTERM: `theater serve` stops cleanly on SIGTERM: exit status
// 0, its actors recorded and still registered to it, its heartbeat gone.
func TestServeSIGTERM(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	child := startServe(t, srv.ClientURL(), "polite")
	c := newClient(t, srv)
	spawnCounter(t, c, "kept", "polite")
	if _, err := c.Request(ctx, "kept", []byte("4"), wire.JSON); err != nil {
		t.Fatal(err)
	}
	if err := child.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := child.Wait(); err != nil {
		t.Fatalf("theater serve after SIGTERM: %v", err)
	}
	e, err := c.Entry(ctx, "kept")
	if err != nil || e.Node != "polite" || e.Status != wire.StatusRunning || string(e.State) != "\x04" {
		t.Fatalf("entry %+v, %v", e, err)
	}
	if nodes, err := c.Nodes(ctx); err != nil || len(nodes) != 0 {
		t.Fatalf("nodes %+v, %v", nodes, err)
	}
}

// TestSurvivorClaims: the node hosting an actor is killed with SIGKILL
// after a send was acknowledged and before it was handled; another node
// sees its heartbeat lapse, claims the actor and handles the send once.
func TestSurvivorClaims(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	ttl := transport.StoreConfig{NodeTTL: time.Second}
	child := startServe(t, srv.ClientURL(), "doomed", "--node-ttl", "1s")
	survivor, err := node.Start(ctx, node.Config{Conn: connect(t, srv), Runtime: newRuntime(t), Name: "survivor", Store: ttl, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = survivor.Close(context.Background()) })
	c := newClient(t, srv)
	spawnCounter(t, c, "moved", "doomed")
	if err := c.Send(ctx, "moved", []byte("5"), wire.JSON); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "moved", "5")
	if err := child.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(ctx, "moved", []byte("3"), wire.JSON); err != nil {
		t.Fatal(err)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	checkFor(t, 20*time.Second, func() error {
		e, err := c.Entry(ctx, "moved")
		if err != nil || e.Node != "survivor" {
			return fmt.Errorf("entry on %s, %v", e.Node, err)
		}
		return exactlyOnce(chainOf(t, connect(t, srv), "moved"), 2)
	})
	reply, err := c.Request(ctx, "moved", []byte("0"), wire.JSON)
	if err != nil || string(reply) != "8" {
		t.Fatalf("request after the move: %s, %v", reply, err)
	}
}
