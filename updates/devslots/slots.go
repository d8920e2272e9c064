package devslots

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/chatsecure/box/config/atomicfile"
	"github.com/chatsecure/box/updates"
)

// Payloads are the partitions each slot has.
var Payloads = []string{"root", "boot"}

// StateFile is the boot pointer's file name in the data directory.
const StateFile = "state.json"

// MaxTrialBoots is how often a trial slot is booted without a commit before
// the next boot falls back.
const MaxTrialBoots = 1

// Slots is the file-backed A/B pair.
type Slots struct {
	dir      string
	capacity int64
	mu       sync.Mutex
}

var _ updates.Slots = (*Slots)(nil)

// Open opens (creating if needed) the slots under dir. A new directory
// starts with slot A active and holding initial; capacity bounds each
// partition file.
func Open(dir string, initial updates.SlotInfo, capacity int64) (*Slots, error) {
	if capacity <= 0 {
		return nil, errors.New("devslots: capacity must be positive")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("devslots: %w", err)
	}
	s := &Slots{dir: dir, capacity: capacity}
	if _, err := os.Stat(s.statePath()); errors.Is(err, os.ErrNotExist) {
		st := updates.SlotState{Active: "A", Booted: "A", Slots: map[string]updates.SlotInfo{"A": initial, "B": {}}}
		if err := s.save(st); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("devslots: %w", err)
	}
	for _, slot := range []string{"A", "B"} {
		for _, p := range Payloads {
			f, err := os.OpenFile(s.Path(slot, p), os.O_RDWR|os.O_CREATE, 0o644)
			if err != nil {
				return nil, fmt.Errorf("devslots: %w", err)
			}
			f.Close()
		}
	}
	if _, err := s.State(); err != nil {
		return nil, err
	}
	return s, nil
}

// Path is the file holding payload in slot ("A" or "B").
func (s *Slots) Path(slot, payload string) string {
	return filepath.Join(s.dir, payload+slot+".img")
}

func (s *Slots) statePath() string { return filepath.Join(s.dir, StateFile) }

// State reads the state file.
func (s *Slots) State() (updates.SlotState, error) {
	b, err := os.ReadFile(s.statePath())
	if err != nil {
		return updates.SlotState{}, fmt.Errorf("devslots: %w", err)
	}
	var st updates.SlotState
	if err := json.Unmarshal(b, &st); err != nil {
		return updates.SlotState{}, fmt.Errorf("devslots: %s: %w", StateFile, err)
	}
	ok := func(slot string, empty bool) bool { return slot == "A" || slot == "B" || empty && slot == "" }
	if !ok(st.Active, false) || !ok(st.Booted, false) || !ok(st.Trial, true) || st.Trial == st.Active {
		return updates.SlotState{}, fmt.Errorf("devslots: %s: inconsistent state %+v", StateFile, st)
	}
	if st.Slots == nil {
		st.Slots = map[string]updates.SlotInfo{}
	}
	return st, nil
}

func (s *Slots) save(st updates.SlotState) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("devslots: %w", err)
	}
	if err := atomicfile.WriteFile(s.statePath(), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("devslots: %w", err)
	}
	return nil
}

func (s *Slots) update(f func(*updates.SlotState) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.State()
	if err != nil {
		return err
	}
	if err := f(&st); err != nil {
		return err
	}
	return s.save(st)
}

// Capacity is the same for every known payload.
func (s *Slots) Capacity(payload string) (int64, error) {
	if !slices.Contains(Payloads, payload) {
		return 0, fmt.Errorf("devslots: no partition %q (have %v)", payload, Payloads)
	}
	return s.capacity, nil
}

// Required is every payload: root and boot of a slot go together.
func (s *Slots) Required() []string { return slices.Clone(Payloads) }

// OpenInactive opens and empties the inactive slot's file for payload.
func (s *Slots) OpenInactive(payload string) (updates.Partition, error) {
	if _, err := s.Capacity(payload); err != nil {
		return nil, err
	}
	st, err := s.State()
	if err != nil {
		return nil, err
	}
	if st.Trial == st.Inactive() {
		return nil, fmt.Errorf("devslots: slot %s is marked for a trial boot", st.Inactive())
	}
	f, err := os.OpenFile(s.Path(st.Inactive(), payload), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("devslots: %w", err)
	}
	return f, nil
}

// MarkTrial points the next boot at the inactive slot, once.
func (s *Slots) MarkTrial(info updates.SlotInfo) error {
	return s.update(func(st *updates.SlotState) error {
		if st.InTrial() {
			return fmt.Errorf("devslots: slot %s is running on trial", st.Booted)
		}
		st.Trial = st.Inactive()
		st.TrialBoots = 0
		st.Slots[st.Trial] = info
		return nil
	})
}

// ClearTrial points the next boot at the active slot.
func (s *Slots) ClearTrial() error {
	return s.update(func(st *updates.SlotState) error {
		st.Trial, st.TrialBoots = "", 0
		return nil
	})
}

// Boot plays the boot firmware: trial slot once, then back to active.
func (s *Slots) Boot() (updates.BootResult, error) {
	var res updates.BootResult
	err := s.update(func(st *updates.SlotState) error {
		res = updates.BootResult{}
		switch {
		case st.Trial != "" && st.TrialBoots < MaxTrialBoots:
			st.TrialBoots++
			st.Booted = st.Trial
		case st.Trial != "":
			res.FellBack, res.FromTrial = true, st.Trial
			st.Trial, st.TrialBoots = "", 0
			st.Booted = st.Active
		default:
			st.Booted = st.Active
		}
		res.State = *st
		return nil
	})
	return res, err
}

// Commit makes the booted trial slot active.
func (s *Slots) Commit() error {
	return s.update(func(st *updates.SlotState) error {
		if !st.InTrial() {
			return errors.New("devslots: commit: not running a trial")
		}
		st.Active = st.Booted
		st.Trial, st.TrialBoots = "", 0
		return nil
	})
}
