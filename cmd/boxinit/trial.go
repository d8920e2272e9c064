package main

import (
	"fmt"
	"log/slog"
	"time"
)

// defaultTrialDeadline is how long a trial boot may run uncommitted before
// boxinit reboots it. It must cover boot, boxd's unseal and its health
// check (boxd gives up after 2 minutes and reboots by itself); it only
// matters when boxd does not get that far: hung, or crashing in a loop.
const defaultTrialDeadline = 5 * time.Minute

// trialWatch is boxinit's deadline on a trial boot, a backstop for boxd's
// own health check that does not depend on boxd. A trial is in progress
// while the root mounted at / is not the one the boot chain boots next
// (gokrazyslots.Roots, or tryboot.Roots on a Pi 4/5: the boot chain's
// pointer against the mounted partition): that holds from gokrazy's pivot
// into the trial root until boxd commits
// (root= moves to the running slot). If the deadline passes first — boxd
// hung, crashed in a loop, or abandoned the trial but could not reboot —
// boxinit reboots, and the next boot is the old root (gokrazy's trial is
// one-shot: switch_on_boot, see gokrazyslots).
//
// The deadline runs from boxinit's start. Until the roots can be read the
// watch keeps asking; if they never could be, it never reboots: it
// reboots only a boot it saw running uncommitted.
type trialWatch struct {
	deadline time.Duration
	roots    func() (next, running string, err error)
	// now is time.Now on the box: Sub of two of its readings uses the
	// monotonic clock, so permtime or NTP stepping the wall clock cannot
	// shorten the deadline.
	now func() time.Time
	// reboot restarts the machine; why is for the next boot's history.
	reboot func(why string) error
	log    *slog.Logger

	start   time.Time
	running string // the uncommitted slot seen running
	known   bool   // the roots were read at least once
	trial   bool   // this boot was seen running an uncommitted root
	lastErr error
}

// begin starts the clock.
func (w *trialWatch) begin() {
	w.start = w.now()
}

// check looks once, on every tick; true means the watch is over (not a
// trial boot, committed, deadline given up on, or rebooted).
func (w *trialWatch) check() bool {
	next, running, err := w.roots()
	switch {
	case err != nil:
		if w.lastErr == nil || err.Error() != w.lastErr.Error() {
			w.log.Warn("trial watch: cannot read the boot roots", "err", err)
		}
		w.lastErr = err
	case next == running && !w.known:
		return true // an ordinary boot: nothing to watch
	case next == running:
		w.log.Info("trial watch: the trial was committed", "slot", running, "after", w.now().Sub(w.start).Round(time.Second))
		return true
	case !w.trial:
		w.log.Info("trial watch: running an uncommitted root; rebooting unless it is committed in time", "running", running, "next", next, "deadline", w.deadline)
		w.trial, w.running = true, running
	}
	if err == nil {
		w.known, w.lastErr = true, nil
	}
	if w.now().Sub(w.start) < w.deadline {
		return false
	}
	if !w.trial {
		if !w.known {
			w.log.Error("trial watch: never could tell whether this is a trial boot; giving up")
		}
		return true
	}
	w.log.Error("trial watch: the trial was not committed in time; rebooting into the old root", "deadline", w.deadline)
	why := fmt.Sprintf("boxinit rebooted the trial of slot %s: not committed within %s of boot", w.running, w.deadline)
	if err := w.reboot(why); err != nil {
		w.log.Error("trial watch: reboot failed; trying again", "err", err)
		return false
	}
	return true
}

// run checks on every tick until the watch is over.
func (w *trialWatch) run(tick <-chan time.Time) {
	w.begin()
	if w.check() {
		return
	}
	for range tick {
		if w.check() {
			return
		}
	}
}
