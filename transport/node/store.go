package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/replay"
	"github.com/theater-go/theater/transport/wire"
)

// KVStore is the store capability on a JetStream KV bucket (the
// layout's StoreBucket, which transport.Ensure creates): key
// "<namespace>.<key>", a value's revision its bucket revision. A write is
// one publish on the key's subject, its condition the expected last
// subject sequence and its id the message id, so a write applied again
// after a crash is stored once. A node gives one to every actor granted
// store, wrapped in the actor's Recorder ([replay.Recorder.Store]), which
// holds writes until their event is durable.
type KVStore struct {
	kv     jetstream.KeyValue
	js     jetstream.JetStream
	stream jetstream.Stream
	subj   string // "$KV.<bucket>."
}

// NewKVStore opens the store on bucket, which must exist.
func NewKVStore(ctx context.Context, js jetstream.JetStream, bucket string) (*KVStore, error) {
	kv, err := js.KeyValue(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("%w: store bucket %s: %w", wire.ErrNATS, bucket, err)
	}
	st, err := js.Stream(ctx, "KV_"+bucket)
	if err != nil {
		return nil, fmt.Errorf("%w: store bucket %s: %w", wire.ErrNATS, bucket, err)
	}
	return &KVStore{kv: kv, js: js, stream: st, subj: "$KV." + bucket + "."}, nil
}

// Get returns the key's value and revision.
func (s *KVStore) Get(ctx context.Context, ns, key string) (actor.StoreEntry, bool, error) {
	e, err := s.kv.Get(ctx, ns+"."+key)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return actor.StoreEntry{}, false, nil
	case err != nil:
		return actor.StoreEntry{}, false, fmt.Errorf("node: store get: %w", err)
	}
	return actor.StoreEntry{Value: e.Value(), Revision: e.Revision()}, true, nil
}

// Keys returns the namespace's keys, sorted.
func (s *KVStore) Keys(ctx context.Context, ns string) ([]string, error) {
	l, err := s.kv.ListKeysFiltered(ctx, ns+".>")
	if err != nil {
		return nil, fmt.Errorf("node: store keys: %w", err)
	}
	defer l.Stop()
	keys := []string{}
	for k := range l.Keys() {
		keys = append(keys, strings.TrimPrefix(k, ns+"."))
	}
	slices.Sort(keys)
	return keys, nil
}

// Write publishes w on its key's subject if its condition holds.
func (s *KVStore) Write(ctx context.Context, w actor.StoreWrite) error {
	subj := s.subj + w.Namespace + "." + w.Key
	expect, check := uint64(0), w.Cond.Kind != actor.StoreAlways
	if w.Cond.Kind == actor.StoreIfRevision {
		expect = w.Cond.Revision
	}
	for try := 0; ; try++ {
		err := s.publish(ctx, subj, w, expect, check)
		var apiErr *jetstream.APIError
		if err == nil || !errors.As(err, &apiErr) || apiErr.ErrorCode != jetstream.JSErrCodeStreamWrongLastSequence || try > 0 {
			if err != nil && !errors.As(err, new(*actor.StoreConflict)) {
				err = fmt.Errorf("node: store write: %w", err)
			}
			return err
		}
		// The condition failed: a conflict, unless this very write is the
		// key's last (applied again after a crash: the server checks the
		// condition before the duplicate window) or an absent key's last
		// operation is a delete, which create-only allows.
		last, lerr := s.stream.GetLastMsgForSubject(ctx, subj)
		if errors.Is(lerr, jetstream.ErrMsgNotFound) {
			return &actor.StoreConflict{}
		}
		if lerr != nil {
			return fmt.Errorf("node: store write: %w", lerr)
		}
		if w.ID != "" && last.Header.Get(jetstream.MsgIDHeader) == w.ID {
			return nil
		}
		op := last.Header.Get("KV-Operation")
		deleted := op == "DEL" || op == "PURGE"
		switch {
		case w.Cond.Kind == actor.StoreAbsent && deleted:
			expect = last.Sequence // retry once on the tombstone
		case deleted:
			return &actor.StoreConflict{}
		default:
			return &actor.StoreConflict{Revision: last.Sequence}
		}
	}
}

func (s *KVStore) publish(ctx context.Context, subj string, w actor.StoreWrite, expect uint64, check bool) error {
	m := nats.NewMsg(subj)
	m.Data = w.Value
	var opts []jetstream.PublishOpt
	if w.Delete {
		m.Data = nil
		m.Header.Set("KV-Operation", "DEL")
	}
	if w.ID != "" {
		opts = append(opts, jetstream.WithMsgID(w.ID))
	}
	if check {
		opts = append(opts, jetstream.WithExpectLastSequencePerSubject(expect))
	}
	_, err := s.js.PublishMsg(ctx, m, opts...)
	return err
}

// storeOf returns the node's store, opened on first use.
func (n *Node) storeOf(ctx context.Context) (*KVStore, error) {
	n.kvMu.Lock()
	defer n.kvMu.Unlock()
	if n.kvStore == nil {
		s, err := NewKVStore(ctx, n.js, n.cfg.Layout.StoreBucket())
		if err != nil {
			return nil, err
		}
		n.kvStore = s
	}
	return n.kvStore, nil
}

// storeFields are what a Node keeps for the store capability.
type storeFields struct {
	kvMu    sync.Mutex
	kvStore *KVStore
}

// retryingStore is the node's store as its actors' Recorders see it:
// a write (only ever applied once its event is durable, under an id that
// makes it idempotent) is retried with backoff while the node runs, as
// publish does for sends; a conflict is not retried.
type retryingStore struct {
	*KVStore
	n *Node
}

func (s retryingStore) Write(ctx context.Context, w actor.StoreWrite) error {
	wait := 50 * time.Millisecond
	for try := 0; ; try++ {
		err := s.KVStore.Write(ctx, w)
		var c *actor.StoreConflict
		if err == nil || errors.As(err, &c) || ctx.Err() != nil || try >= 20 {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
		wait = min(2*wait, time.Second)
	}
}

// applyWrites applies the writes of the event at chain sequence seq. A
// write that does not apply (a conflict in a shared namespace another
// actor wrote since the call checked it, a store down for good) is
// logged and dropped: the guest was told it was accepted, and the event
// records it as such.
func (h *hosted) applyWrites(seq uint64, ws []*replay.PendingWrite) {
	if len(ws) == 0 {
		return
	}
	if err := h.rec.Apply(h.n.ctx, h.id, seq, ws); err != nil {
		h.n.log.Error("cannot apply a recorded store write", "actor", h.id, "seq", seq, "err", err)
		h.unreleased.Store(true)
	}
}

// reapplyWrites applies again the store writes of the latest events,
// which the node that wrote them may have stopped before applying; their
// ids make the ones that were applied no-ops.
func (h *hosted) reapplyWrites(ctx context.Context, s actor.Store, recent []recentOut) {
	for _, r := range recent {
		for i, w := range replay.WritesOf(r.inputs) {
			w.ID = replay.StoreWriteID(h.id, r.seq, i)
			if err := s.Write(ctx, w); err != nil {
				h.n.log.Warn("store write not applied again", "actor", h.id, "seq", r.seq, "index", i, "err", err)
			}
		}
	}
}

// storeInputs are the store, timer and channel calls among inputs (the effects
// besides sends), or nil.
func storeInputs(inputs []chain.Input) []chain.Input {
	var st []chain.Input
	for _, in := range inputs {
		if in.Call == replay.CallStore || in.Call == replay.CallTimer || in.Call == replay.CallChannel {
			st = append(st, in)
		}
	}
	return st
}

// dropFailedWrites forgets the writes of the handled event a failure at
// seq belongs to: a failed handler's writes were dropped, never applied.
func dropFailedWrites(recent []recentOut, seq uint64) {
	if n := len(recent); n > 0 && recent[n-1].seq+1 == seq {
		recent[n-1].inputs = nil
	}
}

// secrets is the config capability's secret source.
func (n *Node) secrets() actor.SecretSource {
	if n.cfg.Secrets != nil {
		return n.cfg.Secrets
	}
	return actor.EnvSecrets("THEATER_SECRET_")
}
