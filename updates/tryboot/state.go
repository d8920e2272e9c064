package tryboot

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
const StateFile = "tryboot.json"

// state is what the firmware does not record: each slot's release, which
// slot is on trial and how often it booted.
type state struct {
	Trial      string                      `json:"trial,omitempty"`
	TrialBoots int                         `json:"trial_boots"`
	Slots      map[string]updates.SlotInfo `json:"slots"`
}

func (s *Slots) statePath() string { return filepath.Join(s.cfg.Dir, StateFile) }

func (s *Slots) load() (state, error) {
	b, err := os.ReadFile(s.statePath())
	if errors.Is(err, os.ErrNotExist) {
		return state{Slots: map[string]updates.SlotInfo{}}, nil
	}
	if err != nil {
		return state{}, fmt.Errorf("tryboot: %w", err)
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return state{}, fmt.Errorf("tryboot: %s: %w", StateFile, err)
	}
	if st.Trial != "" && st.Trial != "A" && st.Trial != "B" || st.TrialBoots < 0 {
		return state{}, fmt.Errorf("tryboot: %s: bad trial %q (%d boots)", StateFile, st.Trial, st.TrialBoots)
	}
	if st.Slots == nil {
		st.Slots = map[string]updates.SlotInfo{}
	}
	return st, nil
}

func (s *Slots) save(st state) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("tryboot: %w", err)
	}
	if err := atomicfile.WriteFile(s.statePath(), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("tryboot: %w", err)
	}
	return nil
}
