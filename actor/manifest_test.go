package actor_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/manifest"
)

// TestSpecFromManifest loads the counter and relay examples from their
// manifests and checks that the actors get what a node gives them: the
// limits, capabilities, allow-list, WIT types and initial state.
func TestSpecFromManifest(t *testing.T) {
	ctx := context.Background()
	spec, err := actor.LoadSpec("counter-1", "../examples/counter/counter.toml")
	if err != nil {
		t.Fatal(err)
	}
	want := actor.Limits{MemoryPages: manifest.DefaultMemoryPages, HandlerTimeout: 5 * time.Second,
		MailboxLen: manifest.DefaultMailbox, MaxMessageSize: manifest.DefaultMaxMessageBytes, IdleTimeout: -1}
	if spec.Limits != want {
		t.Errorf("limits %+v, want %+v", spec.Limits, want)
	}
	if strings.Join(spec.Capabilities, ",") != "log" || spec.Manifest != "counter" || spec.ID != "counter-1" {
		t.Errorf("spec %q %q %v", spec.ID, spec.Manifest, spec.Capabilities)
	}
	if spec.LogLevel == nil || spec.LogLevel.Level() != slog.LevelInfo {
		t.Errorf("log level %v, want info", spec.LogLevel)
	}
	if spec.Types.State == nil || spec.Types.Send == nil || spec.Types.Request == nil || spec.Types.Reply == nil {
		t.Errorf("types %+v", spec.Types)
	}
	if !bytes.Equal(spec.State, u64(t, 0)) || len(spec.Module) == 0 {
		t.Errorf("state %x, module of %d bytes", spec.State, len(spec.Module))
	}

	rt := newRuntime(t)
	c, err := rt.Spawn(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	// The types are enforced: a u64 past u32 is not an api.add.
	if _, err := c.Request(ctx, u64(t, 1<<40)); !errors.Is(err, actor.ErrInvalidMessage) {
		t.Errorf("an add past u32: %v, want ErrInvalidMessage", err)
	}
	if r, err := c.Request(ctx, u64(t, 5)); err != nil || !bytes.Equal(r, u64(t, 5)) {
		t.Errorf("request: %x, %v", r, err)
	}

	// The relay's initial state is raw msgpack (initial_base64), and its
	// allow-list admits counter-* only.
	rs, err := actor.LoadSpec("relay-1", "../examples/relay/relay.toml")
	if err != nil {
		t.Fatal(err)
	}
	if string(rs.State) != "counter-1" || rs.AllowTarget == nil || !rs.AllowTarget("counter-9") || rs.AllowTarget("relay-2") {
		t.Fatalf("relay state %q, allow-list wrong", rs.State)
	}
	if strings.Join(rs.Capabilities, ",") != "message" || rs.LogLevel != nil {
		t.Errorf("relay capabilities %v, log level %v", rs.Capabilities, rs.LogLevel)
	}
	rs.Router = actor.NewLocalRouter(rt)
	relay, err := rt.Spawn(ctx, rs)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := relay.Request(ctx, u64(t, 2)); err != nil || !bytes.Equal(r, u64(t, 7)) {
		t.Errorf("through the relay: %x, %v; want 7", r, err)
	}
}

// TestSpecFromManifestLogLevel: a manifest's log level drops the lines
// below it whatever the logger lets through (the counter logs "counter
// started" at info in theater_init).
func TestSpecFromManifestLogLevel(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	for _, tc := range []struct {
		level  string
		logged bool
	}{{"debug", true}, {"info", true}, {"warn", false}, {"error", false}} {
		m, err := manifest.Parse("counter.toml", []byte(`name = "counter"
module = "../examples/counter/wat/counter.wasm"
[capabilities.log]
level = "`+tc.level+`"
`))
		if err != nil {
			t.Fatal(err)
		}
		spec, err := actor.SpecFromManifest("log-"+tc.level, m, nil)
		if err != nil {
			t.Fatal(err)
		}
		spec.Module = wasmFile(t, m.Module)
		var logs logBuffer
		spec.Logger = logs.logger()
		if _, err := rt.Spawn(ctx, spec); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(logs.String(), "counter started"); got != tc.logged {
			t.Errorf("level %s: logged %v, want %v:\n%s", tc.level, got, tc.logged, logs.String())
		}
	}
}

func TestSpecFromManifestErrors(t *testing.T) {
	for _, tc := range []struct {
		name, toml, want string
	}{
		{"initial not of its type", "[types]\nstate = \"u8\"\n[state]\ninitial = \"300\"\n", "state.initial"},
		{"unknown type", "[types]\nsend = \"api.add\"\n", "types.send"},
		{"no name", "", "name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &manifest.Manifest{Name: "counter", Module: "counter.wasm"}
			if tc.toml != "" {
				var err error
				if m, err = manifest.Parse("m.toml", []byte("name = \"counter\"\nmodule = \"counter.wasm\"\nwit = \"x.wit\"\n"+tc.toml)); err != nil {
					t.Fatal(err)
				}
			} else {
				m.Name = ""
			}
			_, err := actor.SpecFromManifest("x", m, nil)
			if !errors.Is(err, manifest.ErrInvalid) || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "actor: ") {
				t.Errorf("got %v, want ErrInvalid naming %s", err, tc.want)
			}
		})
	}
	// A manifest built in Go is validated too.
	m := &manifest.Manifest{Name: "counter", Module: "counter.wasm", State: manifest.State{Initial: "1"}}
	if _, err := actor.SpecFromManifest("x", m, nil); !errors.Is(err, manifest.ErrInvalid) || !strings.Contains(err.Error(), "state.initial") {
		t.Errorf("initial state without a type: %v", err)
	}
	// A module named by digest becomes the spec's digest.
	m = &manifest.Manifest{Name: "counter", Module: "sha256:" + strings.Repeat("ab", 32)}
	spec, err := actor.SpecFromManifest("x", m, nil)
	if err != nil || spec.Digest[0] != 0xab || spec.Digest[31] != 0xab || spec.Module != nil {
		t.Errorf("by digest: %x, %v", spec.Digest, err)
	}
}
