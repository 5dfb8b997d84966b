package actor_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/theater-go/theater/actor"
)

func TestMaxMessageSize(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t)
	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			var fails failures
			// State 200 encodes in two bytes, so every reply is over a
			// one-byte limit while the message (a fixint) is not.
			a, err := rt.Spawn(ctx, actor.Spec{ID: "small-" + lang, Module: counter(t, lang), Capabilities: []string{"log"},
				State: u64(t, 200), Limits: actor.Limits{MaxMessageSize: 1}, OnFailure: fails.record,
				FailurePolicy: actor.RecreateOnFailure})
			if err != nil {
				t.Fatal(err)
			}
			big := u64(t, 1000) // three bytes
			var tl *actor.TooLargeError
			if _, err := a.Request(ctx, big); !errors.As(err, &tl) || tl.Limit != 1 || !errors.Is(err, actor.ErrTooLarge) {
				t.Errorf("request over the limit: %v", err)
			}
			if err := a.Send(ctx, big); !errors.Is(err, actor.ErrTooLarge) {
				t.Errorf("send over the limit: %v", err)
			}
			if err := a.TrySend(big); !errors.Is(err, actor.ErrTooLarge) {
				t.Errorf("try-send over the limit: %v", err)
			}
			if len(fails.kinds()) != 0 || !bytes.Equal(a.State(), u64(t, 200)) {
				t.Fatalf("an oversize input reached the guest: %v, state %x", fails.kinds(), a.State())
			}
			// The reply would be 0xcc 0xcd: over the limit, a fault.
			_, err = a.Request(ctx, u64(t, 5))
			var f actor.Failure
			if !errors.As(err, &f) || f.Kind != actor.Fault || !errors.Is(err, actor.ErrFault) {
				t.Fatalf("oversize reply: %v", err)
			}
			if !bytes.Equal(a.State(), u64(t, 200)) || a.Live() {
				t.Errorf("after the fault: state %x, live %v", a.State(), a.Live())
			}
			// A send has no reply: it goes through, from a new instance.
			if err := a.Send(ctx, u64(t, 5)); err != nil {
				t.Fatal(err)
			}
			if err := a.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.State(), u64(t, 205)) {
				t.Errorf("state %x, want 205", a.State())
			}
		})
	}
}
