package replay

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/guest"
)

type secrets map[string]string

func (s secrets) Secret(name string) (string, bool) { v, ok := s[name]; return v, ok }

// TestConfigSecretsRecordedAsDigests runs the config-agent example with a
// Recorder: values come from the spec, secrets from the node's source;
// the inputs hold the secrets' digests and never their bytes, and a
// replay with the same secrets reproduces every reply and state, while
// one with another secret diverges at that call.
func TestConfigSecretsRecordedAsDigests(t *testing.T) {
	mod := buildGuest(t, "examples/config-agent/guest")
	ctx := context.Background()
	rt, err := actor.NewRuntime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	const key = "sk-very-secret-value"
	rec := NewRecorder(nil, nil, nil)
	spec := actor.Spec{ID: "cfg", Module: mod, Capabilities: []string{"config"},
		ConfigValues: map[string]string{"model": "small-1"}, SecretNames: []string{"api_key", "absent"}}
	live := spec
	live.Secrets = rec.Secrets(secrets{"api_key": key})
	a, err := rt.Spawn(ctx, live)
	if err != nil {
		t.Fatal(err)
	}
	rec.Take()
	names := []string{"model", "secret:api_key", "secret:absent", "other"}
	wants := []string{"small-1", "secret api_key: 20 bytes", "theater: config: missing: absent", "theater: config: unknown: other"}
	var inputs [][]chain.Input
	var replies [][]byte
	for k, n := range names {
		reply, err := a.Request(ctx, guest.AppendString(nil, n))
		if err != nil {
			t.Fatal(err)
		}
		if s, _, _ := guest.ReadString(reply); s != wants[k] {
			t.Fatalf("%s: %q, want %q", n, s, wants[k])
		}
		in, _ := rec.Take()
		for _, i := range in {
			if bytes.Contains(i.Data, []byte(key)) {
				t.Fatalf("the secret is in the inputs in clear: %x", i.Data)
			}
		}
		inputs, replies = append(inputs, in), append(replies, reply)
	}
	if len(inputs[0]) != 0 || len(inputs[1]) != 1 || inputs[1][0].Call != CallSecret || len(inputs[3]) != 0 {
		t.Fatalf("inputs %+v", inputs)
	}
	a.Stop(ctx)

	for _, tc := range []struct {
		src     secrets
		diverge bool
	}{{secrets{"api_key": key}, false}, {secrets{"api_key": "s3cr3t-other"}, true}, {nil, true}} {
		var p player
		rs := spec
		rs.Secrets = playSecrets{&p, tc.src}
		b, err := rt.Spawn(ctx, rs)
		if err != nil {
			t.Fatal(err)
		}
		p.load(2, inputs[1])
		reply, err := b.Request(ctx, guest.AppendString(nil, names[1]))
		b.Stop(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if tc.diverge {
			if p.div == nil || p.div.What != DivergedInput || strings.Contains(p.div.String(), "s3cr3t") {
				t.Fatalf("another secret: divergence %+v", p.div)
			}
			continue
		}
		if p.div != nil || !bytes.Equal(reply, replies[1]) {
			t.Fatalf("same secret: %v %q", p.div, reply)
		}
	}
}
