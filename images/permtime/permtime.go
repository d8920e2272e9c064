package permtime

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Clock reads and sets the wall clock.
type Clock interface {
	Now() time.Time
	Set(time.Time) error
}

// Store keeps the last known time. Load returns ErrNoTime when nothing was
// stored yet.
type Store interface {
	Load() (time.Time, error)
	Save(time.Time) error
}

// ErrNoTime means the store holds no time yet (first boot).
var ErrNoTime = errors.New("permtime: no stored time")

// Restore moves c forward to the stored time if c is behind it, and reports
// whether it did. A clock ahead of the stored time is left alone.
func Restore(c Clock, s Store) (bool, error) {
	last, err := s.Load()
	if errors.Is(err, ErrNoTime) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("permtime: restore: %w", err)
	}
	if !c.Now().Before(last) {
		return false, nil
	}
	if err := c.Set(last); err != nil {
		return false, fmt.Errorf("permtime: restore: set clock to %s: %w", last.Format(time.RFC3339), err)
	}
	return true, nil
}

// Save stores c's time unless the store already holds a later one, so a
// clock that was set backwards never lowers the floor.
func Save(c Clock, s Store) error {
	now := c.Now()
	last, err := s.Load()
	if err != nil && !errors.Is(err, ErrNoTime) {
		return fmt.Errorf("permtime: save: %w", err)
	}
	if err == nil && !now.After(last) {
		return nil
	}
	if err := s.Save(now); err != nil {
		return fmt.Errorf("permtime: save: %w", err)
	}
	return nil
}

// Keep saves the time on every tick until ctx ends, then once more. It
// returns the first save error after trying them all, so one bad write does
// not stop later ones.
func Keep(ctx context.Context, c Clock, s Store, tick <-chan time.Time) error {
	var first error
	note := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	for {
		select {
		case <-ctx.Done():
			note(Save(c, s))
			return first
		case <-tick:
			note(Save(c, s))
		}
	}
}
