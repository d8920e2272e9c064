package appliance

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/chatsecure/box/tpm"
	"github.com/chatsecure/box/updates"
)

// floorPair is the anti-rollback floor of a box with a TPM: the store's copy
// and the TPM NV counter (tpm.NVFloor). A factory reset crypto-erases the
// store and with it the store's copy; the counter stays, so an old, validly
// signed bundle is still refused afterwards. Get is the higher of the two;
// Raise raises the TPM first, so a crash in between leaves the TPM ahead of
// the store, never behind it.
type floorPair struct {
	store updates.Floor
	tpm   tpm.Floor
	log   *slog.Logger
}

var _ updates.Floor = floorPair{}

// Get fails when either copy cannot be read: without the TPM's answer the
// floor might be too low, so updates are refused rather than risked.
func (f floorPair) Get() (uint64, error) {
	t, err := f.tpm.Get()
	if err != nil {
		return 0, fmt.Errorf("TPM floor: %w", err)
	}
	s, err := f.store.Get()
	if err != nil {
		return 0, fmt.Errorf("store floor: %w", err)
	}
	return max(s, t), nil
}

// Raise raises both. A TPM counter that stopped short at its step bound
// (build numbers that jump) is not an error for the commit: the store has
// the full value, the TPM catches up on later commits, and the log says so.
func (f floorPair) Raise(n uint64) error {
	err := f.tpm.Raise(n)
	switch {
	case errors.Is(err, tpm.ErrFloorStep):
		f.log.Warn("updates: the TPM floor rose only part of the way (build numbers should count releases); until it catches up, a factory reset lowers the floor to it", "build", n, "err", err)
	case err != nil:
		return fmt.Errorf("TPM floor: %w", err)
	}
	if err := f.store.Raise(n); err != nil {
		return fmt.Errorf("store floor: %w", err)
	}
	return nil
}

// sync brings each copy up to the other: the TPM up to the store on a box
// that had only the store floor before, the store up to the TPM after a
// factory reset. It writes nothing when they agree (every normal boot).
func (f floorPair) sync() {
	t, terr := f.tpm.Get()
	s, serr := f.store.Get()
	if terr != nil || serr != nil {
		f.log.Warn("updates: cannot compare the TPM and store floors", "tpm_err", terr, "store_err", serr)
		return
	}
	switch {
	case t < s:
		f.log.Info("updates: raising the TPM floor to the store's", "tpm", t, "store", s)
		if err := f.tpm.Raise(s); err != nil {
			f.log.Warn("updates: raise the TPM floor", "err", err)
		}
	case s < t:
		f.log.Info("updates: the store floor is below the TPM's (factory reset?); raising it", "tpm", t, "store", s)
		if err := f.store.Raise(t); err != nil {
			f.log.Warn("updates: raise the store floor", "err", err)
		}
	}
}

// floorSource is a sealer that can keep the floor on its TPM (tpm.TPM2,
// and namedSealer around it).
type floorSource interface{ Floor() *tpm.NVFloor }

// The image's sealer must keep finding its floor.
var _ floorSource = namedSealer{}

// updateFloor is the floor for setupUpdates: store and TPM when the sealer
// is a TPM, the store alone otherwise (dev mode's software sealer), which a
// factory reset lowers; that is logged once per process. s.mu held.
func (s *System) updateFloor() updates.Floor {
	store := storeFloor{s}
	src, ok := s.sealer.(floorSource)
	if !ok {
		if !s.slotsBooted {
			s.log.Warn("updates: anti-rollback floor kept in the store only (no TPM): a factory reset lowers it", "sealer", sealerName(s.sealer))
		}
		return store
	}
	f := floorPair{store: store, tpm: src.Floor(), log: s.log}
	f.sync()
	return f
}
