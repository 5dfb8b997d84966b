package node

import "github.com/theater-go/theater/actor/chain"

// seenSends remembers the chain-derived ids ([chain.MessageID]) of the
// sends an actor handled from other actors, and those of the
// publications ([replay.ChannelMsgID], under seenKey) moved into its
// mailbox, as far back in each sender's
// chain as a restore of that sender republishes (recentWindow events).
// The mailbox stream's duplicate window catches a republish only while
// it lasts (two minutes by default); this catches it however late the
// sender comes back. It is rebuilt from the actor's own chain on restore,
// so it needs no storage of its own.
//
// Only an exact id the actor already handled is dropped: a forged id
// can make the set forget early (then a late republish is handled, as
// without it), never refuse a send the actor has not seen.
type seenSends struct {
	ids     map[string]struct{}
	senders map[string]*senderSeen
	order   []seenID // oldest first
	head    int      // order[:head] are gone
}

type senderSeen struct {
	top  uint64 // the highest sender sequence seen
	held int    // ids of this sender still in order
}

type seenID struct {
	id, from string
	seq      uint64
}

// maxSeen bounds the ids an actor remembers from all senders together:
// a flood of forged senders costs memory up to here, then the oldest are
// forgotten.
const maxSeen = 1 << 17

func newSeenSends() *seenSends {
	return &seenSends{ids: map[string]struct{}{}, senders: map[string]*senderSeen{}}
}

// parseSeen returns the sender's sequence when id is a chain-derived id
// of a send or a publication (seenKey) by actor from.
func parseSeen(from, id string) (uint64, bool) {
	if from == "" {
		return 0, false
	}
	a, seq, _, ok := chain.ParseMessageID(id)
	if !ok {
		a, seq, _, ok = parseChannelID(id)
	}
	return seq, ok && a == from
}

// has reports whether the send id from actor from was handled.
func (s *seenSends) has(from, id string) bool {
	if _, ok := parseSeen(from, id); !ok {
		return false
	}
	_, ok := s.ids[id]
	return ok
}

// add records that the send id from actor from was handled.
func (s *seenSends) add(from, id string) {
	seq, ok := parseSeen(from, id)
	if !ok {
		return
	}
	if _, dup := s.ids[id]; dup {
		return
	}
	ss := s.senders[from]
	if ss == nil {
		ss = &senderSeen{}
		s.senders[from] = ss
	}
	ss.top = max(ss.top, seq)
	ss.held++
	s.ids[id] = struct{}{}
	s.order = append(s.order, seenID{id: id, from: from, seq: seq})
	s.prune()
}

// prune forgets ids older than their sender's republish window, and the
// oldest ones beyond maxSeen. A sender republishes in chain order, so
// its ids arrive nearly in order and the oldest are at the front.
func (s *seenSends) prune() {
	for s.head < len(s.order) {
		o := s.order[s.head]
		ss := s.senders[o.from]
		if len(s.ids) <= maxSeen && o.seq+recentWindow >= ss.top {
			break
		}
		delete(s.ids, o.id)
		if ss.held--; ss.held == 0 {
			delete(s.senders, o.from)
		}
		s.order[s.head] = seenID{}
		s.head++
	}
	if s.head > len(s.order)/2 && s.head > 1024 {
		s.order = append(s.order[:0], s.order[s.head:]...)
		s.head = 0
	}
}
