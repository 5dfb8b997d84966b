package node

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/replay"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/wire"
)

// TimerHeader names the timer a fired message comes from.
const TimerHeader = "Theater-Timer"

// jsTimers is the timer capability of one actor on the layout's
// TimersStream: a timer is a JetStream message schedule (ADR-51) on its
// TimerSubject, "@at <time>" once or "@every <interval>", that fires on
// the actor's TimerFireSubject; setting it again rolls the subject up,
// cancelling purges it.
type jsTimers struct {
	js     jetstream.JetStream
	stream jetstream.Stream
	layout transport.Layout
	id     string
	now    func() time.Time
}

func (t jsTimers) Timer(ctx context.Context, op actor.TimerOp) error {
	subj := t.layout.TimerSubject(t.id, op.ID)
	if op.Cancel {
		if err := t.stream.Purge(ctx, jetstream.WithPurgeSubject(subj)); err != nil {
			return fmt.Errorf("node: cancel timer %s: %w", op.ID, err)
		}
		return nil
	}
	m := nats.NewMsg(subj)
	m.Data = op.Payload
	if op.Interval > 0 {
		m.Header.Set("Nats-Schedule", "@every "+op.Interval.String())
	} else {
		m.Header.Set("Nats-Schedule", "@at "+t.now().Add(op.Delay).UTC().Format(time.RFC3339Nano))
	}
	m.Header.Set("Nats-Schedule-Target", t.layout.TimerFireSubject(t.id))
	m.Header.Set("Nats-Rollup", "sub")
	m.Header.Set(TimerHeader, op.ID)
	var opts []jetstream.PublishOpt
	if op.MsgID != "" {
		opts = append(opts, jetstream.WithMsgID(op.MsgID))
	}
	if _, err := t.js.PublishMsg(ctx, m, opts...); err != nil {
		return fmt.Errorf("node: set timer %s: %w", op.ID, err)
	}
	return nil
}

// timersOf returns actor id's timers, the stream opened on first use.
func (n *Node) timersOf(ctx context.Context, id string) (jsTimers, error) {
	n.kvMu.Lock()
	defer n.kvMu.Unlock()
	if n.timerStream == nil {
		st, err := n.js.Stream(ctx, n.cfg.Layout.TimersStream())
		if err != nil {
			return jsTimers{}, fmt.Errorf("%w: timers stream: %w", wire.ErrNATS, err)
		}
		n.timerStream = st
	}
	return jsTimers{js: n.js, stream: n.timerStream, layout: n.cfg.Layout, id: id, now: time.Now}, nil
}

// timerFields are what a Node and a hosted actor keep for timers.
type timerFields struct {
	timerStream jetstream.Stream
}

// forwardTimers moves the messages actor h's timers fire into its
// mailbox, as sends from itself, each under the id
// "timer:<actor>:<stream sequence>" so that one moved twice (the node
// stopped between the move and the delete) is stored once, then deletes
// it. It reads from the first message left, so what fired while no node
// hosted the actor is delivered when one does. The returned stop ends it.
func (h *hosted) forwardTimers(ctx context.Context, st jetstream.Stream) (stop func(), err error) {
	n := h.n
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{n.cfg.Layout.TimerFireSubject(h.id)}})
	if err != nil {
		return nil, fmt.Errorf("%w: timers of %q: %w", wire.ErrNATS, h.id, err)
	}
	var wg sync.WaitGroup
	cc, err := cons.Consume(func(m jetstream.Msg) {
		wg.Add(1)
		defer wg.Done()
		meta, err := m.Metadata()
		if err != nil {
			return
		}
		seq := meta.Sequence.Stream
		out := nats.NewMsg(n.cfg.Layout.SendSubject(h.id))
		out.Data = m.Data()
		out.Header.Set(wire.FromHeader, h.id)
		out.Header.Set(TimerHeader, m.Headers().Get(TimerHeader))
		if err := wire.PublishSend(n.ctx, n.js, out, "timer:"+h.id+":"+strconv.FormatUint(seq, 10)); err != nil {
			n.log.Error("cannot deliver a fired timer", "actor", h.id, "timer", m.Headers().Get(TimerHeader), "err", err)
			return
		}
		if err := st.DeleteMsg(n.ctx, seq); err != nil {
			n.log.Warn("cannot delete a delivered timer message", "actor", h.id, "seq", seq, "err", err)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("%w: timers of %q: %w", wire.ErrNATS, h.id, err)
	}
	return func() { cc.Stop(); wg.Wait() }, nil
}

// applyTimers does the timer ops of the event at chain sequence seq,
// retried with backoff while the node runs (each op is idempotent under
// its id).
func (h *hosted) applyTimers(seq uint64, ops []actor.TimerOp) {
	if len(ops) == 0 {
		return
	}
	wait := 50 * time.Millisecond
	for try := 0; ; try++ {
		err := h.rec.ApplyTimers(h.n.ctx, h.id, seq, ops)
		if err == nil || h.n.ctx.Err() != nil || try >= 20 {
			if err != nil {
				h.n.log.Error("cannot apply a recorded timer op", "actor", h.id, "seq", seq, "err", err)
				h.unreleased.Store(true)
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

// reapplyTimers does again the timer ops of the latest events, which the
// node that wrote them may have stopped before doing; within the
// stream's duplicate window their ids make the ones done no-ops.
func (h *hosted) reapplyTimers(ctx context.Context, t actor.Timers, recent []recentOut) {
	for _, r := range recent {
		for i, op := range replay.TimerOpsOf(r.inputs) {
			op.MsgID = replay.TimerMsgID(h.id, r.seq, i)
			if err := t.Timer(ctx, op); err != nil {
				h.n.log.Warn("timer op not done again", "actor", h.id, "seq", r.seq, "index", i, "err", err)
			}
		}
	}
}
