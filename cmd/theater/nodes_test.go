package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the command and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func waitOutput(t *testing.T, out *lockedBuffer, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %s in output:\n%s", re, out)
	return nil
}

// TestRunSmoke runs `theater run` in-process, drives its actor with the
// other commands, and stops it as Ctrl-C would.
func TestRunSmoke(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"run", "../../examples/counter/counter.toml", "--id", "smoke", "--cache-dir", t.TempDir()},
			strings.NewReader(""), &out, &errOut)
	}()
	url := waitOutput(t, &out, regexp.MustCompile(`NATS at (nats://\S+)`))[1]
	waitOutput(t, &out, regexp.MustCompile(`event started smoke`))

	cli := func(want string, args ...string) {
		t.Helper()
		code, stdout, stderr := runCLI(t, "", append(args, "--server", url)...)
		if code != 0 || !strings.Contains(stdout, want) {
			t.Fatalf("theater %s: exit %d, stdout %q, stderr %q; want %q", strings.Join(args, " "), code, stdout, stderr, want)
		}
	}
	cli("stored", "send", "smoke", "5")
	// The send is stored, not yet handled: wait for the actor to get it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, stdout, _ := runCLI(t, "", "state", "smoke", "--server", url); stdout == "5\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the send was not handled")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cli("7", "request", "smoke", "2")
	cli(`"id": "smoke"`, "ls", "--json")
	cli("ACTORS", "nodes")
	code, _, stderr := runCLI(t, "", "request", "smoke", `"ten"`, "--server", url)
	if code == 0 || !strings.Contains(stderr, "expected u32") {
		t.Fatalf("bad request: exit %d, %s", code, stderr)
	}
	code, _, stderr = runCLI(t, "", "state", "nobody", "--server", url)
	if code == 0 || !strings.Contains(stderr, "theater ls") {
		t.Fatalf("state of an unknown actor: exit %d, %s", code, stderr)
	}
	cli("7", "state", "smoke")
	cli("smoke stopped", "stop", "smoke")
	waitOutput(t, &out, regexp.MustCompile(`event stopped smoke`))
	// Stopped actors are listed only with --all, until removed.
	if code, stdout, stderr := runCLI(t, "", "ls", "--json", "--server", url); code != 0 || strings.Contains(stdout, "smoke") {
		t.Fatalf("ls lists a stopped actor: exit %d, %q %q", code, stdout, stderr)
	}
	cli("stopped", "ls", "--all")
	cli("smoke removed", "rm", "smoke")
	if code, stdout, stderr := runCLI(t, "", "ls", "--all", "--json", "--server", url); code != 0 || strings.Contains(stdout, "smoke") {
		t.Fatalf("ls --all lists a removed actor: exit %d, %q %q", code, stdout, stderr)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("run exited %d: %s", code, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not stop")
	}
}

func TestNodeCommandsExplainMissingServer(t *testing.T) {
	code, _, stderr := runCLI(t, "", "ls", "--server", "nats://127.0.0.1:1", "--timeout", "2s")
	if code == 0 || !strings.Contains(stderr, "theater serve") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}
