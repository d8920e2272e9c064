package updates

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/chatsecure/box/updates/trust"
)

// Config is what the appliance gives New.
type Config struct {
	Target  string // "pi" or "amd64": what this box is
	Slots   Slots
	Floor   Floor
	Trust   TrustStore
	History History
	// Root is the set trusted before any rotation; New uses the embedded
	// trust.Root() when it is zero.
	Root trust.Set
	// Now is the clock for history records; time.Now when nil.
	Now func() time.Time
}

// An Updater verifies and applies bundles and runs the trial-boot cycle.
// It is safe for concurrent use; one apply runs at a time.
type Updater struct {
	cfg   Config
	apply sync.Mutex
	state sync.Mutex // orders Boot, Commit, Abandon and the end of Apply
}

// New checks the config and returns an Updater.
func New(cfg Config) (*Updater, error) {
	if cfg.Slots == nil || cfg.Floor == nil || cfg.Trust == nil || cfg.History == nil {
		return nil, errors.New("updates: Slots, Floor, Trust and History are required")
	}
	if cfg.Target != "pi" && cfg.Target != "amd64" {
		return nil, fmt.Errorf("updates: target %q, want pi or amd64", cfg.Target)
	}
	if len(cfg.Root.Keys) == 0 {
		root, err := trust.Root()
		if err != nil {
			return nil, fmt.Errorf("updates: %w", err)
		}
		cfg.Root = root
	}
	if err := cfg.Root.Validate(); err != nil {
		return nil, fmt.Errorf("updates: root set: %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Updater{cfg: cfg}, nil
}

// TrustedSet returns the key set the box trusts now.
func (u *Updater) TrustedSet() (trust.Set, error) {
	s, ok, err := u.cfg.Trust.Get()
	if err != nil {
		return trust.Set{}, fmt.Errorf("updates: trusted set: %w", err)
	}
	if !ok || s.Seq < u.cfg.Root.Seq {
		return u.cfg.Root, nil
	}
	return s, nil
}

// Status is what boxctl and the console show.
type Status struct {
	Slots    SlotState `json:"slots"`
	Floor    uint64    `json:"floor"`
	KeySet   uint64    `json:"key_set"`
	Running  SlotInfo  `json:"running"`
	Inactive string    `json:"inactive"`
}

// Status reports slots, floor and key set.
func (u *Updater) Status() (Status, error) {
	st, err := u.cfg.Slots.State()
	if err != nil {
		return Status{}, fmt.Errorf("updates: status: %w", err)
	}
	floor, err := u.cfg.Floor.Get()
	if err != nil {
		return Status{}, fmt.Errorf("updates: status: floor: %w", err)
	}
	set, err := u.TrustedSet()
	if err != nil {
		return Status{}, err
	}
	return Status{Slots: st, Floor: floor, KeySet: set.Seq, Running: st.Slots[st.Booted], Inactive: st.Inactive()}, nil
}

// RotateKeys accepts a standalone rotation statement (e.g. from the
// console) signed by the current set at its threshold.
func (u *Updater) RotateKeys(statement []byte) (trust.Set, error) {
	r, err := trust.ParseRotation(statement)
	if err != nil {
		return trust.Set{}, fmt.Errorf("updates: %w", err)
	}
	cur, err := u.TrustedSet()
	if err != nil {
		return trust.Set{}, err
	}
	next, err := cur.Rotate(r)
	if err != nil {
		return trust.Set{}, fmt.Errorf("updates: %w", err)
	}
	if err := u.cfg.Trust.Put(next); err != nil {
		return trust.Set{}, fmt.Errorf("updates: store key set %d: %w", next.Seq, err)
	}
	u.record(Record{Outcome: KeyRotated, Why: fmt.Sprintf("key set %d -> %d", cur.Seq, next.Seq)})
	return next, nil
}

// record appends to the history; a history failure must not undo an
// update that happened, so it is only returned where nothing else is.
func (u *Updater) record(r Record) error {
	r.When = u.cfg.Now()
	if err := u.cfg.History.Append(r); err != nil {
		return fmt.Errorf("updates: history: %w", err)
	}
	return nil
}
