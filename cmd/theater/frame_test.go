package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/chainstore"
	"github.com/theater-go/theater/transport/natstest"
	"github.com/theater-go/theater/transport/node"
)

// TestEventsFollowFrames: `theater events --follow` prints every event of
// a frame (several events in one message), those read first and those
// that arrive while it follows; verify counts the events, not the
// messages.
func TestEventsFollowFrames(t *testing.T) {
	ctx := natstest.Context(t)
	srv := natstest.RunServer(t)
	url := srv.ClientURL()
	natstest.StartNode(t, url, node.Config{Name: "a"}) // creates the streams
	js, err := jetstream.New(natstest.Connect(t, url))
	if err != nil {
		t.Fatal(err)
	}
	st, err := chainstore.New(ctx, js, transport.Layout{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.Appender("framed", chainstore.Head{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(context.Background())
	group := func(what string, n int) {
		t.Helper()
		bodies := make([]chain.Body, n)
		for i := range bodies {
			bodies[i] = &chain.Lifecycle{What: what, Fields: map[string]string{"i": fmt.Sprint(i)}}
		}
		ps, err := a.AppendAll(ctx, bodies...)
		if err != nil {
			t.Fatal(err)
		}
		if err := ps[n-1].Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	group("first", 3)
	out := &syncBuffer{}
	fctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan int, 1)
	go func() {
		done <- run(fctx, []string{"events", "framed", "--follow", "--server", url}, strings.NewReader(""), out, &syncBuffer{})
	}()
	natstest.Eventually(t, func() error {
		if n := strings.Count(out.String(), "\n"); n != 3 {
			return fmt.Errorf("%d lines: %q", n, out.String())
		}
		return nil
	})
	group("second", 4)
	natstest.Eventually(t, func() error {
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 7 || !strings.HasPrefix(strings.TrimSpace(lines[6]), "7 ") {
			return fmt.Errorf("followed %q", out.String())
		}
		return nil
	})
	stop()
	if code := <-done; code != 0 {
		t.Fatalf("events --follow exited %d", code)
	}
	if code, o, e := cli(t, "verify", "framed", "--server", url); code != 0 || !strings.Contains(o, "framed: ok, 7 events") {
		t.Fatalf("verify: %d %s%s", code, o, e)
	}
}
