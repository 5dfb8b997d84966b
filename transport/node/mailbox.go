package node

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/transport/wire"
)

// mailboxPage is how many stored sends one direct batch get reads.
const mailboxPage = 256

// mailboxPoll bounds how long an idle pump waits without a wake-up
// before it looks at the mailbox again (a wake-up can be lost: core NATS
// drops messages for a slow subscriber).
var mailboxPoll = 5 * time.Second

// onWake is the core subscription on the actor's send subject: each send
// stored in the mailbox stream is also delivered here, as a signal that
// there is something to read. It costs the server an interest, not a
// consumer.
func (h *hosted) onWake(m *nats.Msg) {
	if m != nil { // nil: a wake-up of the node's own (drain)
		id := m.Header.Get(jetstream.MsgIDHeader)
		h.lastWake.Store(&id)
	}
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// pump reads the actor's mailbox by sequence with direct batch gets,
// after the last handled send the chain records, and hands each send to
// the actor. It keeps no consumer on the server: an idle actor costs its
// stored sends and one core subscription.
func (h *hosted) pump() {
	defer close(h.pumpDone)
	select {
	case <-h.ready:
	case <-h.stopping:
		return
	}
	l := h.n.cfg.Layout
	next := h.handled.Load() + 1
	var lastID string // of the last send read
	var woke *string  // the wake-up the last wait ended with
	rereads := 0
	for {
		if !h.waitServing() {
			return
		}
		msgs, err := jetstreamext.GetBatch(h.n.ctx, h.n.js, l.MailboxStream(), mailboxPage,
			jetstreamext.GetBatchSeq(next), jetstreamext.GetBatchSubject(l.SendSubject(h.id)))
		n := 0
		if err == nil {
			for m, merr := range msgs {
				if errors.Is(merr, jetstreamext.ErrNoMessages) {
					break
				}
				if merr != nil {
					err = merr
					break
				}
				n++
				lastID = m.Header.Get(jetstream.MsgIDHeader)
				if !h.deliver(m) {
					return
				}
				select {
				case h.progress <- struct{}{}:
				default:
				}
				next = m.Sequence + 1
			}
		}
		if err != nil {
			if h.n.ctx.Err() != nil {
				return
			}
			h.n.log.Warn("cannot read mailbox", "actor", h.id, "err", err)
			if seq, ok := h.deliverUnreadable(next); ok {
				next = seq + 1
				continue
			}
		}
		if n == mailboxPage {
			continue
		}
		wait := mailboxPoll
		if woke != nil && (*woke == "" || *woke != lastID) && err == nil && rereads < len(rereadDelays) {
			// The wake-up of a send reaches this core subscription as the
			// server takes the publish, maybe before the stream has
			// stored it: this read may have missed it, and nothing would
			// wake the pump again. Read again shortly (a duplicate the
			// stream dropped also wakes, and is never read: the delays
			// are bounded).
			wait = rereadDelays[rereads]
			rereads++
		} else {
			woke, rereads = nil, 0
		}
		t := time.NewTimer(wait)
		select {
		case <-h.wake:
			woke, rereads = h.lastWake.Load(), 0
		case <-t.C:
		case <-h.stopping:
			t.Stop()
			return
		}
		t.Stop()
	}
}

// rereadDelays are the waits before the reads again after a wake-up
// whose send was not read yet: about 60 ms in all.
var rereadDelays = [...]time.Duration{time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond, 8 * time.Millisecond, 16 * time.Millisecond, 32 * time.Millisecond}

// waitServing waits until the actor may handle messages (its lease is
// valid again after a missed renewal); false when it is stopping.
func (h *hosted) waitServing() bool {
	for !h.serving() {
		if h.app.Err() != nil || h.lease.isLost() {
			return false
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-t.C:
		case <-h.stopping:
			t.Stop()
			return false
		}
	}
	return true
}

// deliver hands one stored send to the actor and appends its event,
// which records its mailbox sequence: that is the exactly-once. A send
// that does not check against the actor's type is recorded as a failure
// and never given to it. It returns false when the pump must stop.
func (h *hosted) deliver(m *jetstream.RawStreamMsg) bool {
	enc, err := wire.HeaderEncoding(m.Header)
	return h.deliverAs(m, enc, err)
}

// deliverAs is deliver of a send whose headers declared enc, or that
// is refused for hdrErr.
func (h *hosted) deliverAs(m *jetstream.RawStreamMsg, enc wire.Encoding, hdrErr error) bool {
	if h.lockUp(time.Time{}) != nil { // waits while a restart is due
		return false
	}
	defer h.turn.Unlock()
	if !h.serving() {
		return false
	}
	if m.Sequence <= h.mbox {
		return true
	}
	msgID := m.Header.Get(jetstream.MsgIDHeader)
	from := m.Header.Get(wire.FromHeader)
	if h.seen.has(from, seenKey(h.id, msgID)) {
		// A send its sender republished on restore, later than the
		// stream's duplicate window: handled already, by the chain.
		h.n.log.Debug("dropping a send handled before", "actor", h.id, "id", msgID, "mailbox_seq", m.Sequence)
		h.mbox = m.Sequence
		h.handled.Store(m.Sequence)
		return true
	}
	err := hdrErr
	var payload []byte
	switch {
	case err != nil:
	case isChildEvent(m):
		payload, err = h.checkChildEvent(m.Data, enc) // supcap.go
	default:
		payload, err = h.checkSend(m.Data, enc)
	}
	if err != nil {
		h.n.event(h.id, wire.EventRejected, fmt.Sprintf("mailbox sequence %d: %v", m.Sequence, err))
		h.n.metrics.rejected(h)
		p, aerr := h.app.Append(h.n.ctx, &chain.Failure{Reason: "rejected", Call: chain.CallSend, Detail: err.Error(), MsgID: msgID, MailboxSeq: m.Sequence})
		if aerr != nil {
			go h.lose()
			return false
		}
		h.mbox = m.Sequence
		h.handled.Store(m.Sequence)
		h.rels <- release{p: p, mbox: m.Sequence}
		return true
	}
	if err := h.handle(chain.CallSend, from, msgID, m.Sequence, payload, nil); err != nil {
		if h.app.Err() != nil {
			go h.lose()
		}
		return false
	}
	h.seen.add(from, seenKey(h.id, msgID))
	return true
}
