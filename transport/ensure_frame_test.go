package transport_test

import (
	"testing"

	"github.com/theater-go/theater/transport"
)

// TestEnsureTurnsAtomicPublishOff: a chain stream created while appends
// used atomic batches (AllowAtomicPublish on) is updated by Ensure to the
// current config, which does not allow it: the chain store writes frames,
// plain publishes.
func TestEnsureTurnsAtomicPublishOff(t *testing.T) {
	js := newJetStream(t)
	ctx := testContext(t)
	l := transport.Layout{}
	old := l.ChainStreamConfig(transport.StoreConfig{})
	old.AllowAtomicPublish = true
	if _, err := js.CreateStream(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := l.Ensure(ctx, js, transport.StoreConfig{}); err != nil {
		t.Fatal(err)
	}
	if streamConfig(t, ctx, js, l.ChainStream()).AllowAtomicPublish {
		t.Fatal("the chain stream still allows atomic publish after Ensure")
	}
}
