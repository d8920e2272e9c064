package gokrazyslots

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/chatsecure/box/updates"
)

// The pieces below are the same for this driver and updates/tryboot: both
// keep a TrialState file and a staged boot payload in a state directory
// and write roots to partitions 2 and 3; they differ in the boot pointer.

// StagedBootFile holds a boot payload between OpenInactive and MarkTrial.
const StagedBootFile = "boot-next.img"

// PrepareDir makes the state directory and drops a boot payload staged by
// an apply that was interrupted.
func PrepareDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(dir, StagedBootFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// OpenInactive opens where payload goes for the slots in ss: the inactive
// root partition, or for "boot" a fresh staging file in dir (staged is
// then true). A slot marked for a trial or running now is refused.
func OpenInactive(ss updates.SlotState, d Disk, dir, payload string) (p updates.Partition, staged bool, err error) {
	inactive := ss.Inactive()
	if ss.Trial == inactive {
		return nil, false, fmt.Errorf("slot %s is marked for a trial boot", inactive)
	}
	if ss.Booted == inactive {
		return nil, false, fmt.Errorf("slot %s is the running system", inactive)
	}
	if payload == "boot" {
		f, err := os.OpenFile(filepath.Join(dir, StagedBootFile), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return nil, false, fmt.Errorf("stage boot: %w", err)
		}
		return f, true, nil
	}
	f, err := d.Open(partOf(inactive))
	if err != nil {
		return nil, false, err
	}
	return f, false, nil
}
