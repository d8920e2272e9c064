package permtimetest

import (
	"sync"
	"time"

	"github.com/chatsecure/box/images/permtime"
)

// Clock is a settable fake clock.
type Clock struct {
	mu     sync.Mutex
	T      time.Time
	SetErr error
	Sets   int
}

// Now returns the fake time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.T }

// Set sets the fake time, or fails with SetErr.
func (c *Clock) Set(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.SetErr != nil {
		return c.SetErr
	}
	c.T = t
	c.Sets++
	return nil
}

// Advance moves the fake time forward by d.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.T = c.T.Add(d) }

// Store holds a time in memory; zero T means nothing stored.
type Store struct {
	mu      sync.Mutex
	T       time.Time
	LoadErr error
	SaveErr error
	Saves   int
}

// Load returns the stored time.
func (s *Store) Load() (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.LoadErr != nil {
		return time.Time{}, s.LoadErr
	}
	if s.T.IsZero() {
		return time.Time{}, permtime.ErrNoTime
	}
	return s.T, nil
}

// Save stores t, or fails with SaveErr.
func (s *Store) Save(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.SaveErr != nil {
		return s.SaveErr
	}
	s.T = t
	s.Saves++
	return nil
}

// Get returns the stored time and the number of saves.
func (s *Store) Get() (time.Time, int) { s.mu.Lock(); defer s.mu.Unlock(); return s.T, s.Saves }
