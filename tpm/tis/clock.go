package tis

import "time"

// A Clock tells time and sleeps between register polls. Tests inject a fake
// one so that spec timeouts (up to minutes) pass without waiting.
type Clock interface {
	Now() time.Time
	Sleep(d time.Duration)
}

type realClock struct{}

func (realClock) Now() time.Time        { return time.Now() }
func (realClock) Sleep(d time.Duration) { time.Sleep(d) }
