package permtime

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// SystemClock is the kernel's CLOCK_REALTIME. Setting it needs root
// (CAP_SYS_TIME), which the box's init has.
type SystemClock struct{}

// Now returns the wall clock time.
func (SystemClock) Now() time.Time { return time.Now() }

// Set sets the wall clock.
func (SystemClock) Set(t time.Time) error {
	ts := unix.NsecToTimespec(t.UnixNano())
	if err := unix.ClockSettime(unix.CLOCK_REALTIME, &ts); err != nil {
		return fmt.Errorf("permtime: clock_settime: %w", err)
	}
	return nil
}
