package tryboot

import (
	"fmt"
	"path/filepath"

	"github.com/chatsecure/box/updates/gokrazyslots"
)

// StateFile is the state file's name in the state directory.
const StateFile = "tryboot.json"

// state is what the firmware does not record: each slot's release, which
// slot is on trial and how often it booted (the same record as
// gokrazyslots', in a file of its own).
type state = gokrazyslots.TrialState

func (s *Slots) statePath() string { return filepath.Join(s.cfg.Dir, StateFile) }

func (s *Slots) load() (state, error) {
	st, err := gokrazyslots.LoadTrialState(s.statePath())
	if err != nil {
		return state{}, fmt.Errorf("tryboot: %w", err)
	}
	return st, nil
}

func (s *Slots) save(st state) error {
	if err := gokrazyslots.SaveTrialState(s.statePath(), st); err != nil {
		return fmt.Errorf("tryboot: %w", err)
	}
	return nil
}
