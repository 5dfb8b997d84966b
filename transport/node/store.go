package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
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
//
// A value over [actor.StoreInlineBytes] is a large value: it is put
// first as an object of the layout's StoreValuesStore named
// "<namespace>.<key>/<digest>" ([actor.StoreDigest]), and the key's
// entry is then an empty value with the header [StoreObjectHeader]
// naming that digest. The entry is published only once the object is
// complete, so a crash between the two calls leaves an object nobody
// points at (garbage for [KVStore.Sweep]), never a torn value.
type KVStore struct {
	kv     jetstream.KeyValue
	js     jetstream.JetStream
	stream jetstream.Stream
	values jetstream.ObjectStore
	subj   string // "$KV.<bucket>."
	nc     *nats.Conn
	direct string // the direct get API's subject for the last message of subj+key, or "" without direct gets
}

// StoreObjectHeader is the header of a store entry whose value is a
// large one: its hex SHA-256, the object "<bucket key>/<digest>".
const StoreObjectHeader = "Theater-Store-Object"

// NewKVStore opens the store on bucket and its large values on the
// object store values; both must exist.
func NewKVStore(ctx context.Context, js jetstream.JetStream, bucket, values string) (*KVStore, error) {
	kv, err := js.KeyValue(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("%w: store bucket %s: %w", wire.ErrNATS, bucket, err)
	}
	st, err := js.Stream(ctx, "KV_"+bucket)
	if err != nil {
		return nil, fmt.Errorf("%w: store bucket %s: %w", wire.ErrNATS, bucket, err)
	}
	obs, err := js.ObjectStore(ctx, values)
	if err != nil {
		return nil, fmt.Errorf("%w: store values %s: %w", wire.ErrNATS, values, err)
	}
	s := &KVStore{kv: kv, js: js, stream: st, values: obs, subj: "$KV." + bucket + ".", nc: js.Conn()}
	if st.CachedInfo().Config.AllowDirect {
		s.direct = apiPrefix(js) + "DIRECT.GET.KV_" + bucket + "." + s.subj
	}
	return s, nil
}

// apiPrefix is the JetStream API prefix js sends requests under.
func apiPrefix(js jetstream.JetStream) string {
	o := js.Options()
	if o.Domain != "" {
		return "$JS." + o.Domain + ".API."
	}
	if o.APIPrefix == "" {
		return jetstream.DefaultAPIPrefix
	}
	return strings.TrimSuffix(o.APIPrefix, ".") + "."
}

// last returns the last message of the key's subject, or nil when it has
// none. It is one request to the direct get API when the bucket allows
// it, as jetstream's GetLastMsgForSubject is, without the JSON request
// body, formatted subject and reply conversion it builds per call: a get
// is the store's hot path.
func (s *KVStore) last(ctx context.Context, key string) (nats.Header, []byte, uint64, error) {
	if s.direct == "" {
		m, err := s.stream.GetLastMsgForSubject(ctx, s.subj+key)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil, nil, 0, nil
		}
		if err != nil {
			return nil, nil, 0, err
		}
		return m.Header, m.Data, m.Sequence, nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.js.Options().DefaultTimeout)
		defer cancel()
	}
	m, err := s.nc.RequestWithContext(ctx, s.direct+key, nil)
	if err != nil {
		return nil, nil, 0, err
	}
	if st := m.Header.Get("Status"); st != "" && len(m.Data) == 0 {
		if st == "404" {
			return nil, nil, 0, nil
		}
		return nil, nil, 0, fmt.Errorf("direct get: status %s %s", st, m.Header.Get("Description"))
	}
	seq, err := strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("direct get: sequence: %w", err)
	}
	return m.Header, m.Data, seq, nil
}

func objectName(ns, key, digest string) string { return ns + "." + key + "/" + digest }

// Get returns the key's value and revision; a large value is read from
// its object, whose digest is checked.
func (s *KVStore) Get(ctx context.Context, ns, key string) (actor.StoreEntry, bool, error) {
	h, data, seq, err := s.last(ctx, ns+"."+key)
	switch {
	case err != nil:
		return actor.StoreEntry{}, false, fmt.Errorf("node: store get: %w", err)
	case h == nil && seq == 0:
		return actor.StoreEntry{}, false, nil
	}
	if op := h.Get("KV-Operation"); op == "DEL" || op == "PURGE" || h.Get(jetstream.MarkerReasonHeader) != "" {
		return actor.StoreEntry{}, false, nil
	}
	d := h.Get(StoreObjectHeader)
	if d == "" {
		return actor.StoreEntry{Value: data, Revision: seq}, true, nil
	}
	v, ok, err := s.Value(ctx, ns, key, d)
	switch {
	case err != nil:
		return actor.StoreEntry{}, false, fmt.Errorf("node: store get: %w", err)
	case !ok:
		return actor.StoreEntry{}, false, fmt.Errorf("node: store get: %w: %s/%s points at value %s, which is gone", wire.ErrNATS, ns, key, d)
	}
	return actor.StoreEntry{Value: v, Revision: seq}, true, nil
}

// Value returns the large value of key in ns with digest d, and false
// when there is no such object.
func (s *KVStore) Value(ctx context.Context, ns, key, d string) ([]byte, bool, error) {
	v, err := s.values.GetBytes(ctx, objectName(ns, key, d))
	switch {
	case errors.Is(err, jetstream.ErrObjectNotFound):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("node: store value %s: %w", d, err)
	case actor.StoreDigest(v) != d:
		return nil, false, fmt.Errorf("node: store value %s: %w: its bytes hash to %s", d, wire.ErrNATS, actor.StoreDigest(v))
	}
	return v, true, nil
}

// StageValue puts value as the object of key in ns named by its digest,
// which it returns; putting it again replaces the object with the same
// bytes (and a fresh modification time, which Sweep's grace counts from).
func (s *KVStore) StageValue(ctx context.Context, ns, key string, value []byte) (string, error) {
	d := actor.StoreDigest(value)
	if _, err := s.values.PutBytes(ctx, objectName(ns, key, d), value); err != nil {
		return "", fmt.Errorf("node: store value %s/%s: %w", ns, key, err)
	}
	return d, nil
}

// Sweep deletes the large values no entry points at (overwritten,
// deleted, or staged by a write that never landed) that were put more
// than grace ago, and returns how many it deleted. The grace keeps the
// object of a write between its two calls: a write publishes its entry
// right after putting its object, and a restore puts a recorded one's
// object again before pointing at it ([KVStore.Write]), so grace must
// exceed how long one write takes, retries included (the node uses
// [StoreSweepGrace]).
func (s *KVStore) Sweep(ctx context.Context, grace time.Duration) (int, error) {
	infos, err := s.values.List(ctx)
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("node: store sweep: %w", err)
	}
	return s.sweep(ctx, infos, grace)
}

// sweep is Sweep over a listing, which may be old by the time an object's
// turn comes: an object found unreferenced has its age read again before
// it is deleted, so a write that staged the same bytes again since (a
// key set back to a value it had) keeps them. What is left is the one
// round trip between that read and the delete (docs/NATS.md).
func (s *KVStore) sweep(ctx context.Context, infos []*jetstream.ObjectInfo, grace time.Duration) (int, error) {
	n := 0
	for _, info := range infos {
		k, d, ok := strings.Cut(info.Name, "/")
		if !ok || time.Since(info.ModTime) < grace {
			continue
		}
		m, err := s.stream.GetLastMsgForSubject(ctx, s.subj+k)
		switch {
		case err == nil && m.Header.Get(StoreObjectHeader) == d && m.Header.Get("KV-Operation") == "":
			continue // live
		case err != nil && !errors.Is(err, jetstream.ErrMsgNotFound):
			return n, fmt.Errorf("node: store sweep: %w", err)
		}
		now, err := s.values.GetInfo(ctx, info.Name)
		switch {
		case errors.Is(err, jetstream.ErrObjectNotFound):
			continue
		case err != nil:
			return n, fmt.Errorf("node: store sweep: %w", err)
		case time.Since(now.ModTime) < grace:
			continue // staged again since the listing
		}
		if err := s.values.Delete(ctx, info.Name); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
			return n, fmt.Errorf("node: store sweep: %w", err)
		}
		n++
	}
	return n, nil
}

// StoreSweepGrace is how old an unreferenced large value must be before
// the node's sweep deletes it: far over a write's retries (about 20s),
// and over a takeover's restore, which applies a crashed owner's
// recorded writes again.
const StoreSweepGrace = 10 * time.Minute

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

// Write publishes w on its key's subject if its condition holds. A large
// value (over [actor.StoreInlineBytes], or a write by Digest) is staged
// first, or for a write by Digest without bytes checked to be staged: a
// pointer is never published to a value that is not there.
func (s *KVStore) Write(ctx context.Context, w actor.StoreWrite) error {
	subj := s.subj + w.Namespace + "." + w.Key
	if !w.Delete && (w.Digest != "" || len(w.Value) > actor.StoreInlineBytes) {
		if err := s.stage(ctx, &w); err != nil {
			return err
		}
	}
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

// stage makes sure w's large value is an object and sets w.Digest. A
// write by digest with its bytes was staged by the recorder moments ago;
// one by digest alone (applied again from the chain) puts the staged
// object again, refreshing its time against Sweep, or fails if it is gone.
func (s *KVStore) stage(ctx context.Context, w *actor.StoreWrite) error {
	v := w.Value
	if w.Digest != "" && v != nil {
		return nil // staged by the caller during the handler
	}
	if w.Digest != "" {
		got, ok, err := s.Value(ctx, w.Namespace, w.Key, w.Digest)
		switch {
		case err != nil:
			return fmt.Errorf("node: store write: %w", err)
		case !ok:
			return fmt.Errorf("node: store write: %w: value %s of %s/%s is not staged", wire.ErrNATS, w.Digest, w.Namespace, w.Key)
		}
		v = got
	}
	d, err := s.StageValue(ctx, w.Namespace, w.Key, v)
	if err != nil {
		return fmt.Errorf("node: store write: %w", err)
	}
	if w.Digest != "" && d != w.Digest {
		return fmt.Errorf("node: store write: %w: value of %s/%s hashes to %s, not %s", actor.ErrInvalidMessage, w.Namespace, w.Key, d, w.Digest)
	}
	w.Digest = d
	return nil
}

func (s *KVStore) publish(ctx context.Context, subj string, w actor.StoreWrite, expect uint64, check bool) error {
	m := nats.NewMsg(subj)
	m.Data = w.Value
	var opts []jetstream.PublishOpt
	switch {
	case w.Delete:
		m.Data = nil
		m.Header.Set("KV-Operation", "DEL")
	case w.Digest != "":
		m.Data = nil
		m.Header.Set(StoreObjectHeader, w.Digest)
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
		s, err := NewKVStore(ctx, n.js, n.cfg.Layout.StoreBucket(), n.cfg.Layout.StoreValuesStore())
		if err != nil {
			return nil, err
		}
		n.kvStore = s
		go n.sweepStore(s)
	}
	return n.kvStore, nil
}

// sweepStore deletes the store's garbage large values every
// StoreSweepGrace while the node runs. Every node hosting store actors
// sweeps; two sweeps deleting one object is harmless.
func (n *Node) sweepStore(s *KVStore) {
	t := time.NewTicker(StoreSweepGrace)
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
		if k, err := s.Sweep(n.ctx, StoreSweepGrace); err != nil && n.ctx.Err() == nil {
			n.log.Warn("store sweep failed", "deleted", k, "err", err)
		}
	}
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
