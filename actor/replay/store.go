package replay

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
)

// CallStore is one store call; Data is the msgpack map
// {"op": "get"|"put"|"delete"|"keys", "ns": str, "key": str,
// "value": bin|nil, "cond": condition|nil, ["digest": str,]
// "result": {"ok": v} | {"err": error}},
// ns being the namespace as the [actor.Store] sees it, value the bytes a
// put wrote, cond the WIT store.condition of a put or delete, v the
// option<entry> of a get, the list<string> of keys or nil, and error the
// WIT store.error the guest received, all in canonical form. A large
// value (over [actor.StoreInlineBytes]) is not in the record: "digest"
// is its [actor.StoreDigest], a put's "value" is nil and a get's entry
// has an empty value (replay takes the bytes from the caller's store,
// checked against the digest). A put or delete whose result is ok is a
// write the owner applies once the event is durable ([Recorder.Apply]);
// the input is also how a restore finds the writes that may not have
// been applied ([WritesOf]).
const CallStore = "store"

// Store returns the store to put in the actor's spec. Reads go to s and
// are recorded as [CallStore] inputs; writes are checked against s and
// what the actor has written but not yet applied (their condition
// decides the result the guest gets, recorded likewise) and then held:
// [Recorder.Take] ends the handler's writes, [Recorder.Writes] hands
// them to the owner, who calls [Recorder.Apply] once the handler's event
// is durable, or [Recorder.Drop] if the handler failed or its event did
// not land.
//
// A large put is staged during the call when s is an
// [actor.StoreStager] (the node's is), so its bytes are stored before
// the event that records only their digest is durable.
//
// Until a write is applied the actor sees it: its own handler reads the
// value with revision 0 and may overwrite it, but a conditional write to
// it fails as a conflict (its revision is not known yet); a later
// handler's call on that key waits until it is applied or dropped, so
// revisions it reads are the bucket's. s == nil answers every call with
// "failed".
func (r *Recorder) Store(s actor.Store) actor.Store {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.store == nil {
		r.store = &recStore{r: r, s: s, over: map[string]*PendingWrite{}}
	}
	return r.store
}

// PendingWrite is a write a handler made that is not applied yet.
type PendingWrite struct {
	w       actor.StoreWrite
	current bool // its handler has not ended
	done    chan struct{}
}

// Write is the write, without its id.
func (p *PendingWrite) Write() actor.StoreWrite { return p.w }

// StoreWriteID is the id of the i-th write of the event at chain
// sequence seq of actor id: applying a write twice under one id (a
// restore after a crash) stores it once.
func StoreWriteID(id string, seq uint64, i int) string {
	return id + ":" + strconv.FormatUint(seq, 10) + ":s" + strconv.Itoa(i)
}

type recStore struct {
	r *Recorder
	s actor.Store

	mu    sync.Mutex
	cur   []*PendingWrite          // the running handler's
	taken []*PendingWrite          // ended handlers', not yet given to the owner
	over  map[string]*PendingWrite // the latest unapplied write of each ns + "\x00" + key
}

var errNoStore = errors.New("replay: no store")

func overKey(ns, key string) string { return ns + "\x00" + key }

// endHandler is Take's: the running handler's writes wait for Writes.
func (st *recStore) endHandler() {
	st.mu.Lock()
	for _, p := range st.cur {
		p.current = false
	}
	st.taken = append(st.taken, st.cur...)
	st.cur = nil
	st.mu.Unlock()
}

// Writes returns and resets the writes of the handlers [Recorder.Take]
// ended since the last call, in the order they were made.
func (r *Recorder) Writes() []*PendingWrite {
	r.mu.Lock()
	st := r.store
	r.mu.Unlock()
	if st == nil {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	ws := st.taken
	st.taken = nil
	return ws
}

// Apply applies ws, the writes of the event at chain sequence seq of
// actor id, to the store in order, each under its [StoreWriteID], and
// releases the calls waiting for them. It returns the errors of the
// writes that did not apply (a conflict in a shared namespace another
// actor wrote to since, a store that failed), which are not retried.
func (r *Recorder) Apply(ctx context.Context, id string, seq uint64, ws []*PendingWrite) error {
	var errs []error
	for i, p := range ws {
		w := p.w
		w.ID = StoreWriteID(id, seq, i)
		err := errNoStore
		if r.store.s != nil {
			err = r.store.s.Write(ctx, w)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("replay: store write %s %s/%s: %w", w.ID, w.Namespace, w.Key, err))
		}
		r.store.release(p)
	}
	return errors.Join(errs...)
}

// Drop forgets ws, the writes of a handler that failed or whose event
// did not land, and releases the calls waiting for them.
func (r *Recorder) Drop(ws []*PendingWrite) {
	for _, p := range ws {
		r.store.release(p)
	}
}

func (st *recStore) release(p *PendingWrite) {
	st.mu.Lock()
	k := overKey(p.w.Namespace, p.w.Key)
	if st.over[k] == p {
		delete(st.over, k)
	}
	st.mu.Unlock()
	close(p.done)
}

// settle waits until key (or, with all, every key of ns) has no write of
// an ended handler pending, and returns the running handler's pending
// write of key, if any, with st.mu held.
func (st *recStore) settle(ctx context.Context, ns, key string, all bool) (*PendingWrite, error) {
	for {
		st.mu.Lock()
		var wait *PendingWrite
		if all {
			for _, p := range st.over {
				if p.w.Namespace == ns && !p.current {
					wait = p
					break
				}
			}
		} else if p := st.over[overKey(ns, key)]; p != nil {
			if p.current {
				return p, nil
			}
			wait = p
		}
		if wait == nil {
			return nil, nil
		}
		st.mu.Unlock()
		select {
		case <-wait.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (st *recStore) Get(ctx context.Context, ns, key string) (actor.StoreEntry, bool, error) {
	p, err := st.settle(ctx, ns, key, false)
	if err != nil {
		st.r.record(CallStore, encodeStore(storeCall{op: "get", ns: ns, key: key}, nil, err))
		return actor.StoreEntry{}, false, err
	}
	var e actor.StoreEntry
	var found bool
	switch {
	case p != nil:
		st.mu.Unlock()
		e, found = actor.StoreEntry{Value: p.w.Value}, !p.w.Delete
	case st.s == nil:
		st.mu.Unlock()
		err = errNoStore
	default:
		st.mu.Unlock()
		e, found, err = st.s.Get(ctx, ns, key)
	}
	var res []byte
	c := storeCall{op: "get", ns: ns, key: key}
	if err == nil {
		rec := e
		if found && len(e.Value) > actor.StoreInlineBytes {
			c.digest, rec.Value = actor.StoreDigest(e.Value), nil
		}
		if res, err = actor.EncodeStoreEntry(rec, found); err != nil {
			err = &actor.StoreError{Case: "failed", Text: err.Error()}
		}
	}
	st.r.record(CallStore, encodeStore(c, res, err))
	return e, found, err
}

func (st *recStore) Keys(ctx context.Context, ns string) ([]string, error) {
	var keys []string
	_, err := st.settle(ctx, ns, "", true)
	if err == nil {
		st.mu.Unlock()
		if st.s == nil {
			err = errNoStore
		} else {
			keys, err = st.s.Keys(ctx, ns)
		}
	}
	if err == nil {
		st.mu.Lock()
		for _, p := range st.cur {
			if p.w.Namespace != ns {
				continue
			}
			i, has := slices.BinarySearch(keys, p.w.Key)
			switch {
			case p.w.Delete && has:
				keys = slices.Delete(keys, i, i+1)
			case !p.w.Delete && !has:
				keys = slices.Insert(keys, i, p.w.Key)
			}
		}
		st.mu.Unlock()
	}
	var res []byte
	if err == nil {
		res = actor.EncodeStoreKeys(keys)
	}
	st.r.record(CallStore, encodeStore(storeCall{op: "keys", ns: ns}, res, err))
	return keys, err
}

func (st *recStore) Write(ctx context.Context, w actor.StoreWrite) error {
	c := writeCall(w)
	err := st.check(ctx, w)
	st.r.record(CallStore, encodeStore(c, nil, err))
	return err
}

// writeCall is what a store input records of w.
func writeCall(w actor.StoreWrite) storeCall {
	c := storeCall{op: "put", ns: w.Namespace, key: w.Key, value: w.Value, cond: w.Cond}
	switch {
	case w.Delete:
		c.op, c.value = "delete", nil
	case len(w.Value) > actor.StoreInlineBytes:
		c.value, c.digest = nil, actor.StoreDigest(w.Value)
	}
	return c
}

// check decides whether w's condition holds and, if it does, holds w.
func (st *recStore) check(ctx context.Context, w actor.StoreWrite) error {
	p, err := st.settle(ctx, w.Namespace, w.Key, false)
	if err != nil {
		return err
	}
	if p != nil {
		st.mu.Unlock()
		if w.Cond.Kind != actor.StoreAlways {
			return &actor.StoreConflict{}
		}
		if err := st.stage(ctx, &w); err != nil {
			return err
		}
		st.mu.Lock()
		st.hold(w)
		st.mu.Unlock()
		return nil
	}
	st.mu.Unlock()
	if w.Cond.Kind != actor.StoreAlways {
		if st.s == nil {
			return errNoStore
		}
		e, found, err := st.s.Get(ctx, w.Namespace, w.Key)
		switch {
		case err != nil:
			return err
		case w.Cond.Kind == actor.StoreAbsent && found:
			return &actor.StoreConflict{Revision: e.Revision}
		case w.Cond.Kind == actor.StoreIfRevision && (!found || e.Revision != w.Cond.Revision):
			return &actor.StoreConflict{Revision: e.Revision}
		}
	}
	if err := st.stage(ctx, &w); err != nil {
		return err
	}
	// The handler holds the turn: no other call of this actor came in
	// between, so the key is still as checked.
	st.mu.Lock()
	st.hold(w)
	st.mu.Unlock()
	return nil
}

// stage stores w's value apart if it is a large one and the store keeps
// large values so, setting w.Digest.
func (st *recStore) stage(ctx context.Context, w *actor.StoreWrite) error {
	sv, ok := st.s.(actor.StoreStager)
	if w.Delete || len(w.Value) <= actor.StoreInlineBytes || !ok {
		return nil
	}
	d, err := sv.StageValue(ctx, w.Namespace, w.Key, w.Value)
	w.Digest = d
	return err
}

// hold keeps w as the running handler's; st.mu is held.
func (st *recStore) hold(w actor.StoreWrite) {
	w.Value = bytes.Clone(w.Value) // a view of guest memory
	if w.Value == nil && !w.Delete {
		w.Value = []byte{}
	}
	p := &PendingWrite{w: w, current: true, done: make(chan struct{})}
	st.cur = append(st.cur, p)
	st.over[overKey(w.Namespace, w.Key)] = p
}

// storeCall is what a store input records of the call.
type storeCall struct {
	op, ns, key string
	value       []byte
	cond        actor.StoreCondition
	digest      string // of a large value, whose bytes are not recorded
}

func (c storeCall) writes() bool { return c.op == "put" || c.op == "delete" }

func encodeStore(c storeCall, ok []byte, err error) []byte {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	// Writes to a bytes.Buffer do not fail.
	if c.digest != "" {
		_ = enc.EncodeMapLen(7)
	} else {
		_ = enc.EncodeMapLen(6)
	}
	for _, kv := range [][2]string{{"op", c.op}, {"ns", c.ns}, {"key", c.key}} {
		_ = enc.EncodeString(kv[0])
		_ = enc.EncodeString(kv[1])
	}
	_ = enc.EncodeString("value")
	if c.op == "put" && c.digest == "" {
		_ = enc.EncodeBytes(nonNilBytes(c.value))
	} else {
		_ = enc.EncodeNil()
	}
	_ = enc.EncodeString("cond")
	if c.writes() {
		cond, _ := actor.EncodeStoreCondition(c.cond) // the host decoded it
		buf.Write(cond)
	} else {
		_ = enc.EncodeNil()
	}
	if c.digest != "" {
		_ = enc.EncodeString("digest")
		_ = enc.EncodeString(c.digest)
	}
	_ = enc.EncodeString("result")
	_ = enc.EncodeMapLen(1)
	if err != nil {
		_ = enc.EncodeString("err")
		e, eerr := actor.EncodeStoreError(actor.StoreErrorOf(err))
		if eerr != nil {
			e, _ = actor.EncodeStoreError(&actor.StoreError{Case: "failed", Text: err.Error()})
		}
		buf.Write(e)
		return buf.Bytes()
	}
	_ = enc.EncodeString("ok")
	if c.writes() {
		_ = enc.EncodeNil()
	} else {
		buf.Write(ok)
	}
	return buf.Bytes()
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// decodeStore parses a store input's Data and checks it is in the one
// form a recorder writes. ok is the raw ok value; serr the recorded
// error, if the call failed.
func decodeStore(data []byte) (c storeCall, ok []byte, serr *actor.StoreError, err error) {
	bad := func(why string) error { return fmt.Errorf("%w: store: %s", ErrMalformedInput, why) }
	var env struct {
		Op     string                        `msgpack:"op"`
		NS     string                        `msgpack:"ns"`
		Key    string                        `msgpack:"key"`
		Value  []byte                        `msgpack:"value"`
		Cond   msgpack.RawMessage            `msgpack:"cond"`
		Digest string                        `msgpack:"digest"`
		Result map[string]msgpack.RawMessage `msgpack:"result"`
	}
	if derr := msgpack.Unmarshal(data, &env); derr != nil {
		return c, nil, nil, bad(derr.Error())
	}
	c = storeCall{op: env.Op, ns: env.NS, key: env.Key, value: env.Value, digest: env.Digest}
	switch env.Op {
	case "get", "keys", "put", "delete":
	default:
		return c, nil, nil, bad("unknown op " + strconv.Quote(env.Op))
	}
	if b, derr := hex.DecodeString(c.digest); c.digest != "" && (derr != nil || len(b) != sha256.Size || c.op != "get" && c.op != "put") {
		return c, nil, nil, bad("digest " + strconv.Quote(c.digest) + " is not the SHA-256 of a get or put")
	}
	if c.writes() {
		cond, derr := actor.DecodeStoreCondition(env.Cond)
		if derr != nil {
			return c, nil, nil, bad(derr.Error())
		}
		c.cond = cond
	}
	if len(env.Result) != 1 {
		return c, nil, nil, bad("result is not one of ok, err")
	}
	var rerr error
	if raw, has := env.Result["ok"]; has {
		if len(raw) == 0 { // msgpack/v5 decodes a nil value to an empty RawMessage
			raw = []byte{0xc0}
		}
		ok = raw
		var derr error
		switch c.op {
		case "get":
			_, _, derr = actor.DecodeStoreEntry(raw)
		case "keys":
			_, derr = actor.DecodeStoreKeys(raw)
		}
		if derr != nil {
			return c, nil, nil, bad(derr.Error())
		}
	} else if raw, has := env.Result["err"]; has {
		se, derr := actor.DecodeStoreError(raw)
		if derr != nil {
			return c, nil, nil, bad(derr.Error())
		}
		serr, rerr = se, se
	} else {
		return c, nil, nil, bad("result is not one of ok, err")
	}
	if !bytes.Equal(encodeStore(c, ok, rerr), data) {
		return c, nil, nil, bad("not in canonical form")
	}
	return c, ok, serr, nil
}

// WritesOf returns the writes recorded in an event's inputs (the store
// puts and deletes the guest was told succeeded), in order: what
// [Recorder.Apply] applied, or should have, for that event. A restore
// applies them again under their [StoreWriteID]s.
func WritesOf(inputs []chain.Input) []actor.StoreWrite {
	var ws []actor.StoreWrite
	for _, in := range inputs {
		if in.Call != CallStore {
			continue
		}
		c, _, serr, err := decodeStore(in.Data)
		if err != nil || serr != nil || !c.writes() {
			continue
		}
		w := actor.StoreWrite{Namespace: c.ns, Key: c.key, Value: nonNilBytes(c.value), Delete: c.op == "delete", Cond: c.cond, Digest: c.digest}
		if c.digest != "" {
			w.Value = nil // staged: the store has the bytes
		}
		ws = append(ws, w)
	}
	return ws
}

// playStore answers store calls from the record, and large values a get
// read from values, checked against the recorded digest.
type playStore struct {
	p      *player
	values storeValues
}

// storeValues keeps large store values by digest, as [actor.StoreStager]
// does (the node's store online; a [actor.MemoryStore] with the values
// staged offline).
type storeValues interface {
	Value(ctx context.Context, ns, key, digest string) ([]byte, bool, error)
}

// take returns the next store input's result if it records call c, the
// digest of the large value it recorded and the input's index.
func (s playStore) take(c storeCall) ([]byte, string, int, error) {
	in, i, ok := s.p.take(CallStore)
	if !ok {
		return nil, "", i, errReplayed
	}
	rc, res, serr, err := decodeStore(in.Data)
	switch {
	case err != nil:
		s.p.misfit(i, CallStore, fmt.Sprintf("data %x", in.Data), err.Error())
		return nil, "", i, errReplayed
	case rc.op != c.op || rc.ns != c.ns || rc.key != c.key || c.op == "put" && (!bytes.Equal(rc.value, c.value) || rc.digest != c.digest) || rc.cond != c.cond:
		s.p.misfit(i, CallStore, fmt.Sprintf("%s %s/%s", rc.op, rc.ns, rc.key), fmt.Sprintf("%s %s/%s", c.op, c.ns, c.key))
		return nil, "", i, errReplayed
	case serr != nil:
		return nil, "", i, serr
	}
	return res, rc.digest, i, nil
}

var errReplayed = &actor.StoreError{Case: "failed", Text: "replay: no recorded answer"}

func (s playStore) Get(ctx context.Context, ns, key string) (actor.StoreEntry, bool, error) {
	res, d, i, err := s.take(storeCall{op: "get", ns: ns, key: key})
	if err != nil {
		return actor.StoreEntry{}, false, err
	}
	e, found, err := actor.DecodeStoreEntry(res) // checked by decodeStore
	if d == "" || err != nil {
		return e, found, err
	}
	var ok bool
	if s.values != nil {
		e.Value, ok, err = s.values.Value(ctx, ns, key, d)
	}
	if !ok || err != nil || actor.StoreDigest(e.Value) != d {
		got := "no such value in the replay's store"
		switch {
		case err != nil:
			got += ": " + err.Error()
		case ok:
			got = "a value hashing to " + actor.StoreDigest(e.Value)
		}
		s.p.misfit(i, CallStore, "value "+d+" of "+ns+"/"+key, got)
		return actor.StoreEntry{}, false, errReplayed
	}
	return e, true, nil
}

func (s playStore) Keys(_ context.Context, ns string) ([]string, error) {
	res, _, _, err := s.take(storeCall{op: "keys", ns: ns})
	if err != nil {
		return nil, err
	}
	return actor.DecodeStoreKeys(res)
}

func (s playStore) Write(_ context.Context, w actor.StoreWrite) error {
	_, _, _, err := s.take(writeCall(w))
	return err
}
