package node

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/replay"
	"github.com/theater-go/theater/transport/chainstore"
)

// A restore point lets a restore start at an actor's last snapshot
// instead of its chain's first event. It is one entry of the
// <prefix>_restore bucket per actor: where the snapshot event is (chain
// sequence, hash, stream sequence), the state hash the events before it
// reached, the mailbox position, and the handled-send ids (seenSends):
// everything a restore rebuilds from the events before the snapshot.
//
// A node writes it after the snapshot is durable and after every effect
// of the events before it is released (the releaser reaches it in chain
// order), so a restore from it republishes only the effects of the
// events after it. It is a shortcut, never the record: a point that is
// missing, stale (an older snapshot), unreadable or that does not match
// the chain makes the restore read from the chain's start. It is kept
// beside the chain, not in the snapshot event, so the chain's format
// stays as it is and a state up to the message size still fits its
// snapshot; a point too large for one message is not written (the older
// one stays, and the restore reads more of the chain).
type restorePoint struct {
	V         int    `msgpack:"v"`
	Seq       uint64 `msgpack:"seq"`
	Hash      []byte `msgpack:"hash"`
	StreamSeq uint64 `msgpack:"stream_seq"`
	// State is the hash of the state the chain's events before the
	// snapshot reached, which the snapshot must hold.
	State []byte `msgpack:"state"`
	// Mbox is the last mailbox sequence handled by then.
	Mbox uint64 `msgpack:"mbox"`
	// Senders and Seen are the handled-send ids (seenSends), exactly:
	// the senders with their highest sequence seen, and the ids oldest
	// first, each as three uvarints: the sender's index in Senders, its
	// sequence (zig-zag delta from that sender's previous id) and the
	// message's index in its event (a publication's plus
	// seenChannelBase).
	Senders []pointSender `msgpack:"senders"`
	Seen    []byte        `msgpack:"seen"`
}

type pointSender struct {
	ID  string `msgpack:"id"`
	Top uint64 `msgpack:"top"`
}

const pointVersion = 1

// seenChannelBase marks a publication's id among a point's seen ids: its
// index is 2^32 and over, above any send's (at most 2^31).
const seenChannelBase = 1 << 32

// pointTimeout bounds the write of one restore point.
const pointTimeout = 2 * time.Second

// errPoint is why a restore point is not used; the restore reads the
// whole chain instead.
var errPoint = errors.New("node: restore point not usable")

// encodeSeen writes s in the point's compact form. It runs under the
// turn at each snapshot, so it keeps to one map lookup an id.
func encodeSeen(s *seenSends) ([]pointSender, []byte) {
	type mark struct {
		i    int
		last uint64
	}
	marks := map[string]*mark{}
	var senders []pointSender
	buf := make([]byte, 0, 3*(len(s.order)-s.head))
	for _, o := range s.order[s.head:] {
		m := marks[o.from]
		if m == nil {
			m = &mark{i: len(senders)}
			marks[o.from] = m
			senders = append(senders, pointSender{ID: o.from, Top: s.senders[o.from].top})
		}
		// The id is chain.MessageID(o.from, o.seq, index) or
		// replay.ChannelMsgID(o.from, o.seq, index): add checked it.
		last := o.id[strings.LastIndexByte(o.id, ':')+1:]
		var base uint64
		if last[0] == 'c' {
			last, base = last[1:], seenChannelBase
		}
		index, _ := strconv.ParseUint(last, 10, 64)
		index += base
		buf = binary.AppendUvarint(buf, uint64(m.i))
		buf = binary.AppendVarint(buf, int64(o.seq-m.last))
		buf = binary.AppendUvarint(buf, index)
		m.last = o.seq
	}
	return senders, buf
}

// decodeSeen rebuilds the set encodeSeen wrote, refusing anything it
// would not have written.
func decodeSeen(senders []pointSender, b []byte) (*seenSends, error) {
	s := newSeenSends()
	last := make([]uint64, len(senders))
	for _, ps := range senders {
		if _, dup := s.senders[ps.ID]; dup || ps.ID == "" {
			return nil, fmt.Errorf("%w: sender %q twice or empty", errPoint, ps.ID)
		}
		s.senders[ps.ID] = &senderSeen{top: ps.Top}
	}
	for len(b) > 0 {
		var v [3]uint64
		for k := range v {
			var n int
			if k == 1 {
				d, m := binary.Varint(b)
				v[k], n = last[v[0]]+uint64(d), m
			} else {
				v[k], n = binary.Uvarint(b)
			}
			if n <= 0 {
				return nil, fmt.Errorf("%w: seen ids truncated", errPoint)
			}
			b = b[n:]
			if k == 0 && v[0] >= uint64(len(senders)) {
				return nil, fmt.Errorf("%w: sender index %d of %d", errPoint, v[0], len(senders))
			}
		}
		from := senders[v[0]].ID
		seq, index := v[1], v[2]
		ss := s.senders[from]
		id, publication := "", index >= seenChannelBase
		if publication {
			index -= seenChannelBase
		}
		if seq == 0 || seq > ss.top || index > 1<<31 {
			return nil, fmt.Errorf("%w: id %d:%d of %q", errPoint, seq, v[2], from)
		}
		if publication {
			id = replay.ChannelMsgID(from, seq, int(index))
		} else {
			id = chain.MessageID(from, seq, int(index))
		}
		if sq, ok := parseSeen(from, id); !ok || sq != seq {
			return nil, fmt.Errorf("%w: %q is not a send id of %q", errPoint, id, from)
		}
		if _, dup := s.ids[id]; dup || len(s.ids) >= maxSeen {
			return nil, fmt.Errorf("%w: id %q twice or past the bound", errPoint, id)
		}
		s.ids[id] = struct{}{}
		s.order = append(s.order, seenID{id: id, from: from, seq: seq})
		ss.held++
		last[v[0]] = seq
	}
	for id, ss := range s.senders {
		if ss.held == 0 {
			return nil, fmt.Errorf("%w: sender %q without ids", errPoint, id)
		}
	}
	return s, nil
}

// decodePoint parses a restore point.
func decodePoint(b []byte) (*restorePoint, *seenSends, error) {
	var p restorePoint
	if err := msgpack.Unmarshal(b, &p); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errPoint, err)
	}
	if p.V != pointVersion || p.Seq == 0 || p.StreamSeq == 0 || len(p.Hash) != len(chain.Hash{}) || len(p.State) != len(chain.Hash{}) {
		return nil, nil, fmt.Errorf("%w: version %d, event %d at %d", errPoint, p.V, p.Seq, p.StreamSeq)
	}
	seen, err := decodeSeen(p.Senders, p.Seen)
	if err != nil {
		return nil, nil, err
	}
	return &p, seen, nil
}

// points is a node's handle on the restore bucket and the chain stream,
// opened at first use.
type points struct {
	once   sync.Once
	kv     jetstream.KeyValue
	stream jetstream.Stream
	err    error
}

func (n *Node) pointStore(ctx context.Context) (jetstream.KeyValue, jetstream.Stream, error) {
	n.points.once.Do(func() {
		if n.points.kv, n.points.err = n.js.KeyValue(ctx, n.cfg.Layout.RestoreBucket()); n.points.err == nil {
			n.points.stream, n.points.err = n.js.Stream(ctx, n.cfg.Layout.ChainStream())
		}
	})
	return n.points.kv, n.points.stream, n.points.err
}

// pendingPoint is a restore point made under the turn at a snapshot,
// written by the releaser once the snapshot is durable.
type pendingPoint struct {
	state   chain.Hash
	mbox    uint64
	senders []pointSender
	seen    []byte
}

// pointAt captures what a restore point for a snapshot appended now
// holds besides the snapshot's place. The caller holds the turn.
func (h *hosted) pointAt() *pendingPoint {
	senders, seen := encodeSeen(h.seen)
	return &pendingPoint{state: h.stateHash, mbox: h.mbox, senders: senders, seen: seen}
}

// writePoint stores the restore point of the durable snapshot p. The
// releaser calls it after releasing everything before p; a node that
// could not release some effect writes no more points, so a restore
// republishes it.
func (h *hosted) writePoint(p *chainstore.Pending, pp *pendingPoint) {
	if h.unreleased.Load() {
		return
	}
	hash := p.Hash()
	b, err := msgpack.Marshal(&restorePoint{V: pointVersion, Seq: p.Seq(), Hash: hash[:], StreamSeq: p.StreamSeq(),
		State: pp.state[:], Mbox: pp.mbox, Senders: pp.senders, Seen: pp.seen})
	if err != nil || len(b) > h.n.maxEvent() {
		h.n.log.Debug("restore point not written", "actor", h.id, "seq", p.Seq(), "bytes", len(b), "err", err)
		return
	}
	// The releaser waits for it: a slow server delays the next releases
	// for at most this long, and a point not written is only slower.
	ctx, cancel := context.WithTimeout(h.n.ctx, pointTimeout)
	defer cancel()
	kv, _, err := h.n.pointStore(ctx)
	if err == nil {
		_, err = kv.Put(ctx, h.id, b)
	}
	if err != nil && h.n.ctx.Err() == nil {
		h.n.log.Warn("cannot write a restore point", "actor", h.id, "seq", p.Seq(), "err", err)
	}
}

// fromPoint starts a restore of actor id at its restore point: the
// snapshot event it names, checked against it, and the set and mailbox
// position it holds. It fails with errPoint when there is no usable
// point.
func (n *Node) fromPoint(ctx context.Context, id string) (*restored, error) {
	kv, stream, err := n.pointStore(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errPoint, err)
	}
	e, err := kv.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errPoint, err)
	}
	p, seen, err := decodePoint(e.Value())
	if err != nil {
		return nil, err
	}
	m, err := stream.GetMsg(ctx, p.StreamSeq)
	if err != nil {
		return nil, fmt.Errorf("%w: snapshot at stream sequence %d: %w", errPoint, p.StreamSeq, err)
	}
	if m.Subject != n.cfg.Layout.ChainSubject(id) {
		return nil, fmt.Errorf("%w: stream sequence %d is not the snapshot it names", errPoint, p.StreamSeq)
	}
	// The snapshot may share its message with the events of its group
	// commit (a frame): it is the payload with the point's hash.
	payloads, err := chain.Payloads(m.Data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errPoint, err)
	}
	var data []byte
	var hash chain.Hash
	for _, pl := range payloads {
		if h := chain.Sum(pl); string(h[:]) == string(p.Hash) {
			data, hash = pl, h
			break
		}
	}
	if data == nil {
		return nil, fmt.Errorf("%w: stream sequence %d does not hold the snapshot it names", errPoint, p.StreamSeq)
	}
	ev, err := chain.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errPoint, err)
	}
	snap, ok := ev.Body.(*chain.Snapshot)
	var state chain.Hash
	copy(state[:], p.State)
	if !ok || ev.Actor != id || ev.Seq != p.Seq || chain.Sum(snap.State) != state {
		return nil, fmt.Errorf("%w: event %d is not a snapshot of state %s", errPoint, ev.Seq, state)
	}
	rs := &restored{seen: seen, fromPoint: true, inited: true, mbox: p.Mbox, state: state, snapHash: state,
		head: chain.Head{Seq: ev.Seq, Hash: hash}, at: chainstore.Head{Head: chain.Head{Seq: ev.Seq, Hash: hash}, StreamSeq: p.StreamSeq},
		events: []chain.Event{ev}, tail: []chain.Body{ev.Body}}
	return rs, nil
}
