package actor

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/theater-go/theater/actor/abi"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

// StoreGrant is the store capability's grant, from a manifest's
// [capabilities.store]: the shared namespaces the actor may read and
// write (its own it always may), the key and value size limits and the
// budget of store calls per handler call.
type StoreGrant struct {
	Read, Write   []string
	MaxKeyBytes   int
	MaxValueBytes int
	MaxOps        int
}

// StoreGrantOf is the grant of a manifest's [capabilities.store], its
// zero limits replaced by the defaults, and false when it grants no store.
func StoreGrantOf(m *manifest.Manifest) (StoreGrant, bool) {
	c := m.Capabilities.Store
	if c == nil {
		return StoreGrant{}, false
	}
	g := StoreGrant{Read: slices.Clone(c.Read), Write: slices.Clone(c.Write),
		MaxKeyBytes: c.MaxKeyBytes, MaxValueBytes: c.MaxValueBytes, MaxOps: c.MaxOps}
	return g.withDefaults(), true
}

func (g StoreGrant) withDefaults() StoreGrant {
	if g.MaxKeyBytes <= 0 {
		g.MaxKeyBytes = manifest.DefaultStoreMaxKeyBytes
	}
	if g.MaxValueBytes <= 0 {
		g.MaxValueBytes = manifest.DefaultStoreMaxValueBytes
	}
	if g.MaxOps <= 0 {
		g.MaxOps = manifest.DefaultStoreMaxOps
	}
	return g
}

// OwnStoreNamespace is the namespace actor id's keys live in, as a
// [Store] sees it: "actor.<id>". Shared namespace n is "shared.<n>".
func OwnStoreNamespace(id string) string { return "actor." + id }

// SharedStoreNamespace is shared namespace name as a [Store] sees it.
func SharedStoreNamespace(name string) string { return "shared." + name }

// StoreCondKind says when a write applies.
type StoreCondKind uint8

// The kinds of [StoreCondition], as theater:actor/store's condition.
const (
	StoreAlways     StoreCondKind = iota // last write wins
	StoreAbsent                          // create-only
	StoreIfRevision                      // compare-and-set on Revision
)

// StoreCondition is a write's condition.
type StoreCondition struct {
	Kind     StoreCondKind
	Revision uint64
}

// StoreEntry is a stored value and its revision.
type StoreEntry struct {
	Value    []byte
	Revision uint64
}

// StoreWrite is one put (or, with Delete, delete) of Key in Namespace.
// ID, when not empty, makes applying it again a no-op (the node uses an
// id derived from the chain, as for sends). Digest, when not empty, says
// the put's value is a large one already staged ([StoreStager]) under
// that [StoreDigest]: Value may then be nil, and the store writes only
// the pointer to it (a restore applies a recorded large write again this
// way, as the chain keeps the digest, not the bytes).
type StoreWrite struct {
	Namespace, Key string
	Value          []byte
	Delete         bool
	Cond           StoreCondition
	ID             string
	Digest         string
}

// StoreInlineBytes is the largest store value kept inline: in the
// store's own entry and in the chain's record of the call. A larger one
// is a large value: the node keeps it in an object store beside the KV
// bucket, and the chain records its [StoreDigest] instead of its bytes,
// so one handler's calls fit a chain message.
const StoreInlineBytes = 32 << 10

// StoreDigest names a store value: the hex SHA-256 of its bytes.
func StoreDigest(value []byte) string {
	d := sha256.Sum256(value)
	return hex.EncodeToString(d[:])
}

// StoreStager is a [Store] that keeps large values apart from its
// entries. StageValue stores value (over [StoreInlineBytes]) for key of
// ns without making it visible, and returns its [StoreDigest]; a later
// Write with that Digest makes it the key's value. The recorder stages
// a large put during the handler, so the bytes are durable before the
// event that records only their digest is. Value returns a staged or
// stored value by digest, checked against it, and false when it is not
// kept (never staged, or collected since).
type StoreStager interface {
	Store
	StageValue(ctx context.Context, ns, key string, value []byte) (string, error)
	Value(ctx context.Context, ns, key, digest string) ([]byte, bool, error)
}

// Store serves the store capability over namespaced keys (namespaces
// as [OwnStoreNamespace] and [SharedStoreNamespace] name them; keys as
// the guest gives them). The node implements it on a JetStream KV
// bucket and wraps it to hold writes until the handler's event is
// durable (package replay); [NewMemoryStore] keeps keys in memory. ctx
// carries the calling handler's deadline.
type Store interface {
	// Get returns the key's entry, and false when it has none.
	Get(ctx context.Context, ns, key string) (StoreEntry, bool, error)
	// Keys returns the namespace's keys, sorted.
	Keys(ctx context.Context, ns string) ([]string, error)
	// Write applies w if its condition holds, and returns a
	// *[StoreConflict] if not.
	Write(ctx context.Context, w StoreWrite) error
}

// StoreConflict is a write whose condition does not hold: Revision is
// the key's revision (0 when it has no value).
type StoreConflict struct{ Revision uint64 }

func (e *StoreConflict) Error() string {
	return fmt.Sprintf("actor: store conflict: the key's revision is %d", e.Revision)
}

// StoreError is a store.error as the guest receives it: Case is
// "denied", "too-large", "budget", "conflict", "invalid" or "failed";
// Text the payload of denied, too-large, invalid and failed, N that of
// budget and conflict. A replayed call returns one as recorded.
type StoreError struct {
	Case string
	Text string
	N    uint64
}

func (e *StoreError) Error() string {
	switch e.Case {
	case "budget", "conflict":
		return fmt.Sprintf("actor: store %s: %d", e.Case, e.N)
	}
	return "actor: store " + e.Case + ": " + e.Text
}

// StoreErrorOf classifies err as the store.error case the guest gets.
func StoreErrorOf(err error) *StoreError {
	var se *StoreError
	var c *StoreConflict
	switch {
	case errors.As(err, &se):
		return se
	case errors.As(err, &c):
		return &StoreError{Case: "conflict", N: c.Revision}
	case errors.Is(err, ErrDenied):
		return &StoreError{Case: "denied", Text: err.Error()}
	case errors.Is(err, ErrTooLarge):
		return &StoreError{Case: "too-large", Text: err.Error()}
	}
	return &StoreError{Case: "failed", Text: err.Error()}
}

// storeTypes are the WIT types of store the host codes.
type storeTypes struct{ entry, cond, err wit.Type }

var loadStoreTypes = sync.OnceValues(func() (*storeTypes, error) {
	a, err := abi.Load()
	if err != nil {
		return nil, err
	}
	var ts storeTypes
	for name, p := range map[string]*wit.Type{"entry": &ts.entry, "condition": &ts.cond, "error": &ts.err} {
		t, ok := a.Type("store", name)
		if !ok {
			return nil, fmt.Errorf("actor: %w: no store.%s type", abi.ErrWIT, name)
		}
		*p = t
	}
	return &ts, nil
})

// EncodeStoreEntry writes the msgpack of an option<store.entry>: nil
// when found is false. It writes the canonical form (fields in WIT
// order, smallest headers and integers) directly: a get's answer is on
// the hot path, and the codec's generic walk cost more than the rest of
// the host call.
func EncodeStoreEntry(e StoreEntry, found bool) ([]byte, error) {
	if !found {
		return []byte{0xc0}, nil
	}
	var buf bytes.Buffer
	buf.Grow(len(e.Value) + 32)
	enc := msgpack.NewEncoder(&buf)
	// Writes to a bytes.Buffer do not fail.
	_ = enc.EncodeMapLen(2)
	_ = enc.EncodeString("value")
	_ = enc.EncodeBytes(nonNil(e.Value))
	_ = enc.EncodeString("revision")
	_ = enc.EncodeUint(e.Revision)
	return buf.Bytes(), nil
}

// DecodeStoreEntry reads the msgpack of an option<store.entry>.
func DecodeStoreEntry(b []byte) (StoreEntry, bool, error) {
	if len(b) == 1 && b[0] == 0xc0 {
		return StoreEntry{}, false, nil
	}
	ts, err := loadStoreTypes()
	if err != nil {
		return StoreEntry{}, false, err
	}
	v, err := codec.Unmarshal(ts.entry, b)
	if err != nil {
		return StoreEntry{}, false, fmt.Errorf("actor: store entry: %w: %w", ErrInvalidMessage, err)
	}
	rec := v.(map[string]any)
	return StoreEntry{Value: rec["value"].([]byte), Revision: rec["revision"].(uint64)}, true, nil
}

// EncodeStoreKeys writes the msgpack of a list<string>.
func EncodeStoreKeys(keys []string) []byte {
	b, _ := msgpack.Marshal(nonNilStrings(keys)) // strings always encode
	return b
}

// DecodeStoreKeys reads the msgpack of a list<string>.
func DecodeStoreKeys(b []byte) ([]string, error) {
	v, err := codec.Unmarshal(keysType, b)
	if err != nil {
		return nil, fmt.Errorf("actor: store keys: %w: %w", ErrInvalidMessage, err)
	}
	list := v.([]any)
	keys := make([]string, len(list))
	for k, s := range list {
		keys[k] = s.(string)
	}
	return keys, nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// EncodeStoreCondition writes the msgpack of a store.condition.
func EncodeStoreCondition(c StoreCondition) ([]byte, error) {
	ts, err := loadStoreTypes()
	if err != nil {
		return nil, err
	}
	switch c.Kind {
	case StoreAlways:
		return codec.Marshal(ts.cond, codec.Variant{Case: "always"})
	case StoreAbsent:
		return codec.Marshal(ts.cond, codec.Variant{Case: "absent"})
	case StoreIfRevision:
		return codec.Marshal(ts.cond, codec.Variant{Case: "revision", Value: c.Revision})
	}
	return nil, fmt.Errorf("actor: store condition: %w: kind %d", ErrInvalidMessage, c.Kind)
}

// DecodeStoreCondition reads the msgpack of a store.condition.
func DecodeStoreCondition(b []byte) (StoreCondition, error) {
	ts, err := loadStoreTypes()
	if err != nil {
		return StoreCondition{}, err
	}
	v, err := codec.Unmarshal(ts.cond, b)
	if err != nil {
		return StoreCondition{}, fmt.Errorf("actor: store condition: %w: %w", ErrInvalidMessage, err)
	}
	switch vr := v.(codec.Variant); vr.Case {
	case "absent":
		return StoreCondition{Kind: StoreAbsent}, nil
	case "revision":
		return StoreCondition{Kind: StoreIfRevision, Revision: vr.Value.(uint64)}, nil
	}
	return StoreCondition{Kind: StoreAlways}, nil
}

// EncodeStoreError writes e as the msgpack of a store.error.
func EncodeStoreError(e *StoreError) ([]byte, error) {
	ts, err := loadStoreTypes()
	if err != nil {
		return nil, err
	}
	v := codec.Variant{Case: e.Case, Value: e.Text}
	switch e.Case {
	case "budget":
		v.Value = uint32(min(e.N, 1<<32-1))
	case "conflict":
		v.Value = e.N
	}
	return codec.Marshal(ts.err, v)
}

// DecodeStoreError reads the msgpack of a store.error.
func DecodeStoreError(b []byte) (*StoreError, error) {
	ts, err := loadStoreTypes()
	if err != nil {
		return nil, err
	}
	v, err := codec.Unmarshal(ts.err, b)
	if err != nil {
		return nil, fmt.Errorf("actor: store error: %w: %w", ErrInvalidMessage, err)
	}
	vr := v.(codec.Variant)
	e := &StoreError{Case: vr.Case}
	switch x := vr.Value.(type) {
	case string:
		e.Text = x
	case uint32:
		e.N = uint64(x)
	case uint64:
		e.N = x
	}
	return e, nil
}

// ValidStoreKey reports whether key can be a store key: 1 to max bytes
// of [A-Za-z0-9_=/.-], with no empty dot-separated part (a KV key's
// rule, as a subject's tokens).
func ValidStoreKey(key string, max int) error {
	switch {
	case key == "":
		return errors.New("empty key")
	case len(key) > max:
		return &TooLargeError{Size: len(key), Limit: max}
	case key[0] == '.' || key[len(key)-1] == '.' || strings.Contains(key, ".."):
		return fmt.Errorf("key %q has an empty dot-separated part", key)
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_=/.", c) >= 0) {
			return fmt.Errorf("key %q: byte %d is not one of A-Z a-z 0-9 - _ = / .", key, i)
		}
	}
	return nil
}

// storeCall checks what every store import shares: the namespace (and
// the key, when key is not nil) are in memory and valid, the store is
// there, the handler's budget is not spent and the grant allows the
// access. ns is the namespace as the Store sees it.
func (i *instance) storeCall(ctx context.Context, nsP, nsL uint64, key []byte, write bool, retptr uint32) (ns string, st int32, done bool) {
	nsB, ok := i.bytesAt(nsP, nsL)
	_, ok2 := i.mem.Read(retptr, 8)
	switch {
	case !ok || !ok2:
		return "", abi.StatusFault, true
	case !utf8.Valid(nsB) || key != nil && !utf8.Valid(key):
		return "", abi.StatusInvalid, true
	case i.a.spec.Store == nil:
		return "", abi.StatusUnavailable, true
	}
	g := i.a.spec.StoreGrant.withDefaults()
	if i.storeOps++; i.storeOps > g.MaxOps {
		return "", storeErr(ctx, i, retptr, &StoreError{Case: "budget", N: uint64(g.MaxOps)}), true
	}
	name := string(nsB)
	switch {
	case name == "":
		ns = OwnStoreNamespace(i.a.spec.ID)
	case !manifest.ValidStoreNamespace(name):
		return "", storeErr(ctx, i, retptr, &StoreError{Case: "invalid", Text: fmt.Sprintf("namespace %q", name)}), true
	case slices.Contains(g.Write, name) || !write && slices.Contains(g.Read, name):
		ns = SharedStoreNamespace(name)
	default:
		what := "read"
		if write {
			what = "write"
		}
		return "", storeErr(ctx, i, retptr, &StoreError{Case: "denied", Text: fmt.Sprintf("%s namespace %q", what, name)}), true
	}
	if key != nil {
		if err := ValidStoreKey(string(key), g.MaxKeyBytes); err != nil {
			c := "invalid"
			if errors.Is(err, ErrTooLarge) {
				c = "too-large"
			}
			return "", storeErr(ctx, i, retptr, &StoreError{Case: c, Text: err.Error()}), true
		}
	}
	return ns, abi.StatusOK, false
}

// store.get(ns_ptr, ns_len, key_ptr, key_len, retptr)
func hostStoreGet(ctx context.Context, i *instance, stack []uint64) int32 {
	key, ok := i.bytesAt(stack[2], stack[3])
	retptr := uint32(stack[4])
	if !ok {
		return abi.StatusFault
	}
	ns, st, done := i.storeCall(ctx, stack[0], stack[1], key, false, retptr)
	if done {
		return st
	}
	e, found, err := i.a.spec.Store.Get(ctx, ns, string(key))
	if err != nil {
		return storeErr(ctx, i, retptr, StoreErrorOf(err))
	}
	return storeGive(ctx, i, retptr, func() ([]byte, error) { return EncodeStoreEntry(e, found) })
}

// store.put(ns_ptr, ns_len, key_ptr, key_len, value_ptr, value_len, cond_ptr, cond_len, retptr)
func hostStorePut(ctx context.Context, i *instance, stack []uint64) int32 {
	return storeWrite(ctx, i, stack[:4], stack[4:6], stack[6], stack[7], uint32(stack[8]))
}

// store.delete(ns_ptr, ns_len, key_ptr, key_len, cond_ptr, cond_len, retptr)
func hostStoreDelete(ctx context.Context, i *instance, stack []uint64) int32 {
	return storeWrite(ctx, i, stack[:4], nil, stack[4], stack[5], uint32(stack[6]))
}

// storeWrite is put (value is value_ptr, value_len) and delete (value
// nil); nsKey is ns_ptr, ns_len, key_ptr, key_len.
func storeWrite(ctx context.Context, i *instance, nsKey, value []uint64, condP, condL uint64, retptr uint32) int32 {
	key, ok := i.bytesAt(nsKey[2], nsKey[3])
	condB, ok2 := i.bytesAt(condP, condL)
	var val []byte
	ok3 := true
	if value != nil {
		val, ok3 = i.bytesAt(value[0], value[1])
	}
	if !ok || !ok2 || !ok3 {
		return abi.StatusFault
	}
	if len(val) > i.a.spec.Limits.MaxMessageSize || len(condB) > i.a.spec.Limits.MaxMessageSize {
		return abi.StatusTooLarge
	}
	ns, st, done := i.storeCall(ctx, nsKey[0], nsKey[1], key, true, retptr)
	if done {
		return st
	}
	cond, err := DecodeStoreCondition(condB)
	if err != nil {
		return storeErr(ctx, i, retptr, &StoreError{Case: "invalid", Text: err.Error()})
	}
	if limit := i.a.spec.StoreGrant.withDefaults().MaxValueBytes; len(val) > limit {
		return storeErr(ctx, i, retptr, &StoreError{Case: "too-large", Text: (&TooLargeError{Size: len(val), Limit: limit}).Error()})
	}
	// val is a view of guest memory: the Store copies what it keeps.
	w := StoreWrite{Namespace: ns, Key: string(key), Value: val, Delete: value == nil, Cond: cond}
	if err := i.a.spec.Store.Write(ctx, w); err != nil {
		return storeErr(ctx, i, retptr, StoreErrorOf(err))
	}
	return abi.StatusOK
}

// store.list-keys(ns_ptr, ns_len, retptr)
func hostStoreKeys(ctx context.Context, i *instance, stack []uint64) int32 {
	retptr := uint32(stack[2])
	ns, st, done := i.storeCall(ctx, stack[0], stack[1], nil, false, retptr)
	if done {
		return st
	}
	keys, err := i.a.spec.Store.Keys(ctx, ns)
	if err != nil {
		return storeErr(ctx, i, retptr, StoreErrorOf(err))
	}
	return storeGive(ctx, i, retptr, func() ([]byte, error) { return EncodeStoreKeys(keys), nil })
}

// storeGive writes an ok result, or too-large when it is over the
// actor's message limit.
func storeGive(ctx context.Context, i *instance, retptr uint32, enc func() ([]byte, error)) int32 {
	data, err := enc()
	if err == nil && len(data) > i.a.spec.Limits.MaxMessageSize {
		err = &TooLargeError{Size: len(data), Limit: i.a.spec.Limits.MaxMessageSize}
	}
	if err != nil {
		return storeErr(ctx, i, retptr, StoreErrorOf(err))
	}
	return i.give(ctx, data, retptr)
}

// storeErr writes e at retptr and returns status 1.
func storeErr(ctx context.Context, i *instance, retptr uint32, e *StoreError) int32 {
	data, err := EncodeStoreError(e)
	if err != nil {
		return abi.StatusUnavailable // the WIT and this code disagree: a host defect
	}
	if st := i.give(ctx, data, retptr); st != abi.StatusOK {
		return st
	}
	return abi.StatusErr
}

var keysType = &wit.TypeDef{Kind: &wit.List{Elem: wit.String}}
