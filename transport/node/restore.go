package node

import (
	"context"
	"fmt"
	"strconv"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/transport/chainstore"
	"github.com/theater-go/theater/transport/wire"
)

// restored is what an actor's chain says about where to continue it.
type restored struct {
	head chain.Head
	// at is where the events read so far end, for reading on from there.
	at chainstore.Head
	// spawn is the last spawn event: the actor's start; inited is set
	// when its init is recorded after it. fromPoint: the read started at
	// a restore point (restorepoint.go), after the last spawn and its
	// init, so spawn is nil unless the id spawned again since.
	spawn     *chain.Spawn
	inited    bool
	fromPoint bool
	// events are the last snapshot (or the last spawn) and every event
	// after it: what replay runs to reach the chain's last state.
	// snapHash is the hash of that snapshot's state.
	events   []chain.Event
	snapHash chain.Hash
	// state is the hash of the state the chain says the actor has: a
	// snapshot must hold exactly it. Replay checks every event after the
	// snapshot, not the snapshot itself, so a snapshot forged with
	// correct links would otherwise set the state unchecked.
	state chain.Hash
	// mbox is the last mailbox sequence the chain records as handled.
	mbox uint64
	// recent are the latest events with sends, whose effects may not
	// have been released before the node that wrote them stopped.
	recent []recentOut
	// seen are the ids of the sends from other actors the chain records
	// as handled, as far back as their senders republish.
	seen *seenSends
	// read counts the events read, besides a restore point's snapshot.
	read int
	// tail are the bodies of the chain's last events, oldest first
	// (ended reads them). From a restore point they start at its
	// snapshot: a node writes a point only for an actor it runs, so the
	// events before it end no actor.
	tail []chain.Body
	// fail is the chain's last failure event and failSeq its sequence: a
	// child's exit its parent may not have heard of (supcap.go).
	fail    *chain.Failure
	failSeq uint64
}

// tailLen is how many of a chain's last events restore keeps in tail:
// a stop's on-stop event, snapshot, failure and stop, and owner events.
const tailLen = 8

type recentOut struct {
	seq    uint64
	out    []chain.Outgoing
	inputs []chain.Input // its store calls, whose writes are effects too (store.go)
}

// recentWindow is how many of the latest events a restore republishes
// the sends of: every event whose effects can have been pending when its
// writer stopped (the appender's queue of two batches and the release
// window) is among them.
const recentWindow = 2*1000 + releaseWindow

// restore reads actor id's chain, every link checked: the last spawn,
// the last snapshot after it and the events after that, and the handled
// mailbox position. It starts at the actor's restore point when it has
// a usable one, and reads the whole chain otherwise.
func (n *Node) restore(ctx context.Context, id string) (*restored, error) {
	if rs, err := n.fromPoint(ctx, id); err == nil {
		if err = n.readOn(ctx, id, rs); err == nil {
			n.log.Debug("restore read the chain from its restore point", "actor", id, "snapshot", rs.events[0].Seq, "events", rs.read)
			return rs, nil
		}
		n.log.Warn("restore point does not continue the chain; reading all of it", "actor", id, "err", err)
	}
	rs := &restored{seen: newSeenSends()}
	if err := n.readOn(ctx, id, rs); err != nil {
		return nil, err
	}
	n.log.Debug("restore read the whole chain", "actor", id, "events", rs.read)
	return rs, nil
}

// readOn reads the events of actor id's chain after rs.at (all of them
// from the zero head) into rs.
func (n *Node) readOn(ctx context.Context, id string, rs *restored) error {
	for e, err := range n.store.ReadFrom(ctx, id, rs.at) {
		if err != nil {
			return fmt.Errorf("%w: read the chain of %q: %w", wire.ErrNATS, id, err)
		}
		if err := rs.add(id, e); err != nil {
			return err
		}
	}
	if rs.spawn == nil && !rs.fromPoint {
		return fmt.Errorf("%w: the chain of %q has no spawn event", wire.ErrInternal, id)
	}
	return nil
}

// add takes the next event of the chain into rs.
func (rs *restored) add(id string, e chainstore.Entry) error {
	ev := e.Event
	rs.read++
	rs.head = chain.Head{Seq: ev.Seq, Hash: e.Hash}
	rs.at = chainstore.Head{Head: rs.head, StreamSeq: e.StreamSeq}
	if len(rs.tail) == tailLen {
		copy(rs.tail, rs.tail[1:])
		rs.tail = rs.tail[:tailLen-1]
	}
	rs.tail = append(rs.tail, ev.Body)
	switch b := ev.Body.(type) {
	case *chain.Spawn:
		// A re-spawn starts the actor anew; nothing before it counts.
		rs.spawn, rs.inited, rs.mbox, rs.snapHash, rs.fromPoint = b, false, 0, chain.Hash{}, false
		rs.fail, rs.failSeq = nil, 0
		rs.state = chain.Sum(b.State)
		rs.events = append(rs.events[:0], ev)
		return nil
	case *chain.Snapshot:
		rs.snapHash = chain.Sum(b.State)
		if (rs.spawn != nil || rs.fromPoint) && rs.snapHash != rs.state {
			return fmt.Errorf("%w: the chain of %q: the snapshot at event %d holds state %s, not %s, the state of the events before it",
				wire.ErrInternal, id, ev.Seq, rs.snapHash, rs.state)
		}
		// A snapshot of init's state is taken in init's instance, which
		// goes on: the restore runs init again (instances.go).
		first := rs.events[:0]
		if n := len(rs.events); n > 0 && isInit(rs.events[n-1].Body) {
			first = append(first, rs.events[n-1])
		}
		rs.events = append(first, ev)
		return nil
	case *chain.Lifecycle:
		if b.What == mailboxStart {
			if s, err := strconv.ParseUint(b.Fields["after"], 10, 64); err == nil {
				rs.mbox = max(rs.mbox, s)
			}
		}
	case *chain.Handled:
		rs.mbox = max(rs.mbox, b.MailboxSeq)
		rs.state = b.State
		if b.Call == chain.CallSend {
			rs.seen.add(b.From, seenKey(id, b.MsgID))
		}
		if b.Call == chain.CallInit {
			rs.inited = true
		}
		if st := storeInputs(b.Inputs); len(b.Out) > 0 || st != nil {
			rs.recent = append(rs.recent, recentOut{seq: ev.Seq, out: b.Out, inputs: st})
		}
	case *chain.Failure:
		rs.mbox = max(rs.mbox, b.MailboxSeq)
		rs.fail, rs.failSeq = b, ev.Seq
		dropFailedWrites(rs.recent, ev.Seq)
	}
	rs.events = append(rs.events, ev)
	for len(rs.recent) > 0 && rs.recent[0].seq+recentWindow < ev.Seq {
		rs.recent = rs.recent[1:]
	}
	return nil
}
