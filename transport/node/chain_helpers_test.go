package node_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/chainstore"
)

// chainOf reads actor id's chain, every link checked, and verifies it.
func chainOf(t testing.TB, nc *nats.Conn, id string) []chain.Event {
	t.Helper()
	ctx := context.Background()
	st, err := chainstore.New(ctx, natsJS(t, nc), transport.Layout{})
	if err != nil {
		t.Fatal(err)
	}
	var evs []chain.Event
	for e, err := range st.Read(ctx, id, 1) {
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e.Event)
	}
	rep, err := st.Verify(ctx, id, chain.Head{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("chain of %s does not verify: %v", id, rep.Findings)
	}
	return evs
}

// handledSends are the mailbox sequences the chain records as handled
// (handled and failure events), in chain order.
func handledSends(evs []chain.Event) []uint64 {
	var out []uint64
	for _, e := range evs {
		switch b := e.Body.(type) {
		case *chain.Handled:
			if b.MailboxSeq > 0 {
				out = append(out, b.MailboxSeq)
			}
		case *chain.Failure:
			if b.MailboxSeq > 0 {
				out = append(out, b.MailboxSeq)
			}
		}
	}
	return out
}

// kinds lists the kinds of evs, for failure messages.
func kinds(evs []chain.Event) []chain.Kind {
	out := make([]chain.Kind, len(evs))
	for i, e := range evs {
		out[i] = e.Kind()
	}
	return out
}

// countKind counts the events of kind k.
func countKind(evs []chain.Event, k chain.Kind) int {
	n := 0
	for _, e := range evs {
		if e.Kind() == k {
			n++
		}
	}
	return n
}

// lastHandledState is the state hash the chain's last handled event
// records.
func lastHandledState(evs []chain.Event) (chain.Hash, error) {
	for i := len(evs) - 1; i >= 0; i-- {
		if b, ok := evs[i].Body.(*chain.Handled); ok {
			return b.State, nil
		}
	}
	return chain.Hash{}, fmt.Errorf("no handled event in %v", kinds(evs))
}

// exactlyOnce checks that want (mailbox sequences 1..n) are each handled
// once, in order.
func exactlyOnce(evs []chain.Event, n uint64) error {
	got := handledSends(evs)
	if uint64(len(got)) != n {
		return fmt.Errorf("chain records %d handled sends %v, want %d", len(got), got, n)
	}
	for i, s := range got {
		if s != uint64(i+1) {
			return fmt.Errorf("chain records sends %v, want 1..%d once each", got, n)
		}
	}
	return nil
}

// fillChainStream sets the chain stream's message limit to what it holds,
// so every append fails (discard new), and returns a function that lifts
// the limit again.
func fillChainStream(t testing.TB, js jetstream.JetStream) (lift func()) {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, transport.Layout{}.ChainStream())
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg := info.Config
	cfg.MaxMsgs = int64(info.State.Msgs)
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	return func() {
		cfg.MaxMsgs = -1
		if _, err := js.UpdateStream(ctx, cfg); err != nil {
			t.Fatal(err)
		}
	}
}
