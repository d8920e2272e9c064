package updatestest

import (
	"fmt"
	"slices"
	"sync"

	"github.com/chatsecure/box/updates"
	"github.com/chatsecure/box/updates/trust"
)

// Floor is an in-memory anti-rollback floor that, like a TPM NV counter,
// only goes up.
type Floor struct {
	mu sync.Mutex
	n  uint64
}

var _ updates.Floor = (*Floor)(nil)

// Get returns the floor.
func (f *Floor) Get() (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n, nil
}

// Raise sets the floor to n if n is higher.
func (f *Floor) Raise(n uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n = max(f.n, n)
	return nil
}

// TrustStore keeps the rotated key set in memory and refuses to go back.
type TrustStore struct {
	mu  sync.Mutex
	set trust.Set
	ok  bool
}

var _ updates.TrustStore = (*TrustStore)(nil)

// Get returns the stored set.
func (t *TrustStore) Get() (trust.Set, bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.set, t.ok, nil
}

// Put stores a newer set.
func (t *TrustStore) Put(s trust.Set) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ok && s.Seq <= t.set.Seq {
		return fmt.Errorf("updatestest: key set %d is not newer than %d", s.Seq, t.set.Seq)
	}
	t.set, t.ok = s, true
	return nil
}

// History keeps records in memory.
type History struct {
	mu   sync.Mutex
	recs []updates.Record
}

var _ updates.History = (*History)(nil)

// Append adds a record.
func (h *History) Append(r updates.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r)
	return nil
}

// Records returns a copy of all records, oldest first.
func (h *History) Records() []updates.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.recs)
}

// Last returns the newest record (zero when empty).
func (h *History) Last() updates.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.recs) == 0 {
		return updates.Record{}
	}
	return h.recs[len(h.recs)-1]
}
