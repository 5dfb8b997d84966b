package node

import (
	"context"
	"errors"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/vmihailenco/msgpack/v5"
)

// RestoreView is what a restore of an actor rebuilds, for tests that
// compare a restore from a restore point with one from the chain's start.
type RestoreView struct {
	FromPoint bool
	Read      int // chain events read, besides the point's snapshot
	Head      uint64
	State     string // hash of the state the chain reached
	Mbox      uint64
	Seen      []string          // handled-send ids, oldest first
	Tops      map[string]uint64 // each sender's highest sequence seen
	Replay    uint64            // the first event replay runs
	Recent    []uint64          // events whose effects a restore does again
}

// RestoreOf restores actor id on n as a takeover does, without hosting
// it: through n's restore (a restore point when there is a usable one)
// when usePoint, from the chain's start otherwise.
func RestoreOf(ctx context.Context, n *Node, id string, usePoint bool) (RestoreView, error) {
	var rs *restored
	var err error
	if usePoint {
		rs, err = n.restore(ctx, id)
	} else {
		rs = &restored{seen: newSeenSends()}
		err = n.readOn(ctx, id, rs)
	}
	if err != nil {
		return RestoreView{}, err
	}
	v := RestoreView{FromPoint: uint64(rs.read) < rs.head.Seq, Read: rs.read, Head: rs.head.Seq, State: rs.state.String(),
		Mbox: rs.mbox, Tops: map[string]uint64{}, Replay: rs.events[0].Seq}
	for _, o := range rs.seen.order[rs.seen.head:] {
		v.Seen = append(v.Seen, o.id)
	}
	for from, s := range rs.seen.senders {
		v.Tops[from] = s.top
	}
	for _, r := range rs.recent {
		v.Recent = append(v.Recent, r.seq)
	}
	return v, nil
}

// PointSeq is the chain sequence of the snapshot actor id's restore
// point names, 0 when it has none.
func PointSeq(ctx context.Context, js jetstream.JetStream, bucket, id string) (uint64, error) {
	kv, err := js.KeyValue(ctx, bucket)
	if err != nil {
		return 0, err
	}
	e, err := kv.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var p restorePoint
	if err := msgpack.Unmarshal(e.Value(), &p); err != nil {
		return 0, err
	}
	return p.Seq, nil
}
