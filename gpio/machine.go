package gpio

import (
	"fmt"
	"time"
)

// Timing holds the button's rules. DefaultTiming is what the manual
// promises; tests may shorten nothing, they use a fake clock instead.
type Timing struct {
	// Debounce: a level must hold this long to count; shorter blips are
	// contact bounce or noise.
	Debounce time.Duration
	// RebootHold: a press at least this long (and shorter than ResetHold)
	// asks for a reboot; shorter presses are short presses.
	RebootHold time.Duration
	// ResetHold: holding this long arms the factory reset.
	ResetHold time.Duration
	// ConfirmWindow: after the arming press is released, a short press
	// within this long confirms the reset.
	ConfirmWindow time.Duration
}

// DefaultTiming is the behaviour the README documents.
var DefaultTiming = Timing{
	Debounce:      30 * time.Millisecond,
	RebootHold:    5 * time.Second,
	ResetHold:     10 * time.Second,
	ConfirmWindow: 10 * time.Second,
}

// Validate rejects timings that would make gestures ambiguous.
func (t Timing) Validate() error {
	switch {
	case t.Debounce <= 0:
		return fmt.Errorf("gpio: button timing: debounce %v must be positive", t.Debounce)
	case t.RebootHold <= t.Debounce:
		return fmt.Errorf("gpio: button timing: reboot hold %v must exceed debounce %v", t.RebootHold, t.Debounce)
	case t.ResetHold <= t.RebootHold:
		return fmt.Errorf("gpio: button timing: reset hold %v must exceed reboot hold %v", t.ResetHold, t.RebootHold)
	case t.ConfirmWindow <= 0:
		return fmt.Errorf("gpio: button timing: confirm window %v must be positive", t.ConfirmWindow)
	}
	return nil
}

// EventKind is what a gesture on the button asked for.
type EventKind string

// The button's events.
const (
	// EventIdentify: a short press (shorter than RebootHold).
	EventIdentify EventKind = "identify"
	// EventReboot: released after RebootHold but before ResetHold.
	EventReboot EventKind = "reboot"
	// EventResetArmed: held for ResetHold; sent while still held, so the
	// LED can show reset-armed before the finger comes off.
	EventResetArmed EventKind = "reset-armed"
	// EventResetConfirmed: a short press within ConfirmWindow of releasing
	// the arming press. Erase now.
	EventResetConfirmed EventKind = "reset-confirmed"
	// EventResetCancelled: the window passed, or the second press was long.
	EventResetCancelled EventKind = "reset-cancelled"
)

// Event is one button event.
type Event struct {
	Kind EventKind
	// At is when the gesture completed: release time, or the moment a hold
	// threshold or the window ran out.
	At time.Time
	// Held is how long the press lasted (zero for a timeout).
	Held time.Duration
	// Reason says why a reset was cancelled: "timeout" or "long press".
	Reason string
}

func (e Event) String() string {
	s := string(e.Kind)
	if e.Held > 0 {
		s += fmt.Sprintf(" (held %v)", e.Held)
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

type phase int

const (
	phaseIdle       phase = iota // released, nothing pending
	phasePressed                 // held, not yet ResetHold
	phaseArmedHeld               // held past ResetHold
	phaseArmed                   // released after arming; window open
	phaseConfirming              // second press inside the window
	phaseIgnore                  // held, but this press means nothing (boot, cancelled): wait for release
)

// Machine turns (time, level) samples of the button into events. It is pure:
// no clock, no goroutines; the caller feeds it samples (on every edge, on
// every poll, and at Deadline) and acts on what it returns.
//
// Debouncing: a level change counts once it has held for Debounce, and then
// dates from its first sample, so hold times are not stretched by the
// debounce delay. While a change is pending, time-based rules wait for it to
// settle: a release 1 ms before the reset threshold is a reboot even if the
// sample that confirms it comes later.
type Machine struct {
	tm Timing

	stable   bool // debounced level: true = pressed
	raw      bool
	rawSince time.Time
	last     time.Time // time rules have been applied up to

	ph        phase
	pressedAt time.Time
	windowEnd time.Time
}

// NewMachine starts a machine at now with the button's current level. A
// button already pressed then is ignored until released, so a stuck or held
// button at boot does nothing.
func NewMachine(tm Timing, now time.Time, pressed bool) (*Machine, error) {
	if err := tm.Validate(); err != nil {
		return nil, err
	}
	m := &Machine{tm: tm, stable: pressed, raw: pressed, rawSince: now, last: now}
	if pressed {
		m.ph = phaseIgnore
	}
	return m, nil
}

// Update feeds one sample: at now the button is pressed or not. Samples must
// come in time order; an earlier time is treated as now = last sample.
func (m *Machine) Update(now time.Time, pressed bool) []Event {
	if now.Before(m.last) {
		now = m.last
	}
	if pressed != m.raw {
		m.raw, m.rawSince = pressed, now
	}
	var evs []Event
	if m.raw != m.stable {
		// Rules may run up to the start of the pending change: until then
		// the old level held for sure.
		evs = m.advance(m.rawSince, evs)
		if now.Sub(m.rawSince) < m.tm.Debounce {
			return evs
		}
		m.stable = m.raw
		evs = m.transition(m.rawSince, evs)
	}
	return m.advance(now, evs)
}

// Deadline is when the machine next needs a sample even if the level does
// not change; ok is false when only a level change can matter.
func (m *Machine) Deadline() (t time.Time, ok bool) {
	if m.raw != m.stable {
		return m.rawSince.Add(m.tm.Debounce), true
	}
	switch m.ph {
	case phasePressed:
		return m.pressedAt.Add(m.tm.ResetHold), true
	case phaseArmed:
		return m.windowEnd, true
	case phaseConfirming:
		return m.pressedAt.Add(m.tm.RebootHold), true
	}
	return time.Time{}, false
}

// Pressed is the debounced level.
func (m *Machine) Pressed() bool { return m.stable }

// Armed reports whether a factory reset is armed (held past ResetHold, or
// waiting for the confirming press).
func (m *Machine) Armed() bool {
	return m.ph == phaseArmedHeld || m.ph == phaseArmed || m.ph == phaseConfirming
}

// advance applies the time rules up to t.
func (m *Machine) advance(t time.Time, evs []Event) []Event {
	if t.Before(m.last) {
		return evs
	}
	m.last = t
	switch m.ph {
	case phasePressed:
		if at := m.pressedAt.Add(m.tm.ResetHold); !t.Before(at) {
			m.ph = phaseArmedHeld
			evs = append(evs, Event{Kind: EventResetArmed, At: at, Held: m.tm.ResetHold})
		}
	case phaseArmed:
		if !t.Before(m.windowEnd) {
			m.ph = phaseIdle
			evs = append(evs, Event{Kind: EventResetCancelled, At: m.windowEnd, Reason: "timeout"})
		}
	case phaseConfirming:
		if at := m.pressedAt.Add(m.tm.RebootHold); !t.Before(at) {
			m.ph = phaseIgnore
			evs = append(evs, Event{Kind: EventResetCancelled, At: at, Held: m.tm.RebootHold, Reason: "long press"})
		}
	}
	return evs
}

// transition applies a debounced level change that happened at t.
func (m *Machine) transition(t time.Time, evs []Event) []Event {
	if m.stable { // pressed
		switch m.ph {
		case phaseIdle:
			m.ph, m.pressedAt = phasePressed, t
		case phaseArmed:
			m.ph, m.pressedAt = phaseConfirming, t
		}
		return evs
	}
	held := t.Sub(m.pressedAt)
	switch m.ph {
	case phasePressed:
		kind := EventIdentify
		if held >= m.tm.RebootHold {
			kind = EventReboot
		}
		evs = append(evs, Event{Kind: kind, At: t, Held: held})
		m.ph = phaseIdle
	case phaseArmedHeld:
		m.ph, m.windowEnd = phaseArmed, t.Add(m.tm.ConfirmWindow)
	case phaseConfirming:
		evs = append(evs, Event{Kind: EventResetConfirmed, At: t, Held: held})
		m.ph = phaseIdle
	case phaseIgnore:
		m.ph = phaseIdle
	}
	return evs
}
