package node

import (
	"testing"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/replay"
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

// TestSeenPublications: a publication moved into actor "sub"'s mailbox
// is remembered under its publication id, whatever stream sequence it
// came from, so a republish of it is known; an id that only looks like
// one (another subscriber's prefix, a non-canonical index, another
// publisher than From) is taken as it is and never matches.
func TestSeenPublications(t *testing.T) {
	pub := replay.ChannelMsgID("pub", 5, 1)
	first, again := channelSendID("sub", "pub", pub, 10), channelSendID("sub", "pub", pub, 99)
	if first != again || first != "chan:sub:pub:5:c1" {
		t.Fatalf("ids %q and %q", first, again)
	}
	if id := channelSendID("sub", "other", pub, 10); id != "chan:sub:10" {
		t.Fatalf("a publication id of another publisher: %q", id)
	}
	if id := channelSendID("sub", "pub", "", 10); id != "chan:sub:10" {
		t.Fatalf("no publication id: %q", id)
	}
	s := newSeenSends()
	s.add("pub", seenKey("sub", first))
	if !s.has("pub", seenKey("sub", again)) {
		t.Fatalf("republished publication not known: %v", s.ids)
	}
	for _, id := range []string{"chan:other:pub:5:c1", "chan:sub:pub:5:c01", "chan:sub:pub:5:1", "chan:sub:10"} {
		if s.has("pub", seenKey("sub", id)) {
			t.Fatalf("%q known", id)
		}
	}
	if s.has("x", seenKey("sub", first)) {
		t.Fatal("known under another sender")
	}
}
