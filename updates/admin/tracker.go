package admin

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/chatsecure/box/updates"
)

// A Tracker runs applies one at a time for every front end (boxctl, the
// console, a USB stick, the feed) and remembers the one in progress and
// how the last one ended, so each front end shows the same picture.
type Tracker struct {
	Updater *updates.Updater
	// Applying, if set, is told when an apply starts and ends (the
	// appliance shows "updating" on the LED and in its state machine).
	Applying func(running bool)
	Now      func() time.Time // time.Now when nil

	mu       sync.Mutex
	running  bool
	from     string
	progress *updates.Progress
	last     *LastApply
}

// LastApply is how the most recent apply ended.
type LastApply struct {
	From   string          `json:"from"` // upload, console, usb, feed
	At     time.Time       `json:"at"`
	OK     bool            `json:"ok"`
	Result *updates.Result `json:"result,omitempty"`
	Reason string          `json:"reason,omitempty"` // the updater's refusal or failure
}

// Current is an apply in progress.
type Current struct {
	From     string            `json:"from"`
	Progress *updates.Progress `json:"progress,omitempty"`
}

func (t *Tracker) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// Start claims the updater for one apply from from; it fails with
// updates.ErrBusy while another runs. The caller must call Run next.
func (t *Tracker) Start(from string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.running {
		return fmt.Errorf("updates: %w (from %s)", updates.ErrBusy, t.from)
	}
	t.running, t.from, t.progress = true, from, &updates.Progress{Phase: updates.PhaseVerify}
	return nil
}

// Run applies path after Start and records the outcome. done, if set,
// runs before the outcome shows in Last (and the tracker is free), so
// whoever sees the apply as ended also sees what done did (audit entries,
// offers dropped).
func (t *Tracker) Run(ctx context.Context, path string, done func(updates.Result, error)) (updates.Result, error) {
	if t.Applying != nil {
		t.Applying(true)
	}
	res, err := t.Updater.ApplyFile(ctx, path, func(p updates.Progress) {
		t.mu.Lock()
		t.progress = &p
		t.mu.Unlock()
	})
	if t.Applying != nil {
		t.Applying(false)
	}
	if done != nil {
		done(res, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	last := &LastApply{From: t.from, At: t.now().UTC(), OK: err == nil}
	if err != nil {
		last.Reason = err.Error()
	} else {
		last.Result = &res
	}
	t.running, t.progress, t.last = false, nil, last
	return res, err
}

// Release gives up a Start whose apply could not begin (say the upload
// was incomplete); nothing is recorded.
func (t *Tracker) Release() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.running, t.progress = false, nil
}

// ApplyFile is Start then Run.
func (t *Tracker) ApplyFile(ctx context.Context, path, from string) (updates.Result, error) {
	if err := t.Start(from); err != nil {
		return updates.Result{}, err
	}
	return t.Run(ctx, path, nil)
}

// Current reports the apply in progress, nil when idle.
func (t *Tracker) Current() *Current {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.running {
		return nil
	}
	c := &Current{From: t.from}
	if t.progress != nil {
		p := *t.progress
		c.Progress = &p
	}
	return c
}

// Last reports how the last apply ended, nil before the first.
func (t *Tracker) Last() *LastApply {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.last == nil {
		return nil
	}
	l := *t.last
	return &l
}
