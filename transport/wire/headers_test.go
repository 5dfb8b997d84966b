package wire_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/transport/wire"
)

// TestDeadlineHeader: a deadline set on a message has expired exactly
// when now is past it; a message without one, or with one that does not
// parse, never expires.
func TestDeadlineHeader(t *testing.T) {
	d := time.UnixMilli(1_800_000_000_000)
	m := &nats.Msg{}
	wire.SetDeadline(m, d)
	if wire.Expired(m.Header, d) || !wire.Expired(m.Header, d.Add(time.Millisecond)) {
		t.Fatalf("deadline %s: expired at it or not just after it", m.Header.Get(wire.DeadlineHeader))
	}
	if wire.Expired(nil, d) || wire.Expired(nats.Header{wire.DeadlineHeader: {"soon"}}, d) {
		t.Fatal("a missing or malformed deadline expired")
	}
}

// TestTypesTag: the tag changes with the WIT or either type reference,
// and only with those.
func TestTypesTag(t *testing.T) {
	base := manifest.Manifest{Name: "c", WIT: "sha256:aa", Types: manifest.Types{Request: "api.add", Reply: "api.total", Send: "api.add"}}
	tag := wire.TypesTag(&base)
	if len(tag) != 16 {
		t.Fatalf("tag %q, want 16 hex digits", tag)
	}
	same := base
	same.Types.Send, same.Name = "api.other", "d"
	if wire.TypesTag(&same) != tag {
		t.Error("the tag depends on more than the WIT and the request and reply types")
	}
	for _, m := range []manifest.Manifest{
		{WIT: "sha256:bb", Types: base.Types},
		{WIT: base.WIT, Types: manifest.Types{Request: "api.total", Reply: "api.total"}},
		{WIT: base.WIT, Types: manifest.Types{Request: "api.add", Reply: "api.add"}},
		// The separators keep a reference from sliding into the next.
		{WIT: base.WIT, Types: manifest.Types{Request: "api.addapi.total"}},
	} {
		if wire.TypesTag(&m) == tag {
			t.Errorf("%+v has the tag of %+v", m, base)
		}
	}
}

// FuzzExpired: any header value parses without a panic, and a value that
// SetDeadline wrote reads back as the same deadline.
func FuzzExpired(f *testing.F) {
	for _, s := range []string{"0", "1800000000000", "-1", "soon", "", "99999999999999999999"} {
		f.Add(s, int64(1_800_000_000_000))
	}
	f.Fuzz(func(t *testing.T, v string, ms int64) {
		now := time.UnixMilli(ms)
		_ = wire.Expired(nats.Header{wire.DeadlineHeader: {v}}, now)
		m := &nats.Msg{}
		wire.SetDeadline(m, now)
		if wire.Expired(m.Header, now) {
			t.Fatalf("deadline %d expired at itself", ms)
		}
	})
}
