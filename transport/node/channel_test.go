package node_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/guest"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/actor/replay"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/embedded"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

var publisherWasm = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "publisher")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "publisher.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, "./actor/testdata/guests/publisher")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, errors.New(string(msg))
	}
	return os.ReadFile(out)
})

// channelManifest is the publisher guest's manifest with a channel
// grant of its own (a TOML table body; "" grants no channel). It may
// send to "sub" (BenchmarkChannelLatency's baseline).
func channelManifest(name, grant string) string {
	m := `name = "` + name + `"
module = "publisher.wasm"
[types]
request = "tuple<string, string, u64, u64>"
reply = "string"
send = "string"
state = "list<string>"
[capabilities.log]
[capabilities.message]
allow = ["sub"]
`
	if grant != "" {
		m += "[capabilities.channel]\n" + grant + "\n"
	}
	return m
}

func spawnPublisher(t *testing.T, c *client.Client, id, on, grant string) *manifest.Manifest {
	t.Helper()
	mod, err := publisherWasm()
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Parse(id+".toml", []byte(channelManifest(id, grant)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), goSpawnTimeout)
	defer cancel()
	if _, err := c.Spawn(ctx, m, mod, nil, client.SpawnOptions{ID: id, Node: on}); err != nil {
		t.Fatal(err)
	}
	return m
}

// goSpawnTimeout bounds a spawn of the publisher or the timer agent, Go
// guests: compiling one takes minutes under the race detector on a
// loaded machine.
const goSpawnTimeout = 5 * time.Minute

// startGoNode starts node name with room for goSpawnTimeout spawns.
func startGoNode(t *testing.T, srv *embedded.Server, name string) *node.Node {
	t.Helper()
	return startNodeCfg(t, srv, node.Config{Name: name, SpawnTimeout: goSpawnTimeout})
}

func publish(t *testing.T, c *client.Client, id, topic, payload string, count uint64) string {
	t.Helper()
	b := guest.AppendArrayHeader(nil, 4)
	b = guest.AppendString(guest.AppendString(b, topic), payload)
	r, err := c.Request(context.Background(), id, guest.AppendUint(guest.AppendUint(b, count), 1), wire.Msgpack)
	if err != nil {
		t.Fatal(err)
	}
	s, _, _ := guest.ReadString(r)
	return s
}

// received is a subscriber's state: the strings it was delivered.
func received(t *testing.T, c *client.Client, id string) []string {
	t.Helper()
	st, err := c.State(context.Background(), id, wire.Msgpack)
	if err != nil {
		t.Fatal(err)
	}
	n, rest, err := guest.ReadArrayHeader(st)
	if err != nil {
		t.Fatalf("state %x: %v", st, err)
	}
	out := make([]string, n)
	for i := range out {
		out[i], rest, _ = guest.ReadString(rest)
	}
	return out
}

func waitReceived(t *testing.T, c *client.Client, id string, want []string) {
	t.Helper()
	checkFor(t, 20*time.Second, func() error {
		if got := received(t, c, id); !slices.Equal(got, want) {
			return fmt.Errorf("%s received %q, want %q", id, got, want)
		}
		return nil
	})
}

// waitWaiting waits until n publications wait for subscriber id in its
// channel consumer (delivered or not, unacknowledged).
func waitWaiting(t *testing.T, st jetstream.Stream, id string, n uint64) {
	t.Helper()
	checkFor(t, 10*time.Second, func() error {
		ci, err := st.Consumer(context.Background(), "chan_"+id)
		if err != nil {
			return err
		}
		if info := ci.CachedInfo(); info.NumPending+uint64(info.NumAckPending) != n {
			return fmt.Errorf("pending %d, ack pending %d", info.NumPending, info.NumAckPending)
		}
		return nil
	})
}

// TestChannels: publications reach every subscriber whose patterns match
// the topic, once, in order, as sends from the publisher; a topic the
// grant does not name is refused; a publisher and its subscribers
// replay from their chains with the server stopped.
func TestChannels(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	n := startGoNode(t, srv, "a")
	c := newClient(t, srv)
	mpub := spawnPublisher(t, c, "pub", "a", `publish = ["news.*"]`)
	mall := spawnPublisher(t, c, "all", "a", `subscribe = ["news.*"]`)
	spawnPublisher(t, c, "sport", "a", `subscribe = ["news.sport"]`)
	spawnPublisher(t, c, "deaf", "a", `subscribe = ["weather"]`)
	if got := publish(t, c, "pub", "news.sport", "goal", 2); got != "ok" {
		t.Fatal(got)
	}
	if got := publish(t, c, "pub", "news.tech", "chip", 1); got != "ok" {
		t.Fatal(got)
	}
	if got := publish(t, c, "pub", "weather", "rain", 1); got != "theater: channel: denied: weather" {
		t.Fatalf("denied topic: %q", got)
	}
	waitReceived(t, c, "all", []string{"goal", "goal", "chip"})
	waitReceived(t, c, "sport", []string{"goal", "goal"})
	time.Sleep(500 * time.Millisecond) // a late or second delivery is what is tested against
	waitReceived(t, c, "all", []string{"goal", "goal", "chip"})
	waitReceived(t, c, "deaf", []string{})
	for _, e := range chainOf(t, connect(t, srv), "all") {
		if h, ok := e.Body.(*chain.Handled); ok && h.Call == chain.CallSend && h.From != "pub" {
			t.Fatalf("a publication from %q", h.From)
		}
	}

	// Offline: the publications are inputs of the publisher's chain, the
	// deliveries sends in the subscriber's.
	evPub, evAll := chainOf(t, connect(t, srv), "pub"), chainOf(t, connect(t, srv), "all")
	if err := n.Close(ctx); err != nil {
		t.Fatal(err)
	}
	srv.Shutdown(ctx)
	mod, _ := publisherWasm()
	for _, r := range []struct {
		id  string
		m   *manifest.Manifest
		evs []chain.Event
	}{{"pub", mpub, evPub}, {"all", mall, evAll}} {
		spec, err := actor.SpecFromManifest(r.id, r.m, nil)
		if err != nil {
			t.Fatal(err)
		}
		spec.Module = mod
		rep, err := replay.Replay(ctx, newRuntime(t), spec, r.evs)
		if err != nil || !rep.OK() || rep.StatesEqual < 3 {
			t.Fatalf("replay %s: %v %v", r.id, &rep, err)
		}
		t.Logf("%s: %s", r.id, rep.String())
	}
}

// TestChannelRefusedWithoutGrant: a module importing channel is refused
// at spawn when its manifest has no channel grant, naming the import.
func TestChannelRefusedWithoutGrant(t *testing.T) {
	srv := testServer(t)
	startGoNode(t, srv, "a")
	c := newClient(t, srv)
	mod, err := publisherWasm()
	if err != nil {
		t.Fatal(err)
	}
	m, _ := manifest.Parse("x.toml", []byte(channelManifest("x", "")))
	_, err = c.Spawn(context.Background(), m, mod, nil, client.SpawnOptions{ID: "x"})
	if err == nil || !strings.Contains(err.Error(), `"theater:actor/channel@0.1.0" "publish": capability not granted`) {
		t.Fatalf("spawn: %v", err)
	}
}

// TestChannelAfterKill: a publisher hosted by a `theater serve` process
// is killed with SIGKILL while it works through a stream of sends, each
// publishing one message; a node of the same name restores it, and
// every message reaches each subscriber exactly once.
func TestChannelAfterKill(t *testing.T) {
	ctx := context.Background()
	srv := testServer(t)
	child := startServe(t, srv.ClientURL(), "victim")
	startNodeCfg(t, srv, node.Config{Name: "subs", Logger: quiet, SpawnTimeout: goSpawnTimeout})
	c := newClient(t, srv)
	spawnPublisher(t, c, "s1", "subs", `subscribe = ["feed"]`)
	spawnPublisher(t, c, "s2", "subs", `subscribe = [">"]`)
	spawnPublisher(t, c, "pub", "victim", `publish = ["feed"]`)
	// The kill comes when s1's chain takes its first delivery: seen on
	// its chain subject, at once, where a poll of s1 would be slow under
	// the race detector and the stream already through.
	s1Chain, err := connect(t, srv).SubscribeSync(transport.Layout{}.ChainSubject("s1"))
	if err != nil {
		t.Fatal(err)
	}
	const total = 200
	var want []string
	for k := range total {
		want = append(want, fmt.Sprint("m", k))
		if err := c.Send(ctx, "pub", guest.AppendString(nil, fmt.Sprint("pub feed m", k)), wire.Msgpack); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s1Chain.NextMsg(20 * time.Second); err != nil {
		t.Fatalf("s1 handled nothing: %v", err)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	killedAt := len(received(t, c, "s1"))
	startNodeCfg(t, srv, node.Config{Name: "victim", SpawnTimeout: goSpawnTimeout})
	waitReceived(t, c, "s1", want)
	waitReceived(t, c, "s2", want)
	time.Sleep(time.Second) // a second delivery is what is tested against
	waitReceived(t, c, "s1", want)
	waitReceived(t, c, "s2", want)
	t.Logf("killed after s1 had %d of %d", killedAt, total)
	if killedAt == total {
		t.Fatal("the kill came after the whole stream: nothing was tested")
	}
}

// stoppedSubscriber starts a node "a" hosting "pub", which publishes to
// "feed", and "sub", subscribed to it; it stops sub and publishes
// "while-stopped", which waits for it. It returns a client and the
// channels stream.
func stoppedSubscriber(t *testing.T) (*client.Client, jetstream.Stream) {
	t.Helper()
	ctx := context.Background()
	srv := testServer(t)
	startGoNode(t, srv, "a")
	c := newClient(t, srv)
	spawnPublisher(t, c, "pub", "a", `publish = ["feed"]`)
	spawnPublisher(t, c, "sub", "a", `subscribe = ["feed"]`)
	if _, err := c.Stop(ctx, "sub"); err != nil {
		t.Fatal(err)
	}
	if got := publish(t, c, "pub", "feed", "while-stopped", 1); got != "ok" {
		t.Fatal(got)
	}
	st, err := natsJS(t, connect(t, srv)).Stream(ctx, "theater_channels")
	if err != nil {
		t.Fatal(err)
	}
	waitWaiting(t, st, "sub", 1)
	return c, st
}

// TestChannelSubscriptionLifetime: a stopped subscriber's publications
// wait for it in the channels stream; removing it deletes its consumer.
func TestChannelSubscriptionLifetime(t *testing.T) {
	ctx := context.Background()
	c, st := stoppedSubscriber(t)
	if _, err := c.Remove(ctx, "sub"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Consumer(ctx, "chan_sub"); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Fatalf("consumer after remove: %v", err)
	}
}
