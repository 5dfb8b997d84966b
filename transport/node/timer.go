package node

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/replay"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/wire"
)

// TimerHeader names the timer a fired message comes from.
const TimerHeader = "Theater-Timer"

// TimerDueHeader and TimerFiredHeader tell, on a fired one-shot timer's
// mailbox message, when it was due and when the server fired it (its
// stream timestamp), both RFC 3339 UTC: lateness is readable with `nats
// stream view` and measured by BenchmarkTimerLateness. They are not in
// the chain.
const (
	TimerDueHeader   = "Theater-Timer-Due"
	TimerFiredHeader = "Theater-Timer-Fired"
)

// timerSetHeader carries a one-shot timer's set id (its chain-derived
// message id) from the schedule to the message it fires.
const timerSetHeader = "Theater-Timer-Set"

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
	soon   *soonTimers // nil: the server's firing alone
}

func (t jsTimers) Timer(ctx context.Context, op actor.TimerOp) error {
	subj := t.layout.TimerSubject(t.id, op.ID)
	t.soon.stop(op.ID) // a cancel, or a set that replaces it
	if op.Cancel {
		if err := t.stream.Purge(ctx, jetstream.WithPurgeSubject(subj)); err != nil {
			return fmt.Errorf("node: cancel timer %s: %w", op.ID, err)
		}
		return nil
	}
	m := nats.NewMsg(subj)
	m.Data = op.Payload
	var due time.Time
	if op.Interval > 0 {
		m.Header.Set("Nats-Schedule", "@every "+op.Interval.String())
	} else {
		due = t.now().Add(op.Delay).UTC()
		m.Header.Set("Nats-Schedule", "@at "+due.Format(time.RFC3339Nano))
		m.Header.Set(TimerDueHeader, due.Format(time.RFC3339Nano))
		if op.MsgID != "" {
			m.Header.Set(timerSetHeader, op.MsgID)
		}
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
	if op.Interval == 0 && op.MsgID != "" {
		t.soon.arm(op, due)
	}
	return nil
}

// soonTimers fire the one-shot timers an actor set on this node from the
// node itself, at their due time: the server's scheduler fires in ticks
// of 250 ms (docs/BENCHMARKS.md), so its firing alone makes a timer up to
// that late. Both firings put the message in the mailbox under the set's
// id (timerSendID), so the mailbox stream keeps whichever lands first and
// drops the other within its duplicate window; the server's firing is
// the durable one, which a node that dies or lets the actor go leaves to
// the next host, and the one the forwarder marks done and deletes.
type soonTimers struct {
	fire func(op actor.TimerOp, due time.Time)

	mu      sync.Mutex
	timers  map[string]*time.Timer // by timer id
	closed  bool
	running sync.WaitGroup // fires under way, which close waits for
}

func newSoonTimers(fire func(op actor.TimerOp, due time.Time)) *soonTimers {
	return &soonTimers{fire: fire, timers: map[string]*time.Timer{}}
}

// arm fires op at due, in place of any earlier set of its timer.
func (s *soonTimers) arm(op actor.TimerOp, due time.Time) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if old := s.timers[op.ID]; old != nil {
		old.Stop()
	}
	var tm *time.Timer
	tm = time.AfterFunc(time.Until(due), func() {
		s.mu.Lock()
		live := !s.closed && s.timers[op.ID] == tm
		if live {
			delete(s.timers, op.ID)
			s.running.Add(1)
		}
		s.mu.Unlock()
		if live {
			defer s.running.Done()
			s.fire(op, due)
		}
	})
	s.timers[op.ID] = tm
}

// stop disarms timer id.
func (s *soonTimers) stop(id string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if tm := s.timers[id]; tm != nil {
		tm.Stop()
		delete(s.timers, id)
	}
}

// close disarms every timer and waits for a fire under way: the actor is
// not hosted here any more, and nothing of this node's may mark a set
// done after the next host's marks.
func (s *soonTimers) close() {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.closed = true
	for id, tm := range s.timers {
		tm.Stop()
		delete(s.timers, id)
	}
	s.mu.Unlock()
	s.running.Wait()
}

// timerSendID is the mailbox message id of a fired timer: a one-shot's
// set id (chain-derived, one firing per set) whichever fired it, else
// the fired message's stream sequence.
func timerSendID(actorID, set string, seq uint64) string {
	if set != "" {
		return "timer:" + set
	}
	return "timer:" + actorID + ":" + strconv.FormatUint(seq, 10)
}

// fireSoon puts one-shot op, due at due, into actor h's mailbox from the
// node (soonTimers). A failure is logged: the server's firing delivers it.
func (h *hosted) fireSoon(op actor.TimerOp, due time.Time) {
	n := h.n
	out := nats.NewMsg(n.cfg.Layout.SendSubject(h.id))
	out.Data = op.Payload
	out.Header.Set(wire.FromHeader, h.id)
	out.Header.Set(TimerHeader, op.ID)
	out.Header.Set(TimerDueHeader, due.Format(time.RFC3339Nano))
	out.Header.Set(TimerFiredHeader, time.Now().UTC().Format(time.RFC3339Nano))
	if err := wire.PublishSend(n.ctx, n.js, out, timerSendID(h.id, op.MsgID, 0)); err != nil {
		if n.ctx.Err() == nil {
			n.log.Debug("a timer fired by the node did not reach the mailbox; the server's firing will", "actor", h.id, "timer", op.ID, "err", err)
		}
		return
	}
	// The server's firing of this set may be moved by a node that comes
	// after the mailbox's duplicate window: the mark tells it the set was
	// delivered.
	if err := h.markTimerDone(op.ID, op.MsgID); err != nil && n.ctx.Err() == nil {
		n.log.Warn("cannot record a timer fired by the node", "actor", h.id, "timer", op.ID, "err", err)
	}
}

// markTimerDone records on timer's done subject that its one-shot set
// was delivered into the mailbox.
func (h *hosted) markTimerDone(timer, set string) error {
	done := nats.NewMsg(h.n.cfg.Layout.TimerDoneSubject(h.id, timer))
	done.Data = []byte(set)
	done.Header.Set("Nats-Rollup", "sub")
	_, err := h.n.js.PublishMsg(h.n.ctx, done)
	return err
}

// timerDelivered reports whether timer's done subject says its one-shot
// set was delivered.
func (h *hosted) timerDelivered(ctx context.Context, st jetstream.Stream, timer, set string) (bool, error) {
	m, err := st.GetLastMsgForSubject(ctx, h.n.cfg.Layout.TimerDoneSubject(h.id, timer))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return false, nil
	}
	return err == nil && string(m.Data) == set, err
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

// dropTimers purges every timer of actor id: its schedules, what they
// fired that no node moved yet, and the done marks. A removed actor's
// timers end with it, and an actor spawned again under its id starts
// with none of the earlier one's (forgetEarlier); a stopped actor's go
// on firing, their messages waiting as its sends do.
func (n *Node) dropTimers(ctx context.Context, id string) error {
	st, err := n.js.Stream(ctx, n.cfg.Layout.TimersStream())
	if err == nil {
		err = st.Purge(ctx, jetstream.WithPurgeSubject(n.cfg.Layout.TimerSubjects(id)))
	}
	if err != nil {
		return fmt.Errorf("%w: the timers of %q: %w", wire.ErrNATS, id, err)
	}
	return nil
}

// timerFields are what a Node and a hosted actor keep for timers.
type timerFields struct {
	timerStream jetstream.Stream
}

// forwardTimers moves the messages actor h's timers fire into its
// mailbox, as sends from itself, each under its timerSendID so that one
// moved twice (the node stopped between the move and the delete), or
// fired by the node too (soonTimers), is stored once, then deletes
// it. It reads from the first message left, so what fired while no node
// hosted the actor is delivered when one does. The returned stop ends it.
func (h *hosted) forwardTimers(ctx context.Context, st jetstream.Stream) (stop func(), err error) {
	n := h.n
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{n.cfg.Layout.TimerFireSubject(h.id)}})
	if err != nil {
		return nil, fmt.Errorf("%w: timers of %q: %w", wire.ErrNATS, h.id, err)
	}
	moving, err := consume(cons, func(m jetstream.Msg, meta *jetstream.MsgMetadata) {
		seq := meta.Sequence.Stream
		timer, set := m.Headers().Get(TimerHeader), m.Headers().Get(timerSetHeader)
		delivered := false
		if set != "" {
			// Fired by the node already (soonTimers), maybe before a
			// restart that outlasted the mailbox's duplicate window.
			var err error
			if delivered, err = h.timerDelivered(n.ctx, st, timer, set); err != nil {
				n.log.Error("cannot tell whether a fired timer was delivered", "actor", h.id, "timer", timer, "err", err)
				return
			}
		}
		if !delivered {
			out := nats.NewMsg(n.cfg.Layout.SendSubject(h.id))
			out.Data = m.Data()
			out.Header.Set(wire.FromHeader, h.id)
			out.Header.Set(TimerHeader, timer)
			if due := m.Headers().Get(TimerDueHeader); due != "" {
				out.Header.Set(TimerDueHeader, due)
				out.Header.Set(TimerFiredHeader, meta.Timestamp.UTC().Format(time.RFC3339Nano))
			}
			if err := wire.PublishSend(n.ctx, n.js, out, timerSendID(h.id, set, seq)); err != nil {
				n.log.Error("cannot deliver a fired timer", "actor", h.id, "timer", timer, "err", err)
				return
			}
			if set != "" {
				// Before the delete: a restore must find, one way or the
				// other, that this set fired (reapplyTimers).
				if err := h.markTimerDone(timer, set); err != nil {
					n.log.Warn("cannot record a fired timer; it stays in the stream", "actor", h.id, "timer", timer, "err", err)
					return
				}
			}
		}
		if err := st.DeleteMsg(n.ctx, seq); err != nil {
			n.log.Warn("cannot delete a delivered timer message", "actor", h.id, "seq", seq, "err", err)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("%w: timers of %q: %w", wire.ErrNATS, h.id, err)
	}
	return func() { h.soon.close(); moving() }, nil
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
// node that wrote them may have stopped before doing: the last op of
// each timer, the one that decides its state. Within the stream's
// duplicate window their ids make the ones done no-ops; past it, a
// one-shot set is done again only when the stream shows no sign of it
// (timerSetDone): once fired, it would fire again.
func (h *hosted) reapplyTimers(ctx context.Context, t actor.Timers, recent []recentOut) {
	type lastOp struct {
		op  actor.TimerOp
		seq uint64
	}
	var order []string
	last := map[string]lastOp{}
	for _, r := range recent {
		for i, op := range replay.TimerOpsOf(r.inputs) {
			op.MsgID = replay.TimerMsgID(h.id, r.seq, i)
			if _, ok := last[op.ID]; !ok {
				order = append(order, op.ID)
			}
			last[op.ID] = lastOp{op, r.seq}
		}
	}
	js, _ := t.(jsTimers)
	for _, id := range order {
		l := last[id]
		if !l.op.Cancel && l.op.Interval == 0 && js.stream != nil {
			done, err := js.setDone(ctx, l.op)
			if err != nil {
				h.n.log.Warn("cannot tell whether a one-shot timer was set; setting it again", "actor", h.id, "timer", id, "err", err)
			}
			if done {
				continue
			}
		}
		if err := t.Timer(ctx, l.op); err != nil {
			h.n.log.Warn("timer op not done again", "actor", h.id, "seq", l.seq, "timer", id, "err", err)
		}
	}
}

// setDone reports whether the one-shot set op was done: its schedule is
// pending, or it fired (its message waits on the fire subject, among the
// first mailboxPage there, or the node that moved it into the mailbox
// recorded it on the done subject).
func (t jsTimers) setDone(ctx context.Context, op actor.TimerOp) (bool, error) {
	last := func(subj string) (*jetstream.RawStreamMsg, error) {
		m, err := t.stream.GetLastMsgForSubject(ctx, subj)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil, nil
		}
		return m, err
	}
	m, err := last(t.layout.TimerSubject(t.id, op.ID))
	if err != nil || m != nil && m.Header.Get(jetstream.MsgIDHeader) == op.MsgID {
		return m != nil, err
	}
	if m, err = last(t.layout.TimerDoneSubject(t.id, op.ID)); err != nil || m != nil && string(m.Data) == op.MsgID {
		return m != nil, err
	}
	msgs, err := jetstreamext.GetBatch(ctx, t.js, t.layout.TimersStream(), mailboxPage,
		jetstreamext.GetBatchSeq(1), jetstreamext.GetBatchSubject(t.layout.TimerFireSubject(t.id)))
	if err != nil {
		return false, err
	}
	for m, err := range msgs {
		if errors.Is(err, jetstreamext.ErrNoMessages) {
			break
		}
		if err != nil {
			return false, err
		}
		if m.Header.Get(timerSetHeader) == op.MsgID {
			return true, nil
		}
	}
	return false, nil
}
