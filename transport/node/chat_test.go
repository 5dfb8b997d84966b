package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/guest"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/actor/replay"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

var chatWasm = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "chat")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "chat.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, "./examples/chat-agent/guest")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, errors.New(string(msg))
	}
	return os.ReadFile(out)
})

// chatManifest is examples/chat-agent/chat.toml with the local server's
// address.
func chatManifest(u *url.URL) string {
	return fmt.Sprintf(`name = "chat"
module = "chat.wasm"
[types]
request = "string"
reply = "string"
state = "tuple<u64, string>"

[capabilities.http]
hosts = ["%s"]
ports = [%s]
schemes = ["http"]
methods = ["POST"]
allow_private = true   # the test's server is on loopback
timeout = "5s"

[capabilities.store]

[[capabilities.config.value]]
name = "url"
value = "%s/v1/chat/completions"

[[capabilities.config.value]]
name = "model"
value = "tiny-chat"

[[capabilities.config.secret]]
name = "api_key"
`, u.Hostname(), u.Port(), u.String())
}

// TestChatAgent runs the chat-agent example on a node against a small
// local server speaking the chat-completions API: each turn sends the
// whole conversation kept in store, the node's API key and the model of
// the manifest; then, with the server and NATS stopped, its chain
// replays with every state equal.
func TestChatAgent(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var seen []int // messages per call
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Model    string `json:"model"`
			Messages []struct{ Role, Content string }
		}
		if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer sk-test" ||
			json.NewDecoder(r.Body).Decode(&req) != nil || req.Model != "tiny-chat" || len(req.Messages) == 0 {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		mu.Lock()
		seen = append(seen, len(req.Messages))
		mu.Unlock()
		last := req.Messages[len(req.Messages)-1].Content
		json.NewEncoder(w).Encode(map[string]any{"id": "c1", "object": "chat.completion", "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
				"message": map[string]string{"role": "assistant", "content": fmt.Sprintf("heard %q after %d messages", last, len(req.Messages)-1)}}}})
	}))
	defer api.Close()
	u, _ := url.Parse(api.URL)

	srv := testServer(t)
	sec := secretMap{"api_key": "sk-test"}
	n := startNodeCfg(t, srv, node.Config{Name: "a", Secrets: sec})
	c := newClient(t, srv)
	m, err := manifest.Parse("chat.toml", []byte(chatManifest(u)))
	if err != nil {
		t.Fatal(err)
	}
	mod, err := chatWasm()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Spawn(ctx, m, mod, nil, client.SpawnOptions{ID: "chat"}); err != nil {
		t.Fatal(err)
	}
	for k, in := range []string{"hello", "what is NATS?", "thanks"} {
		r, err := c.Request(ctx, "chat", guest.AppendString(nil, in), wire.Msgpack)
		if err != nil {
			t.Fatalf("turn %d: %v", k, err)
		}
		got, _, _ := guest.ReadString(r)
		if want := fmt.Sprintf("heard %q after %d messages", in, 2*k); got != want {
			t.Fatalf("turn %d: %q, want %q", k, got, want)
		}
	}
	if fmt.Sprint(seen) != "[1 3 5]" {
		t.Fatalf("the endpoint saw conversations of %v messages", seen)
	}
	js, _ := jetstream.New(connect(t, srv))
	kv, err := js.KeyValue(ctx, transport.Layout{}.StoreBucket())
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, "actor.chat.conversation")
	var conv []map[string]string
	if err != nil || json.Unmarshal(e.Value(), &conv) != nil || len(conv) != 6 || conv[5]["role"] != "assistant" {
		t.Fatalf("stored conversation %s, %v", e.Value(), err)
	}

	// Offline: no endpoint, no NATS; the secret from the replayer's own source.
	evs := chainOf(t, connect(t, srv), "chat")
	api.Close()
	if err := n.Close(ctx); err != nil { // before the server goes: its Close would wait on it
		t.Fatal(err)
	}
	srv.Shutdown(ctx)
	spec, err := actor.SpecFromManifest("chat", m, nil)
	if err != nil {
		t.Fatal(err)
	}
	spec.Module, spec.Secrets = mod, sec
	rep, err := replay.Replay(ctx, newRuntime(t), spec, evs)
	if err != nil || !rep.OK() || rep.StatesEqual < 4 {
		t.Fatalf("replay: %v %v", &rep, err)
	}
	t.Log(rep.String())
}
