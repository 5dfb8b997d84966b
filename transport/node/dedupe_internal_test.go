package node

import (
	"testing"

	"github.com/theater-go/theater/actor/chain"
)

// TestSeenSendsWindow: an id is remembered while its sender can still
// republish it (recentWindow events), forgotten after; ids that are not
// chain-derived, or name another sender than the From header, are never
// remembered.
func TestSeenSendsWindow(t *testing.T) {
	s := newSeenSends()
	s.add("a", chain.MessageID("a", 1, 0))
	s.add("a", "random-id")
	s.add("b", chain.MessageID("a", 2, 0))
	if !s.has("a", chain.MessageID("a", 1, 0)) || s.has("a", "random-id") || s.has("b", chain.MessageID("a", 2, 0)) || s.has("a", chain.MessageID("a", 2, 0)) {
		t.Fatalf("after three adds: %v", s.ids)
	}
	s.add("a", chain.MessageID("a", 1+recentWindow, 0))
	if !s.has("a", chain.MessageID("a", 1, 0)) {
		t.Fatal("seq 1 forgotten while the sender is within its window")
	}
	s.add("a", chain.MessageID("a", 2+recentWindow, 0))
	if s.has("a", chain.MessageID("a", 1, 0)) {
		t.Fatal("seq 1 kept past the sender's window")
	}
	if len(s.ids) != 2 || s.senders["a"].held != 2 {
		t.Fatalf("ids %v, held %d", s.ids, s.senders["a"].held)
	}
}

// TestSeenSendsBound: a flood of senders (forged From headers) is held
// to maxSeen ids, oldest forgotten first.
func TestSeenSendsBound(t *testing.T) {
	s := newSeenSends()
	for i := range maxSeen + 10 {
		from := "f" + string(rune('a'+i%26)) + chain.MessageID("", uint64(i+1), 0)
		s.add(from, chain.MessageID(from, 1, 0))
	}
	if len(s.ids) != maxSeen || len(s.senders) != maxSeen {
		t.Fatalf("%d ids, %d senders, want %d", len(s.ids), len(s.senders), maxSeen)
	}
}
