package gpio

import (
	"fmt"
	"time"
)

// Step is one stretch of a pattern: the LED on or off for D.
type Step struct {
	On bool
	D  time.Duration
}

// Pattern is how the LED shows one Signal. Steps repeat forever; a pattern
// with one step is a steady light. Look says in words what a person sees,
// Meaning what it tells them; the exact timing is rendered from Steps (Timing)
// so the manual cannot drift from what the driver plays.
type Pattern struct {
	Signal  Signal
	Look    string
	Meaning string
	Steps   []Step
}

func on(d time.Duration) Step  { return Step{On: true, D: d} }
func off(d time.Duration) Step { return Step{On: false, D: d} }

// flashes is n short flashes followed by a pause: the "count the blinks"
// family, which people tell apart reliably up to three or four.
func flashes(n int, onD, gap, pause time.Duration) []Step {
	var s []Step
	for range n {
		s = append(s, on(onD), off(gap))
	}
	return append(s, off(pause))
}

const ms = time.Millisecond

// patterns is the table the driver plays and the manual prints. Each comes
// from a different family a person can tell apart without a stopwatch:
// mostly on, even blinks at three clearly different rates, mostly off,
// counted flashes, a short-long rhythm and flicker bursts.
var patterns = []Pattern{
	{
		Signal:  Booting,
		Look:    "even blink, twice a second",
		Meaning: "Starting: unsealing the key and opening the database. Wait.",
		Steps:   []Step{on(250 * ms), off(250 * ms)},
	},
	{
		Signal:  Unclaimed,
		Look:    "slow even blink",
		Meaning: "Ready to be set up: open the console and enter the setup code.",
		Steps:   []Step{on(time.Second), off(time.Second)},
	},
	{
		Signal:  Locked,
		Look:    "two short flashes, then a pause",
		Meaning: "The database key cannot be unsealed (TPM cleared or replaced, or unexpected firmware): open the console and enter the recovery code.",
		Steps:   flashes(2, 150*ms, 250*ms, 1200*ms),
	},
	{
		Signal:  Running,
		Look:    "on, with a short blink off every 5 s",
		Meaning: "Serving chat; all is well. The blink off shows the box is alive, not hung.",
		Steps:   []Step{on(4900 * ms), off(100 * ms)},
	},
	{
		Signal:  Updating,
		Look:    "one short flash every second",
		Meaning: "Installing a firmware update; the box restarts by itself when it is done.",
		Steps:   []Step{on(100 * ms), off(900 * ms)},
	},
	{
		Signal:  Fault,
		Look:    "three short flashes, then a pause",
		Meaning: "Something failed: the console and `boxctl status` say what.",
		Steps:   flashes(3, 150*ms, 250*ms, 1200*ms),
	},
	{
		Signal:  ResetArmed,
		Look:    "short flash then long flash, repeating",
		Meaning: "Factory reset armed: press the button briefly within 10 s to erase everything; do nothing to cancel.",
		Steps:   []Step{on(150 * ms), off(200 * ms), on(900 * ms), off(250 * ms)},
	},
	{
		Signal:  Erasing,
		Look:    "bursts of four quick flickers, once a second",
		Meaning: "Factory reset under way: the key is destroyed, then the data removed; the box then shows unclaimed.",
		Steps:   flashes(4, 50*ms, 50*ms, 600*ms),
	},
	{
		Signal:  Identify,
		Look:    "fast continuous flicker",
		Meaning: "Identify (a short press on the button): shown for 10 s, then the LED goes back to the state's pattern.",
		Steps:   []Step{on(50 * ms), off(50 * ms)},
	},
}

// Patterns returns a copy of the pattern table, in manual order.
func Patterns() []Pattern {
	out := make([]Pattern, len(patterns))
	for i, p := range patterns {
		p.Steps = append([]Step(nil), p.Steps...)
		out[i] = p
	}
	return out
}

// PatternFor returns the pattern that shows s.
func PatternFor(s Signal) (Pattern, error) {
	for _, p := range patterns {
		if p.Signal == s {
			p.Steps = append([]Step(nil), p.Steps...)
			return p, nil
		}
	}
	return Pattern{}, fmt.Errorf("gpio: no LED pattern for signal %q", s)
}

// Cycle is how long one repetition of the pattern takes.
func (p Pattern) Cycle() time.Duration {
	var d time.Duration
	for _, s := range p.Steps {
		d += s.D
	}
	return d
}
