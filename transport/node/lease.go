package node

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/transport/wire"
)

// leaseValue is an entry of the leases bucket: who may serve and append
// for the actor. The incarnation is new every time a node takes an actor,
// so two processes started under one name hold different leases.
type leaseValue struct {
	Node        string    `json:"node"`
	Incarnation string    `json:"incarnation"`
	Taken       time.Time `json:"taken"`
}

// lease is this node's hold on one actor.
type lease struct {
	id  string
	val leaseValue

	mu  sync.Mutex
	rev uint64
	// until is when the lease stops being valid by this process's
	// monotonic clock: the start of its last successful renewal round
	// plus the lease duration, less a margin.
	until time.Time
	lost  bool
}

// valid reports whether the node may serve and append for the actor now.
func (l *lease) valid() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.lost && time.Now().Before(l.until)
}

func (l *lease) isLost() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

// leaseTerm is how long a renewal keeps a lease valid for its holder:
// the node TTL, less a fifth for clock rate differences. A survivor takes
// a lease only once the holder's heartbeat has been gone a whole TTL
// (server time), and the holder renews its leases only in a round whose
// beat it sent first, so the holder stops serving before anyone else can
// start.
func (n *Node) leaseTerm() time.Duration {
	return n.ttl() - n.ttl()/5
}

func newIncarnation() string { return rand.Text()[:16] }

// takeLease takes actor id's lease when it is free or held by prev (the
// revision read when the caller judged the holder dead; 0 when none).
// It fails with wire.ErrExists when another node got there first.
func (n *Node) takeLease(ctx context.Context, id string, prevRev uint64) (*lease, error) {
	l := &lease{id: id, val: leaseValue{Node: n.name, Incarnation: newIncarnation(), Taken: time.Now().UTC()}}
	b, _ := json.Marshal(l.val)
	start := time.Now()
	var rev uint64
	var err error
	if prevRev == 0 {
		rev, err = n.leases.Create(ctx, id, b)
	} else {
		rev, err = n.leases.Update(ctx, id, b, prevRev)
	}
	if errors.Is(err, jetstream.ErrKeyExists) {
		return nil, fmt.Errorf("%w: %q: another node took its lease", wire.ErrExists, id)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: lease %q: %w", wire.ErrNATS, id, err)
	}
	l.rev, l.until = rev, start.Add(n.leaseTerm())
	n.mu.Lock()
	n.leased[id] = l
	n.mu.Unlock()
	return l, nil
}

// readLease returns actor id's lease and its revision; ok is false when
// there is none.
func (n *Node) readLease(ctx context.Context, id string) (v leaseValue, rev uint64, ok bool, err error) {
	e, err := n.leases.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return leaseValue{}, 0, false, nil
	}
	if err != nil {
		return leaseValue{}, 0, false, fmt.Errorf("%w: lease %q: %w", wire.ErrNATS, id, err)
	}
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		// An entry nobody can read names no live holder: take it over.
		return leaseValue{}, e.Revision(), true, nil
	}
	return v, e.Revision(), true, nil
}

// renew extends l from a round that started at start. A revision
// conflict means another node took the actor: the lease is lost for good.
func (n *Node) renew(ctx context.Context, l *lease, start time.Time) (lost bool) {
	l.mu.Lock()
	if l.lost {
		l.mu.Unlock()
		return true
	}
	rev := l.rev
	l.mu.Unlock()
	b, _ := json.Marshal(l.val)
	nrev, err := n.leases.Update(ctx, l.id, b, rev)
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case err == nil:
		l.rev, l.until = nrev, start.Add(n.leaseTerm())
	case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyNotFound):
		l.lost = true
	default:
		if ctx.Err() == nil {
			n.log.Warn("cannot renew lease", "actor", l.id, "err", err)
		}
	}
	return l.lost
}

// releaseLease gives a lease back (deletes it at its revision), so
// another node may take the actor at once. A lost lease is not touched:
// it is someone else's now.
func (n *Node) releaseLease(ctx context.Context, l *lease) {
	n.mu.Lock()
	if n.leased[l.id] == l {
		delete(n.leased, l.id)
	}
	n.mu.Unlock()
	l.mu.Lock()
	lost, rev := l.lost, l.rev
	l.lost = true
	l.mu.Unlock()
	if lost {
		return
	}
	var api *jetstream.APIError
	if err := n.leases.Delete(ctx, l.id, jetstream.LastRevision(rev)); errors.As(err, &api) && api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
		n.log.Debug("lease taken by another node; left alone", "actor", l.id)
	} else if err != nil && ctx.Err() == nil {
		n.log.Warn("cannot release lease", "actor", l.id, "err", err)
	}
}

// renewAll renews every lease this node holds, after a beat that started
// at start; an actor whose lease was taken is let go at once, writing
// nothing.
func (n *Node) renewAll(start time.Time) {
	n.mu.Lock()
	ls := make([]*lease, 0, len(n.leased))
	for _, l := range n.leased {
		ls = append(ls, l)
	}
	n.mu.Unlock()
	for _, l := range ls {
		if n.ctx.Err() != nil {
			return
		}
		if n.renew(n.ctx, l, start) {
			n.mu.Lock()
			if n.leased[l.id] == l {
				delete(n.leased, l.id)
			}
			n.mu.Unlock()
			if h := n.lookup(l.id); h != nil && h.lease == l {
				n.log.Warn("actor taken by another node; letting it go", "actor", l.id)
				go h.lose()
			}
		}
	}
}
