package gpio

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultShortPress is the hold of a FakeButton press when none is given: a
// clear short press (identify, or confirming a reset).
const DefaultShortPress = 200 * time.Millisecond

// FakeButton is the dev-mode button: no pin, pressed from code (boxctl's
// `button press` through the admin API). It runs the same debouncing and
// gesture rules as a real Button, on the given clock.
type FakeButton struct {
	s       *sampler
	debnc   time.Duration
	pressed atomic.Bool
	busy    sync.Mutex // one press at a time, as with a finger
}

// NewFakeButton makes a released fake button.
func NewFakeButton(o ButtonOptions) (*FakeButton, error) {
	f := &FakeButton{}
	s, err := newSampler(o, f.pressed.Load)
	if err != nil {
		return nil, fmt.Errorf("gpio: fake button: %w", err)
	}
	f.s, f.debnc = s, s.debnc
	return f, nil
}

// Press holds the button down for hold (DefaultShortPress if zero) and lets
// go, blocking until the release has been debounced and its event, if any,
// delivered. Events on the way (reset-armed at 10 s) are delivered while it
// waits. If ctx ends first the button is released at once and ctx's error
// returned. A hold shorter than the debounce time is refused: a real button
// would ignore it too.
func (f *FakeButton) Press(ctx context.Context, hold time.Duration) error {
	if hold == 0 {
		hold = DefaultShortPress
	}
	if hold < f.debnc {
		return fmt.Errorf("gpio: fake button: hold %v is shorter than the debounce time %v and would be ignored", hold, f.debnc)
	}
	if !f.busy.TryLock() {
		return fmt.Errorf("gpio: fake button: already being pressed")
	}
	defer f.busy.Unlock()

	done := make(chan struct{})
	var once sync.Once
	release := func() {
		once.Do(func() {
			f.pressed.Store(false)
			f.s.sample(true)
			// One debounce later the release counts; sample then
			// ourselves so Press returns after its event.
			f.s.clk.AfterFunc(f.debnc, func() {
				f.s.sample(false)
				close(done)
			})
		})
	}
	f.pressed.Store(true)
	f.s.sample(true)
	t := f.s.clk.AfterFunc(hold, release)
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		if t.Stop() {
			release()
		}
		<-done
		return fmt.Errorf("gpio: fake button: press cut short: %w", ctx.Err())
	}
}

// Pressed reports whether the fake button is held down right now.
func (f *FakeButton) Pressed() bool { return f.pressed.Load() }

// Close stops the button's timers; no event is delivered after it returns.
func (f *FakeButton) Close() error {
	f.s.close()
	return nil
}
