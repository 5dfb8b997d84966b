package natstest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// BuildNATSServer builds the nats-server command of the module's own
// nats-server dependency into dir and returns the binary's path. Call it
// once per test binary (from TestMain, or with a t.TempDir() in the one
// test that needs it): linking takes seconds.
func BuildNATSServer(dir string) (string, error) {
	bin := filepath.Join(dir, "nats-server")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/nats-io/nats-server/v2").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("natstest: go build nats-server: %w\n%s", err, out)
	}
	return bin, nil
}

// Process is a nats-server process started by [StartCluster].
type Process struct {
	// Name is the server's name, URL where clients connect.
	Name, URL string
	cmd       *exec.Cmd
	waited    chan struct{}
}

// Kill ends the process with SIGKILL, as a crash would, and waits for it.
// Calling it again is harmless.
func (p *Process) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.waited
}

// StartCluster starts n nats-server processes of bin (see
// [BuildNATSServer]) on loopback, routed to each other as cluster
// "natstest" with JetStream, each storing in its own temporary
// directory, and waits until JetStream answers through the first. They
// are killed when the test ends.
func StartCluster(t testing.TB, bin string, n int) []*Process {
	t.Helper()
	client := make([]string, n)
	route := make([]string, n)
	for i := range n {
		client[i], route[i] = freeAddr(t), freeAddr(t)
	}
	var routes []string
	for _, r := range route {
		routes = append(routes, "nats://"+r)
	}
	procs := make([]*Process, n)
	for i := range n {
		host, port, _ := net.SplitHostPort(client[i])
		p := &Process{Name: "s" + strconv.Itoa(i+1), URL: "nats://" + client[i], waited: make(chan struct{})}
		p.cmd = exec.Command(bin, "-a", host, "-p", port, "-n", p.Name, "-js", "-sd", t.TempDir(),
			"--cluster_name", "natstest", "--cluster", "nats://"+route[i], "--routes", strings.Join(routes, ","))
		logs := &LogBuffer{}
		p.cmd.Stdout, p.cmd.Stderr = logs, logs
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("%s log:\n%s", p.Name, logs)
			}
		})
		if err := p.cmd.Start(); err != nil {
			t.Fatalf("natstest: start %s: %v", bin, err)
		}
		go func() {
			_ = p.cmd.Wait()
			close(p.waited)
		}()
		t.Cleanup(p.Kill)
		procs[i] = p
	}
	var urls []string
	for i, p := range procs {
		urls = append(urls, p.URL)
		CheckFor(t, 30*time.Second, 20*time.Millisecond, func() error {
			c, err := net.DialTimeout("tcp", client[i], time.Second)
			if err != nil {
				return fmt.Errorf("%s not listening: %w", p.Name, err)
			}
			return c.Close()
		})
	}
	nc := Connect(t, strings.Join(urls, ","))
	WaitJetStream(t, nc)
	waitPeers(t, nc, n)
	return procs
}

// WaitJetStream waits until JetStream answers on nc: in a cluster, once
// its servers have elected a meta leader.
func WaitJetStream(t testing.TB, nc *nats.Conn) {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	CheckFor(t, 30*time.Second, 50*time.Millisecond, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := js.AccountInfo(ctx)
		if err != nil {
			return errors.Join(errors.New("JetStream not ready"), err)
		}
		return nil
	})
}

// waitPeers waits until the meta leader counts all n servers as online
// peers: a meta leader is elected before every peer has reported, and a
// stream of n replicas created meanwhile is refused ("no suitable peers
// for placement"). It creates and deletes a probe stream of n replicas.
func waitPeers(t testing.TB, nc *nats.Conn, n int) {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	CheckFor(t, 30*time.Second, 50*time.Millisecond, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "natstest_peers", Subjects: []string{"natstest.peers"}, Replicas: n, Storage: jetstream.MemoryStorage}); err != nil {
			return fmt.Errorf("%d peers not all online: %w", n, err)
		}
		return js.DeleteStream(ctx, "natstest_peers")
	})
}

// freeAddr returns a loopback host:port nothing listens on right now.
// Routes must be known before the servers start, so ports are chosen up
// front rather than left to each server.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
