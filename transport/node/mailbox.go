package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

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
		n, err := h.n.reads.get(h.n.ctx, h.n.nc, l.MailboxStream(), l.SendSubject(h.id), next, mailboxPage, func(m *jetstream.RawStreamMsg) bool {
			lastID = m.Header.Get(jetstream.MsgIDHeader)
			if !h.deliver(m) {
				return false
			}
			select {
			case h.progress <- struct{}{}:
			default:
			}
			next = m.Sequence + 1
			return true
		})
		if errors.Is(err, errStopRead) {
			return
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

// mailboxReads is the node's one reply subscription for its pumps' direct
// batch gets: a read publishes its request with a reply subject of its
// own under the node's inbox and takes the answers the subscription
// routes to it. A read through jetstreamext.GetBatch subscribes anew
// each time, and a synchronous subscription allocates a channel of 65,536
// messages (512 KB): a live node reading a send or two per wake-up spent
// more on those allocations and their garbage than on the reads.
type mailboxReads struct {
	mu      sync.Mutex
	sub     *nats.Subscription
	inbox   string
	waiting map[string]chan *nats.Msg
	next    atomic.Uint64
}

// errStopRead ends a read whose callback asked to stop.
var errStopRead = errors.New("node: mailbox read stopped")

// errBadRead is an answer to a direct get that is not one.
var errBadRead = errors.New("node: not a direct get response")

// get reads up to batch messages of subject subj from stream sequence
// seq on, handing each to yield in order; it returns how many it handed,
// and errStopRead when yield returned false.
func (r *mailboxReads) get(ctx context.Context, nc *nats.Conn, stream, subj string, seq uint64, batch int, yield func(*jetstream.RawStreamMsg) bool) (int, error) {
	token := strconv.FormatUint(r.next.Add(1), 36)
	ch := make(chan *nats.Msg, batch+1) // the batch and its end
	reply, err := r.register(nc, token, ch)
	if err != nil {
		return 0, err
	}
	defer r.unregister(token)
	req, _ := json.Marshal(struct {
		Seq   uint64 `json:"seq"`
		Next  string `json:"next_by_subj"`
		Batch int    `json:"batch"`
	}{seq, subj, batch})
	if err := nc.PublishRequest("$JS.API.DIRECT.GET."+stream, reply, req); err != nil {
		return 0, err
	}
	timeout := nc.Opts.Timeout
	if timeout <= 0 {
		timeout = nats.DefaultTimeout
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	n := 0
	for {
		var m *nats.Msg
		select {
		case m = <-ch:
		case <-t.C:
			return n, fmt.Errorf("node: mailbox read of %s from %d: %w", subj, seq, nats.ErrTimeout)
		case <-ctx.Done():
			return n, ctx.Err()
		}
		if len(m.Data) == 0 && m.Header.Get("Status") != "" {
			switch m.Header.Get("Status") {
			case "204", "404": // the batch's end; nothing stored from seq
				return n, nil
			default:
				return n, fmt.Errorf("node: mailbox read of %s from %d: status %s %s", subj, seq, m.Header.Get("Status"), m.Header.Get("Description"))
			}
		}
		sm, err := streamMsg(m)
		if err != nil {
			// A header block that does not parse reaches here without
			// headers: the pump reads that send by the message API.
			return n, err
		}
		n++
		if !yield(sm) {
			return n, errStopRead
		}
		t.Reset(timeout)
	}
}

// streamMsg is the stored message a direct get answered with.
func streamMsg(m *nats.Msg) (*jetstream.RawStreamMsg, error) {
	seq, err := strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64)
	if err != nil || m.Header.Get("Nats-Num-Pending") == "" {
		return nil, fmt.Errorf("%w: headers %v", errBadRead, m.Header)
	}
	return &jetstream.RawStreamMsg{Subject: m.Header.Get(jetstream.SubjectHeader), Sequence: seq, Header: m.Header, Data: m.Data}, nil
}

// register makes ch the receiver of the answers to token, subscribing on
// the first read; it returns the reply subject.
func (r *mailboxReads) register(nc *nats.Conn, token string, ch chan *nats.Msg) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sub == nil {
		inbox := nc.NewInbox()
		sub, err := nc.Subscribe(inbox+".*", r.route)
		if err != nil {
			return "", err
		}
		r.sub, r.inbox, r.waiting = sub, inbox, map[string]chan *nats.Msg{}
	}
	r.waiting[token] = ch
	return r.inbox + "." + token, nil
}

func (r *mailboxReads) unregister(token string) {
	r.mu.Lock()
	delete(r.waiting, token)
	r.mu.Unlock()
}

// route hands an answer to its read. One for a read that ended (timed
// out, or stopped) finds nobody and is dropped; a read whose channel is
// full has more answers than it asked for, and loses them (it times out).
func (r *mailboxReads) route(m *nats.Msg) {
	token := m.Subject[len(r.inbox)+1:]
	r.mu.Lock()
	ch := r.waiting[token]
	r.mu.Unlock()
	if ch == nil {
		return
	}
	select {
	case ch <- m:
	default:
	}
}

// close ends the subscription (Close of the node).
func (r *mailboxReads) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sub != nil {
		_ = r.sub.Unsubscribe()
		r.sub = nil
	}
}
