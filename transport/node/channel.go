package node

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/actor/replay"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/wire"
)

// ChannelHeader names the topic a message delivered from a channel was
// published to.
const ChannelHeader = "Theater-Channel"

// channelAckWait is how long a forwarded publication may stay
// unacknowledged before the server offers it again (to this node or the
// next host of the subscriber); the mailbox id makes a second forward a
// no-op within the duplicate window.
const channelAckWait = 30 * time.Second

// channelMaxPending bounds the publications in flight to one subscriber.
const channelMaxPending = 256

// jsChannels is the channel capability of one actor on the layout's
// ChannelsStream: a publication is one message on the topic's
// ChannelSubject, stored once under its chain-derived id.
type jsChannels struct {
	js     jetstream.JetStream
	layout transport.Layout
	id     string
}

func (c jsChannels) Publish(ctx context.Context, p actor.Publication) error {
	m := nats.NewMsg(c.layout.ChannelSubject(p.Topic))
	m.Data = p.Payload
	m.Header.Set(wire.FromHeader, c.id)
	m.Header.Set(ChannelHeader, p.Topic)
	var opts []jetstream.PublishOpt
	if p.MsgID != "" {
		opts = append(opts, jetstream.WithMsgID(p.MsgID))
	}
	if _, err := c.js.PublishMsg(ctx, m, opts...); err != nil {
		return fmt.Errorf("node: publish to %s: %w", p.Topic, err)
	}
	return nil
}

// channelFields are what a Node keeps for channels.
type channelFields struct {
	chanStream jetstream.Stream
}

// channelsOf returns actor id's channels, the stream opened on first use.
func (n *Node) channelsOf(ctx context.Context, id string) (jsChannels, error) {
	n.kvMu.Lock()
	defer n.kvMu.Unlock()
	if n.chanStream == nil {
		st, err := n.js.Stream(ctx, n.cfg.Layout.ChannelsStream())
		if err != nil {
			return jsChannels{}, fmt.Errorf("%w: channels stream: %w", wire.ErrNATS, err)
		}
		n.chanStream = st
	}
	return jsChannels{js: n.js, layout: n.cfg.Layout, id: id}, nil
}

// forwardChannels moves the publications to the topics actor h
// subscribes to into its mailbox, as sends from their publisher, each
// under its channelSendID so that one moved twice (the node stopped
// between the move and the ack, or two nodes held the actor while it
// moved) or published twice (a restore of the publisher) is stored
// once, then acknowledges it. The consumer is durable: what is published
// while no node hosts the actor waits for the next host; it starts with
// what is published after the actor was spawned (forgetEarlier).
// The returned stop ends the move.
func (h *hosted) forwardChannels(ctx context.Context, subscribe []string) (stop func(), err error) {
	n := h.n
	l := n.cfg.Layout
	filters := make([]string, len(subscribe))
	for i, p := range subscribe {
		filters[i] = l.ChannelSubject(p)
	}
	cons, err := n.chanStream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:        l.ChannelConsumer(h.id),
		Description:    "channels of " + h.id + " into its mailbox",
		FilterSubjects: filters,
		DeliverPolicy:  jetstream.DeliverNewPolicy,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        channelAckWait,
		MaxAckPending:  channelMaxPending,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: channels of %q: %w", wire.ErrNATS, h.id, err)
	}
	stop, err = consume(cons, func(m jetstream.Msg, meta *jetstream.MsgMetadata) {
		from := m.Headers().Get(wire.FromHeader)
		out := nats.NewMsg(l.SendSubject(h.id))
		out.Data = m.Data()
		out.Header.Set(wire.FromHeader, from)
		out.Header.Set(ChannelHeader, m.Headers().Get(ChannelHeader))
		err := wire.PublishSend(n.ctx, n.js, out, channelSendID(h.id, from, m.Headers().Get(jetstream.MsgIDHeader), meta.Sequence.Stream))
		if err != nil {
			// A full mailbox is back-pressure: the server offers it again.
			if !errors.Is(err, wire.ErrMailboxFull) {
				n.log.Warn("cannot deliver a publication; retrying", "actor", h.id, "topic", m.Headers().Get(ChannelHeader), "err", err)
			}
			_ = m.NakWithDelay(time.Second)
			return
		}
		if err := m.Ack(); err != nil {
			n.log.Debug("cannot acknowledge a delivered publication", "actor", h.id, "seq", meta.Sequence.Stream, "err", err)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("%w: channels of %q: %w", wire.ErrNATS, h.id, err)
	}
	return stop, nil
}

// channelSendID is the mailbox id of the publication at stream sequence
// seq, published by actor from under the id pubID, moved into actor id's
// mailbox: "chan:<id>:" and the publication's [replay.ChannelMsgID],
// which a restore of the publisher publishes again under the same id,
// however late. The mailbox stream's duplicate window stores a second
// copy once; past it the subscriber's handled ids (seenSends, under
// seenKey) drop it. A publication without such an id (not made by a
// node) is named by its stream sequence instead.
func channelSendID(id, from, pubID string, seq uint64) string {
	if a, _, _, ok := parseChannelID(pubID); ok && a == from {
		return "chan:" + id + ":" + pubID
	}
	return "chan:" + id + ":" + strconv.FormatUint(seq, 10)
}

// parseChannelID splits an id made by [replay.ChannelMsgID]; ok is false
// for any other string.
func parseChannelID(pubID string) (actor string, seq uint64, index int, ok bool) {
	i := strings.LastIndexByte(pubID, ':')
	if i < 0 || i+1 >= len(pubID) || pubID[i+1] != 'c' {
		return "", 0, 0, false
	}
	actor, seq, index, ok = chain.ParseMessageID(pubID[:i+1] + pubID[i+2:])
	if !ok || replay.ChannelMsgID(actor, seq, index) != pubID {
		return "", 0, 0, false
	}
	return actor, seq, index, true
}

// seenKey is the id under which actor id's seenSends keeps the send
// msgID it handled: a publication moved into its mailbox is kept under
// its publication id, the rest under their own.
func seenKey(id, msgID string) string {
	if pubID, ok := strings.CutPrefix(msgID, "chan:"+id+":"); ok {
		if _, _, _, ok := parseChannelID(pubID); ok {
			return pubID
		}
	}
	return msgID
}

// dropSubscriptions deletes actor id's channel consumer, if it has one:
// a removed actor's subscriptions end with it (a stopped one's go on,
// its publications waiting as its sends do).
func (n *Node) dropSubscriptions(ctx context.Context, id string) error {
	st, err := n.js.Stream(ctx, n.cfg.Layout.ChannelsStream())
	if err == nil {
		err = st.DeleteConsumer(ctx, n.cfg.Layout.ChannelConsumer(id))
	}
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("%w: the channel subscriptions of %q: %w", wire.ErrNATS, id, err)
	}
	return nil
}

// forgetEarlier is a spawn's: a new actor of id (old is the stopped or
// failed entry of an earlier one, nil for none) starts with nothing of
// the earlier one's but its chain. The consumer that one left,
// positioned where it stopped and holding what was published to it
// since, is deleted before the new actor's is created (or, when the new
// one subscribes to nothing, so that publications stop waiting for it);
// its timers are purged, so none fires into the new actor's mailbox.
func (n *Node) forgetEarlier(ctx context.Context, id string, m *manifest.Manifest, old *wire.Entry) error {
	if old != nil {
		if err := n.dropTimers(ctx, id); err != nil { // timer.go
			return err
		}
	}
	if len(subscriptions(m)) == 0 && (old == nil || len(subscriptions(&old.Manifest)) == 0) {
		return nil
	}
	return n.dropSubscriptions(ctx, id)
}

// subscriptions are the topic patterns m subscribes to, or nil.
func subscriptions(m *manifest.Manifest) []string {
	if c := m.Capabilities.Channel; c != nil {
		return c.Subscribe
	}
	return nil
}

// applyPublications makes the publications of the event at chain
// sequence seq, retried with backoff while the node runs (each is
// stored once under its id).
func (h *hosted) applyPublications(seq uint64, ps []actor.Publication) {
	if len(ps) == 0 {
		return
	}
	wait := 50 * time.Millisecond
	for try := 0; ; try++ {
		err := h.rec.ApplyPublications(h.n.ctx, h.id, seq, ps)
		if err == nil || h.n.ctx.Err() != nil || try >= 20 {
			if err != nil {
				h.n.log.Error("cannot publish a recorded publication", "actor", h.id, "seq", seq, "err", err)
			}
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-h.n.ctx.Done():
			t.Stop()
		}
		wait = min(2*wait, time.Second)
	}
}

// republish makes again the publications of the latest events, which
// the node that recorded them may have stopped before making; within
// the stream's duplicate window their ids make the ones made no-ops.
func (h *hosted) republish(ctx context.Context, c actor.Channels, recent []recentOut) {
	for _, r := range recent {
		for i, p := range replay.PublicationsOf(r.inputs) {
			p.MsgID = replay.ChannelMsgID(h.id, r.seq, i)
			if err := c.Publish(ctx, p); err != nil {
				h.n.log.Warn("publication not made again", "actor", h.id, "seq", r.seq, "index", i, "err", err)
			}
		}
	}
}
