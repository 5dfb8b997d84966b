package actor_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/wit"
)

// FuzzSpecFromManifest checks, for any manifest Parse accepts, that
// SpecFromManifest (with the counter's WIT) does not panic, refuses only
// with errors wrapping manifest.ErrInvalid, and otherwise carries the
// manifest's limits and grants into the spec. Seeds, the manifest
// package's, are in testdata/fuzz/FuzzSpecFromManifest.
func FuzzSpecFromManifest(f *testing.F) {
	src, err := os.ReadFile("../examples/counter/counter.wit")
	if err != nil {
		f.Fatal(err)
	}
	model, err := wit.Parse("counter.wit", src)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := manifest.Parse("f.toml", data)
		if err != nil {
			return
		}
		spec, err := actor.SpecFromManifest("fuzz", m, model)
		if err != nil {
			if !errors.Is(err, manifest.ErrInvalid) || !strings.HasPrefix(err.Error(), "actor: ") {
				t.Fatalf("error %q: not ErrInvalid or not prefixed", err)
			}
			return
		}
		l := spec.Limits
		if int(l.MemoryPages) != m.Limits.MemoryPages || l.MailboxLen != m.Limits.Mailbox ||
			l.MaxMessageSize != m.Limits.MaxMessageBytes || l.HandlerTimeout != time.Duration(m.Limits.HandlerDeadline) ||
			(m.Limits.Idle == 0) != (l.IdleTimeout < 0) {
			t.Fatalf("limits %+v from %+v", l, m.Limits)
		}
		for _, c := range []string{"log", "runtime", "message", "clock", "random"} {
			granted := false
			for _, g := range spec.Capabilities {
				granted = granted || g == c
			}
			if granted != m.Grants(c) {
				t.Fatalf("capability %s: spec %v, manifest %v", c, granted, m.Grants(c))
			}
		}
		if (spec.AllowTarget != nil) != m.Grants("message") || (spec.LogLevel != nil) != m.Grants("log") {
			t.Fatalf("allow-list or log level without its capability")
		}
	})
}
