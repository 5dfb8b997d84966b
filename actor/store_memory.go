package actor

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// MemoryStore is a [Store] in memory, for embedded actors and tests: one
// revision counter for all its keys, as a KV bucket has, and writes
// applied at once. IDs make a write applied again a no-op, as the
// bucket's duplicate window does. Staged large values are kept until
// the store is dropped. The zero value is not usable; use
// [NewMemoryStore].
type MemoryStore struct {
	mu      sync.Mutex
	rev     uint64
	entries map[string]StoreEntry // by namespace + "." + key
	applied map[string]bool       // write ids
	staged  map[string][]byte     // large values by namespace + "." + key + "/" + digest
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{entries: map[string]StoreEntry{}, applied: map[string]bool{}, staged: map[string][]byte{}}
}

// Get returns the key's entry.
func (s *MemoryStore) Get(_ context.Context, ns, key string) (StoreEntry, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[ns+"."+key]
	e.Value = slices.Clone(e.Value)
	return e, ok, nil
}

// Keys returns the namespace's keys, sorted.
func (s *MemoryStore) Keys(_ context.Context, ns string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := []string{}
	for k := range s.entries {
		if rest, ok := strings.CutPrefix(k, ns+"."); ok {
			keys = append(keys, rest)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// Write applies w if its condition holds.
func (s *MemoryStore) Write(_ context.Context, w StoreWrite) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w.ID != "" && s.applied[w.ID] {
		return nil
	}
	k := w.Namespace + "." + w.Key
	cur, ok := s.entries[k]
	switch {
	case w.Cond.Kind == StoreAbsent && ok,
		w.Cond.Kind == StoreIfRevision && cur.Revision != w.Cond.Revision:
		return &StoreConflict{Revision: cur.Revision}
	}
	if w.Digest != "" && !w.Delete {
		v, ok := s.staged[k+"/"+w.Digest]
		if !ok {
			return fmt.Errorf("actor: store: %w: value %s of %s was not staged", ErrInvalidMessage, w.Digest, k)
		}
		w.Value = v
	}
	if w.ID != "" {
		s.applied[w.ID] = true
	}
	s.rev++
	if w.Delete {
		delete(s.entries, k)
		return nil
	}
	s.entries[k] = StoreEntry{Value: slices.Clone(w.Value), Revision: s.rev}
	return nil
}

// StageValue keeps value for a later Write of its digest.
func (s *MemoryStore) StageValue(_ context.Context, ns, key string, value []byte) (string, error) {
	d := StoreDigest(value)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.staged[ns+"."+key+"/"+d] = slices.Clone(value)
	return d, nil
}

// Value returns a staged value.
func (s *MemoryStore) Value(_ context.Context, ns, key, digest string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.staged[ns+"."+key+"/"+digest]
	return slices.Clone(v), ok, nil
}
