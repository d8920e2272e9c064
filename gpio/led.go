package gpio

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// IdentifyFor is how long the identify pattern shows before the LED returns
// to the state's pattern.
const IdentifyFor = 10 * time.Second

// LEDOptions configures an LED. The zero value is an active-high LED on the
// system clock that logs nothing.
type LEDOptions struct {
	// ActiveLow means the LED lights when the pin is driven low (LED wired
	// between 3V3 and the pin).
	ActiveLow bool
	Clock     Clock
	// Logger, if set, gets one line per pattern change (not per blink).
	Logger *slog.Logger
}

// LED plays the pattern of one Signal at a time on a pin. Patterns run on
// clock timers (goroutines of the Clock), so Show never blocks.
//
// Identify is special: it shows for IdentifyFor on top of the state, then the
// LED returns to the state's pattern. Showing a different state ends it at
// once (a state change matters more than finding the box); showing the same
// state again does not.
type LED struct {
	pin   gpio.PinOut // nil: a logging-only LED (dev mode)
	onLvl gpio.Level
	clk   Clock
	log   *slog.Logger

	mu       sync.Mutex
	state    Signal // the appliance state's signal
	shown    Signal // what the LED plays now: state or Identify
	pattern  Pattern
	step     int
	gen      uint64 // bumps on every pattern start; stale timer calls see a different value
	stepT    Timer
	identT   Timer
	closed   bool
	outErred bool // one log line per run of pin errors, not one per blink
}

// NewLED drives an LED on pin and starts showing Booting.
func NewLED(pin gpio.PinOut, o LEDOptions) (*LED, error) {
	if pin == nil {
		return nil, fmt.Errorf("gpio: new LED: no pin")
	}
	l := newLED(pin, o)
	if err := pin.Out(l.level(false)); err != nil {
		return nil, fmt.Errorf("gpio: LED pin %s: set as output: %w", pin.Name(), err)
	}
	l.start()
	return l, nil
}

// NewLogLED is the dev-mode LED: no pin, it logs each pattern change through
// log and keeps Current for boxctl status and the console. Identify still
// times out through clk (nil: system clock).
func NewLogLED(log *slog.Logger, clk Clock) *LED {
	l := newLED(nil, LEDOptions{Clock: clk, Logger: log})
	l.start()
	return l
}

func newLED(pin gpio.PinOut, o LEDOptions) *LED {
	l := &LED{pin: pin, onLvl: gpio.High, clk: clockOrSystem(o.Clock), log: o.Logger, state: Booting, shown: Booting}
	if o.ActiveLow {
		l.onLvl = gpio.Low
	}
	return l
}

func (l *LED) start() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.play(Booting)
	l.logChange("", Booting)
}

// Show makes s the state's signal, or, for Identify, shows the identify
// pattern for IdentifyFor (again from the start if it is already showing).
func (l *LED) Show(s Signal) error {
	if _, err := PatternFor(s); err != nil {
		return fmt.Errorf("gpio: LED show: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return fmt.Errorf("gpio: LED show %s: LED is closed", s)
	}
	prev := l.shown
	switch {
	case s == Identify:
		l.stopIdentify()
		gen := l.play(Identify)
		l.identT = l.clk.AfterFunc(IdentifyFor, func() { l.endIdentify(gen) })
	case s == l.state && l.shown == Identify:
		return nil // same state again: let identify run its course
	case s == l.state:
		return nil // already playing; restarting would make the blink stutter
	default:
		l.state = s
		l.stopIdentify()
		l.play(s)
	}
	l.logChange(prev, s)
	return nil
}

// Current is the signal the LED is showing now (Identify while identifying).
func (l *LED) Current() Signal {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.shown
}

// State is the state's signal underneath a running identify.
func (l *LED) State() Signal {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state
}

// Close stops the pattern and switches the LED off.
func (l *LED) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	l.gen++
	l.stopIdentify()
	if l.stepT != nil {
		l.stepT.Stop()
	}
	if l.pin != nil {
		if err := l.pin.Out(l.level(false)); err != nil {
			return fmt.Errorf("gpio: LED pin %s: switch off: %w", l.pin.Name(), err)
		}
	}
	return nil
}

func (l *LED) endIdentify(gen uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || gen != l.gen || l.shown != Identify {
		return // a later Show already replaced it
	}
	l.identT = nil
	l.play(l.state)
	l.logChange(Identify, l.state)
}

func (l *LED) stopIdentify() {
	if l.identT != nil {
		l.identT.Stop()
		l.identT = nil
	}
}

// play starts s's pattern from its first step. Callers hold l.mu.
func (l *LED) play(s Signal) uint64 {
	p, _ := PatternFor(s) // s was checked by Show or is a constant
	if l.stepT != nil {
		l.stepT.Stop()
	}
	l.gen++
	l.shown, l.pattern, l.step = s, p, 0
	l.enterStep(l.gen)
	return l.gen
}

// enterStep lights the current step and arms the timer for the next one.
// Callers hold l.mu.
func (l *LED) enterStep(gen uint64) {
	st := l.pattern.Steps[l.step]
	l.out(st.On)
	if len(l.pattern.Steps) == 1 {
		l.stepT = nil // steady: nothing to time
		return
	}
	l.stepT = l.clk.AfterFunc(st.D, func() { l.nextStep(gen) })
}

func (l *LED) nextStep(gen uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || gen != l.gen {
		return // the pattern changed after this timer was armed
	}
	l.step = (l.step + 1) % len(l.pattern.Steps)
	l.enterStep(gen)
}

func (l *LED) out(lit bool) {
	if l.pin == nil {
		return
	}
	err := l.pin.Out(l.level(lit))
	switch {
	case err != nil && !l.outErred:
		l.outErred = true
		if l.log != nil {
			l.log.Error("led: drive pin", "pin", l.pin.Name(), "err", err)
		}
	case err == nil:
		l.outErred = false
	}
}

func (l *LED) level(lit bool) gpio.Level {
	if lit {
		return l.onLvl
	}
	return !l.onLvl
}

func (l *LED) logChange(from, to Signal) {
	if l.log == nil {
		return
	}
	p := l.pattern
	attrs := []any{"signal", string(to), "look", p.Look, "timing", p.Timing()}
	if from != "" {
		attrs = append(attrs, "was", string(from))
	}
	if to == Identify {
		attrs = append(attrs, "for", IdentifyFor.String())
	}
	l.log.Info("led: pattern", attrs...)
}
