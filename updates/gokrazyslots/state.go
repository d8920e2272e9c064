package gokrazyslots

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/chatsecure/box/config/atomicfile"
	"github.com/chatsecure/box/updates"
)

// StateFile is the state file's name in the state directory.
const StateFile = "slots.json"

// TrialState is what the boot chain does not record itself: each slot's
// release, which slot is on trial and how often it booted. The tryboot
// driver keeps the same record in its own file.
type TrialState struct {
	Trial      string                      `json:"trial,omitempty"` // slot marked for or running its trial
	TrialBoots int                         `json:"trial_boots"`
	Slots      map[string]updates.SlotInfo `json:"slots"`
}

type state = TrialState

func (s *Slots) statePath() string { return filepath.Join(s.cfg.Dir, StateFile) }

func (s *Slots) load() (state, error) {
	st, err := LoadTrialState(s.statePath())
	if err != nil {
		return state{}, fmt.Errorf("gokrazyslots: %w", err)
	}
	return st, nil
}

func (s *Slots) save(st state) error {
	if err := SaveTrialState(s.statePath(), st); err != nil {
		return fmt.Errorf("gokrazyslots: %w", err)
	}
	return nil
}

// LoadTrialState reads a state file; a missing one is the empty state.
func LoadTrialState(path string) (TrialState, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return TrialState{Slots: map[string]updates.SlotInfo{}}, nil
	}
	if err != nil {
		return TrialState{}, err
	}
	var st TrialState
	if err := json.Unmarshal(b, &st); err != nil {
		return TrialState{}, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	if st.Trial != "" && st.Trial != "A" && st.Trial != "B" || st.TrialBoots < 0 {
		return TrialState{}, fmt.Errorf("%s: bad trial %q (%d boots)", filepath.Base(path), st.Trial, st.TrialBoots)
	}
	if st.Slots == nil {
		st.Slots = map[string]updates.SlotInfo{}
	}
	return st, nil
}

// SaveTrialState writes a state file atomically.
func SaveTrialState(path string, st TrialState) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o644)
}
