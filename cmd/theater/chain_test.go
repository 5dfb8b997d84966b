package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/natstest"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// cli runs the CLI in-process and returns its exit status and output.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(natstest.Context(t), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestChainCommands: events, verify and state --at on the chain a real
// node wrote for the counter; then an event is inserted through the
// JetStream API and verify reports it at its sequence and exits 1.
func TestChainCommands(t *testing.T) {
	ctx := context.Background()
	srv := natstest.RunServer(t)
	url := srv.ClientURL()
	natstest.StartNode(t, url, node.Config{Name: "a"})
	c := natstest.NewClient(t, url)
	if _, err := c.SpawnFile(ctx, "../../examples/counter/counter.toml", client.SpawnOptions{ID: "counted"}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"2", "3", "4"} {
		if _, err := c.Request(ctx, "counted", []byte(v), wire.JSON); err != nil {
			t.Fatal(err)
		}
	}
	// spawn, owner, init, snapshot, then the three requests: 5, 6, 7.
	code, out, errOut := cli(t, "events", "counted", "--server", url)
	if code != 0 || strings.Count(out, "\n") != 7 || !strings.Contains(out, "handled") || !strings.Contains(out, "owner") {
		t.Fatalf("events: %d\n%s%s", code, out, errOut)
	}
	code, out, _ = cli(t, "events", "counted", "--server", url, "--json")
	var first struct {
		Seq  uint64 `json:"seq"`
		Kind string `json:"kind"`
		Hash string `json:"hash"`
	}
	if code != 0 || json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &first) != nil || first.Seq != 1 || first.Kind != "spawn" || len(first.Hash) != 64 {
		t.Fatalf("events --json: %d %s", code, out)
	}
	if code, out, errOut = cli(t, "verify", "counted", "--server", url); code != 0 || !strings.Contains(out, "counted: ok, 7 events") {
		t.Fatalf("verify: %d %s%s", code, out, errOut)
	}
	if code, out, errOut = cli(t, "state", "counted", "--at", "6", "--server", url); code != 0 || strings.TrimSpace(out) != "5" {
		t.Fatalf("state --at 6: %d %q %s", code, out, errOut)
	}
	if code, out, _ = cli(t, "state", "counted", "--server", url); code != 0 || strings.TrimSpace(out) != "9" {
		t.Fatalf("state: %d %q", code, out)
	}

	// --follow prints the chain, then each event as it is appended.
	fctx, stop := context.WithCancel(natstest.Context(t))
	defer stop()
	out2 := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(fctx, []string{"events", "counted", "--follow", "--server", url}, strings.NewReader(""), out2, &syncBuffer{})
	}()
	natstest.Eventually(t, func() error {
		if n := strings.Count(out2.String(), "\n"); n < 7 {
			return fmt.Errorf("%d lines followed", n)
		}
		return nil
	})
	if _, err := c.Request(ctx, "counted", []byte("1"), wire.JSON); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, func() error {
		if lines := strings.Split(strings.TrimSpace(out2.String()), "\n"); len(lines) != 8 || !strings.Contains(lines[7], "handled") {
			return fmt.Errorf("followed %q", out2.String())
		}
		return nil
	})
	stop()
	if code := <-done; code != 0 {
		t.Fatalf("events --follow exited %d", code)
	}

	// An event claiming sequence 3 appended by someone else.
	nc := natstest.Connect(t, url)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := chain.Seal(chain.Event{Actor: "counted", Seq: 3, Body: &chain.Stop{Reason: "forged"}})
	if err != nil {
		t.Fatal(err)
	}
	m := nats.NewMsg("theater.chain.counted")
	m.Data = s.Payload
	for k, v := range s.Header() {
		m.Header[k] = v
	}
	if _, err := js.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	code, out, _ = cli(t, "verify", "--all", "--server", url)
	if code != 1 || !strings.Contains(out, "counted: event 3: inserted") {
		t.Fatalf("verify after an insert: %d %s", code, out)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRespawnedChain: the same id spawned, stopped and spawned again
// with another module (the counter, then echo) by a real node. replay
// and state --at run each spawn's events with that spawn's module and
// manifest (they used to replay everything with the first one), and a
// sequence of 2^64-1 does not wrap to an empty chain.
func TestRespawnedChain(t *testing.T) {
	ctx := context.Background()
	srv := natstest.RunServer(t)
	url := srv.ClientURL()
	natstest.StartNode(t, url, node.Config{Name: "a"})
	c := natstest.NewClient(t, url)
	if _, err := c.SpawnFile(ctx, "../../examples/counter/counter.toml", client.SpawnOptions{ID: "c2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Request(ctx, "c2", []byte("7"), wire.JSON); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Stop(ctx, "c2"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	echo, err := os.ReadFile("../../examples/echo/wat/echo.wasm")
	if err != nil {
		t.Fatal(err)
	}
	wit, err := os.ReadFile("../../examples/counter/counter.wit")
	if err != nil {
		t.Fatal(err)
	}
	// The counter's message types, no state type: echo's state is bytes.
	toml := `name = "echo"
module = "echo.wasm"
wit = "counter.wit"
[types]
request = "api.add"
reply = "api.total"
[state]
initial_base64 = "AQI="
`
	if err := os.WriteFile(filepath.Join(dir, "echo.wasm"), echo, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "counter.wit"), wit, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "echo.toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	// A stopped actor's entry goes away asynchronously: spawn again until
	// the id is free.
	natstest.Eventually(t, func() error {
		_, err := c.SpawnFile(ctx, filepath.Join(dir, "echo.toml"), client.SpawnOptions{ID: "c2"})
		return err
	})
	if reply, err := c.Request(ctx, "c2", []byte("5"), wire.JSON); err != nil || strings.TrimSpace(string(reply)) != "5" {
		t.Fatalf("echo request: %x, %v", reply, err)
	}
	var last uint64
	natstest.Eventually(t, func() error {
		code, out, errOut := cli(t, "events", "c2", "--server", url, "--json")
		type event struct {
			Seq  uint64 `json:"seq"`
			Kind string `json:"kind"`
		}
		var evs []event
		for line := range strings.Lines(out) {
			var e event
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				return err
			}
			evs = append(evs, e)
		}
		spawns := 0
		for _, e := range evs {
			if e.Kind == "spawn" {
				spawns++
			}
		}
		if code != 0 || spawns != 2 || evs[len(evs)-1].Kind != "handled" {
			return fmt.Errorf("events: %d, %d spawns, %v %s", code, spawns, evs, errOut)
		}
		last = evs[len(evs)-1].Seq
		return nil
	})

	code, out, errOut := cli(t, "replay", "c2", "--server", url)
	if want := fmt.Sprintf("c2: %d events replayed to seq %d", last, last); code != 0 || !strings.Contains(out, want) || !strings.Contains(out, "all states equal") {
		t.Errorf("replay c2: exit %d, want 0 and %q\nstdout: %s\nstderr: %s", code, want, out, errOut)
	}
	// After the echo's last event: its state, untyped, as base64.
	if code, out, errOut = cli(t, "state", "c2", "--at", fmt.Sprint(last), "--server", url); code != 0 || strings.TrimSpace(out) != `"AQI="` {
		t.Errorf("state --at %d: %d %q %s", last, code, out, errOut)
	}

	max := "18446744073709551615"
	code, out, errOut = cli(t, "replay", "c2", "--to", max, "--server", url)
	if want := fmt.Sprintf("c2: %d events replayed to seq %d", last, last); code != 0 || !strings.Contains(out, want) {
		t.Errorf("replay --to %s: exit %d, want 0 and %q\nstdout: %s\nstderr: %s", max, code, want, out, errOut)
	}
	code, _, errOut = cli(t, "state", "c2", "--at", max, "--server", url)
	if want := fmt.Sprintf("has %d events, not %s", last, max); code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("state --at %s: exit %d, want 1 and %q: %s", max, code, want, errOut)
	}
}
