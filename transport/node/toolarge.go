package node

import (
	"context"
	"fmt"
	"strings"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/replay"
	"github.com/theater-go/theater/transport/wire"
)

// eventOverhead bounds what a handled event holds besides its payload,
// reply, inputs and sends (ids, hashes, field names, headers).
const eventOverhead = 1024

// eventBytes is an upper bound of the stored size of a handled event.
func eventBytes(from, msgID string, payload, reply []byte, inputs []chain.Input, out []chain.Outgoing) int {
	n := eventOverhead + len(from) + len(msgID) + len(payload) + len(reply)
	for _, in := range inputs {
		n += 16 + len(in.Call) + len(in.Data)
	}
	for _, o := range out {
		n += 16 + len(o.To) + len(o.Payload)
	}
	return n
}

// maxEvent is the largest event the server takes as one message.
func (n *Node) maxEvent() int { return int(n.nc.MaxPayload()) - snapshotOverhead }

// tooLarge handles a handler call whose event would not fit in one
// message (a payload near the limit, a big reply, many sends): its
// outcome is not kept, or a near-limit message would fail every append
// and stop its actor for good. The actor goes back to the state before
// the call, in a fresh instance (Revert; after a failed call, which kept
// the state, Hibernate), and the chain records the call as failed with
// reason [replay.TooLarge], without its payload, inputs, reply or sends
// (the size and the payload's hash are in the detail), so nothing of it
// is released and replay knows to skip it. A requester gets
// [wire.ErrTooLarge]. herr is the call's own failure, if it failed. It
// holds the turn.
func (h *hosted) tooLarge(ctx context.Context, call chain.Call, from, msgID string, mbox uint64, payload []byte, size int, herr error, respond func([]byte, error)) error {
	undo := h.a.Revert
	if herr != nil {
		undo = h.a.Hibernate
	}
	if err := undo(ctx); err != nil {
		go h.lose() // its state is not the chain's: its next owner restores it
		return err
	}
	detail := fmt.Sprintf("the call's event would take about %d bytes, over the %d a chain message may hold; payload %d bytes, sha256 %s",
		size, h.n.maxEvent(), len(payload), chain.Sum(payload))
	if herr != nil {
		// Capped: a long error text is what may have made it too large.
		msg := herr.Error()
		if len(msg) > 1024 {
			msg = strings.ToValidUTF8(msg[:1024], "") + "…"
		}
		detail += "; the call failed: " + msg
	}
	ps, err := h.app.AppendAll(ctx,
		&chain.Handled{Call: call, From: from, MsgID: msgID, MailboxSeq: mbox, State: h.stateHash},
		&chain.Failure{Reason: replay.TooLarge, Call: call, Detail: detail, MsgID: msgID, MailboxSeq: mbox})
	if err != nil {
		return err
	}
	h.n.log.Warn("handler outcome too large to record; reverted", "actor", h.id, "call", call, "bytes", size)
	if mbox > 0 {
		h.mbox = mbox
		h.handled.Store(mbox)
	}
	r := release{p: ps[len(ps)-1], mbox: mbox}
	if respond != nil {
		r.respond = func(err error) {
			if err == nil {
				err = fmt.Errorf("%w: actor %q: %s", wire.ErrTooLarge, h.id, detail)
			}
			respond(nil, err)
		}
	}
	h.rels <- r
	return nil
}
