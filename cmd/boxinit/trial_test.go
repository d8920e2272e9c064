package main

import (
	"errors"
	"log/slog"
	"testing"
	"time"
)

// roots is one answer of gokrazyslots.Roots.
type roots struct {
	next, running string
	err           error
}

var (
	ordinary    = roots{"A", "A", nil}
	onTrial     = roots{"A", "B", nil}
	committed   = roots{"B", "B", nil}
	unreadable  = roots{err: errors.New("no /dev/vda1")}
	pollEvery   = 10 * time.Second
	testTimeout = time.Minute
)

// watch runs a trialWatch against scripted answers (one per check; the
// last repeats) on a fake clock that each tick moves by pollEvery. It
// returns how many checks ran and how many reboots were asked for.
func watch(t *testing.T, answers []roots, rebootErrs ...error) (checks, reboots int, over time.Duration) {
	t.Helper()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := &trialWatch{
		deadline: testTimeout,
		now:      func() time.Time { return now },
		log:      slog.New(slog.DiscardHandler),
		roots: func() (string, string, error) {
			a := answers[min(checks, len(answers)-1)]
			checks++
			return a.next, a.running, a.err
		},
		reboot: func(why string) error {
			if why != "boxinit rebooted the trial of slot B: not committed within 1m0s of boot" {
				t.Errorf("reboot why %q", why)
			}
			reboots++
			if reboots <= len(rebootErrs) {
				return rebootErrs[reboots-1]
			}
			return nil
		},
	}
	w.begin()
	start := now
	for range 1000 {
		if w.check() {
			return checks, reboots, now.Sub(start)
		}
		now = now.Add(pollEvery)
	}
	t.Fatal("the watch never ended")
	return
}

func TestTrialWatch(t *testing.T) {
	steps := int(testTimeout/pollEvery) + 1 // checks up to and including the deadline
	cases := []struct {
		name            string
		answers         []roots
		rebootErrs      []error
		checks, reboots int
	}{
		{"ordinary boot: one look", []roots{ordinary}, nil, 1, 0},
		{"trial committed in time", []roots{onTrial, onTrial, committed}, nil, 3, 0},
		{"trial never committed: reboot at the deadline", []roots{onTrial}, nil, steps, 1},
		{"unreadable, then a trial: still rebooted", []roots{unreadable, unreadable, onTrial}, nil, steps, 1},
		{"trial, then unreadable: still rebooted", []roots{onTrial, unreadable}, nil, steps, 1},
		{"unreadable, then ordinary", []roots{unreadable, ordinary}, nil, 2, 0},
		{"never readable: no reboot", []roots{unreadable}, nil, steps, 0},
		{"reboot fails once: tried again", []roots{onTrial}, []error{errors.New("EPERM")}, steps + 1, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checks, reboots, over := watch(t, c.answers, c.rebootErrs...)
			if checks != c.checks || reboots != c.reboots {
				t.Fatalf("%d checks, %d reboots (over after %s); want %d checks, %d reboots", checks, reboots, over, c.checks, c.reboots)
			}
			if c.reboots > 0 && over < testTimeout {
				t.Fatalf("rebooted %s after the start, before the deadline %s", over, testTimeout)
			}
		})
	}
}

// TestTrialWatchRunStopsOnCommit drives run with a tick channel.
func TestTrialWatchRunStopsOnCommit(t *testing.T) {
	answers := []roots{onTrial, onTrial, committed}
	n := 0
	w := &trialWatch{
		deadline: time.Hour, now: time.Now, log: slog.New(slog.DiscardHandler),
		roots: func() (string, string, error) {
			a := answers[min(n, len(answers)-1)]
			n++
			return a.next, a.running, a.err
		},
		reboot: func(string) error { t.Error("rebooted a committed trial"); return nil },
	}
	tick := make(chan time.Time, 5)
	for range 5 {
		tick <- time.Time{}
	}
	w.run(tick)
	if n != 3 {
		t.Fatalf("run looked %d times, want 3 (stop at the commit)", n)
	}
}
