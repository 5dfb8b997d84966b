package node_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

var guestsDir = filepath.Join("..", "..", "actor", "testdata", "guests")

// spawnModule spawns a module file under a manifest without WIT (its
// types are primitives).
func spawnModule(t testing.TB, c *client.Client, m *manifest.Manifest, module, id, on string) {
	t.Helper()
	if _, err := c.Spawn(context.Background(), m, readFile(t, module), nil, client.SpawnOptions{ID: id, Node: on}); err != nil {
		t.Fatal(err)
	}
}

// logWatch is a slog handler that counts the messages logged.
type logWatch struct {
	mu   sync.Mutex
	seen map[string]int
}

func newLogWatch() *logWatch { return &logWatch{seen: map[string]int{}} }

func (w *logWatch) Enabled(context.Context, slog.Level) bool { return true }
func (w *logWatch) Handle(_ context.Context, r slog.Record) error {
	w.mu.Lock()
	w.seen[r.Message]++
	w.mu.Unlock()
	return nil
}
func (w *logWatch) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *logWatch) WithGroup(string) slog.Handler      { return w }
func (w *logWatch) count(msg string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen[msg]
}

// TestLongHandlerKeepsHeartbeat: an actor busy in a long handler must not
// stop its node's heartbeat; otherwise the key expires and another node
// claims every actor of the node.
func TestLongHandlerKeepsHeartbeat(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	ttl := transport.StoreConfig{NodeTTL: time.Second}
	a := startNodeCfg(t, srv, node.Config{Name: "a", Store: ttl})
	startNodeCfg(t, srv, node.Config{Name: "b", Store: ttl})
	c := newClient(t, srv)
	spawnCounter(t, c, "counter-a", "a")
	m := &manifest.Manifest{Name: "loop", Module: "loop.wasm", Types: manifest.Types{Request: "u32", Reply: "u32"},
		Limits: manifest.Limits{HandlerDeadline: manifest.Duration(7 * time.Second)}}
	spawnModule(t, c, m, filepath.Join(guestsDir, "loop.wasm"), "loop", "a")

	done := make(chan error, 1)
	go func() {
		_, err := c.Request(ctx, "loop", mp3, wire.Msgpack)
		done <- err
	}()
	checkFor(t, 10*time.Second, func() error { // the handler holds the actor's turn
		if !node.Busy(a, "loop") {
			return errors.New("the loop actor is not busy yet")
		}
		return nil
	})
	// Four TTLs of a busy actor: neither actor of a may move.
	for end := time.Now().Add(4 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		for _, id := range []string{"counter-a", "loop"} {
			if e, err := c.Entry(ctx, id); err != nil || e.Node != "a" {
				t.Fatalf("%s moved to node %q while loop was busy (%v)", id, e.Node, err)
			}
		}
	}
	if err := <-done; !errors.Is(err, wire.ErrFailed) {
		t.Fatalf("loop request: %v, want wire.ErrFailed (its deadline)", err)
	}
}

// TestRespawnSkipsOldMailbox: an id spawned again after a stop starts
// with an empty mailbox: sends stored for the old actor (here one
// published while it was stopped) are not handled by the new one.
func TestRespawnSkipsOldMailbox(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	spawnCounter(t, c, "re", "a")
	if err := c.Send(ctx, "re", []byte("5"), wire.JSON); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "re", "5")
	if _, err := c.Stop(ctx, "re"); err != nil {
		t.Fatal(err)
	}
	m := nats.NewMsg("theater.actor.re.send")
	m.Data = mp3
	if _, err := natsJS(t, connect(t, srv)).PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	spawnCounter(t, c, "re", "a")
	if err := c.Send(ctx, "re", []byte("1"), wire.JSON); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "re", "1")
}

// TestFailureCodes: a handler's fault (a reply not of its type) is
// failed, not the requester's bad_type.
func TestFailureCodes(t *testing.T) {
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	m := &manifest.Manifest{Name: "garbage", Module: "garbage.wasm", Types: manifest.Types{Request: "u32", Reply: "u32"}}
	spawnModule(t, c, m, filepath.Join(guestsDir, "garbage.wasm"), "garbage", "a")
	msg := nats.NewMsg("theater.actor.garbage.req")
	msg.Data = []byte{0x00} // garbage as the reply
	reply, err := connect(t, srv).RequestMsg(msg, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := reply.Header.Get(wire.ErrorHeader); got != wire.CodeFailed {
		t.Fatalf("code %q (%s), want %q", got, reply.Data, wire.CodeFailed)
	}
	if _, err := c.Request(context.Background(), "garbage", []byte{0x00}, wire.Msgpack); !errors.Is(err, wire.ErrFailed) {
		t.Fatalf("client: %v, want wire.ErrFailed", err)
	}
}

func TestClassifyContext(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code string
		want error
	}{
		{fmt.Errorf("queued: %w", context.DeadlineExceeded), wire.CodeFailed, wire.ErrFailed},
		{fmt.Errorf("shutting down: %w", context.Canceled), wire.CodeUnavailable, wire.ErrUnavailable},
	} {
		got := node.Classify(tc.err)
		if code, _ := wire.CodeOf(got); code != tc.code || !errors.Is(got, tc.want) {
			t.Errorf("classify(%v) = %v, code %q; want %q", tc.err, got, code, tc.code)
		}
		if !errors.Is(&wire.RemoteError{Code: tc.code}, tc.want) {
			t.Errorf("wire.RemoteError %q does not unwrap to %v", tc.code, tc.want)
		}
	}
}

// TestGuestSendDedupID: a send a guest makes while handling a durable
// send is published with the Nats-Msg-Id chain.MessageID derives from
// the sender's chain (its id, the handled event's sequence, the send's
// index), so a replay or a retry is stored once.
func TestGuestSendDedupID(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	startNode(t, srv, "a")
	c := newClient(t, srv)
	spawnCounter(t, c, "counter-1", "a")
	spawnRelay(t, c, "relay-1", "a", "")
	if err := c.Send(ctx, "relay-1", mp3, wire.Msgpack); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, "counter-1", "3")
	s, err := natsJS(t, connect(t, srv)).Stream(ctx, "theater_mailbox")
	if err != nil {
		t.Fatal(err)
	}
	msg, err := s.GetLastMsgForSubject(ctx, "theater.actor.counter-1.send")
	if err != nil {
		t.Fatal(err)
	}
	var want string
	for _, e := range chainOf(t, connect(t, srv), "relay-1") {
		if h, ok := e.Body.(*chain.Handled); ok && h.MailboxSeq == 1 {
			want = chain.MessageID("relay-1", e.Seq, 0)
		}
	}
	if id := msg.Header.Get(nats.MsgIdHdr); id == "" || id != want {
		t.Fatalf("Nats-Msg-Id %q, want %q", id, want)
	}
}
