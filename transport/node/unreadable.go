package node

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/transport/wire"
)

// deliverUnreadable reads the actor's first stored send from sequence
// from through JetStream's plain message API, after a batch read failed,
// and delivers it; it returns the send's sequence and whether it did. A
// send whose header block does not parse (JetStream stores what a raw
// publisher wrote) fails every direct get, which nats.go cannot decode,
// and would stop the actor's mailbox for good; here it is refused as
// [wire.ErrBadHeader] and recorded like any other rejected send.
func (h *hosted) deliverUnreadable(from uint64) (uint64, bool) {
	l := h.n.cfg.Layout
	req, _ := json.Marshal(struct {
		Seq  uint64 `json:"seq"`
		Next string `json:"next_by_subj"`
	}{from, l.SendSubject(h.id)})
	ctx, cancel := context.WithTimeout(h.n.ctx, 5*time.Second)
	defer cancel()
	reply, err := h.n.nc.RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET."+l.MailboxStream(), req)
	if err != nil {
		return 0, false
	}
	var resp struct {
		Message *struct {
			Subject string `json:"subject"`
			Seq     uint64 `json:"seq"`
			Hdrs    []byte `json:"hdrs"`
			Data    []byte `json:"data"`
		} `json:"message"`
	}
	if json.Unmarshal(reply.Data, &resp) != nil || resp.Message == nil || resp.Message.Seq < from {
		return 0, false
	}
	rm := resp.Message
	m := &jetstream.RawStreamMsg{Subject: rm.Subject, Sequence: rm.Seq, Data: rm.Data}
	var hdrErr error
	enc := wire.Msgpack
	if len(rm.Hdrs) > 0 {
		if m.Header, err = nats.DecodeHeadersMsg(rm.Hdrs); err != nil {
			hdrErr = fmt.Errorf("%w: mailbox sequence %d: its header block does not parse: %w", wire.ErrBadHeader, rm.Seq, err)
		}
	}
	if hdrErr == nil {
		enc, hdrErr = wire.HeaderEncoding(m.Header)
	}
	if !h.deliverAs(m, enc, hdrErr) {
		return 0, false
	}
	return rm.Seq, true
}
