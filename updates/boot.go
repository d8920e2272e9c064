package updates

import (
	"context"
	"fmt"
)

// Boot is called once at every start of the appliance, before its health
// checks. In a trial boot it counts the attempt; when the trial had already
// been booted without a commit it falls back to the old slot and records the
// rollback. When the active slot's build is above the floor (a crash between
// commit and raise), it raises the floor.
func (u *Updater) Boot(ctx context.Context) (BootResult, error) {
	if err := ctx.Err(); err != nil {
		return BootResult{}, err
	}
	u.state.Lock()
	defer u.state.Unlock()
	res, err := u.cfg.Slots.Boot()
	if err != nil {
		return BootResult{}, fmt.Errorf("updates: boot: %w", err)
	}
	st := res.State
	running := st.Slots[st.Booted]
	switch {
	case res.FellBack:
		tried := st.Slots[res.FromTrial]
		why := fmt.Sprintf("trial boot of slot %s was not committed; booted slot %s", res.FromTrial, st.Booted)
		if res.Why != "" {
			why += ": " + res.Why
		}
		u.record(Record{From: tried.Version, FromBuild: tried.Build, To: running.Version, ToBuild: running.Build, Outcome: RolledBack, Why: why})
	case st.InTrial():
		active := st.Slots[st.Active]
		u.record(Record{From: active.Version, FromBuild: active.Build, To: running.Version, ToBuild: running.Build, Outcome: Trial,
			Why: fmt.Sprintf("trial boot %d of slot %s", st.TrialBoots, st.Booted)})
	default:
		if err := u.cfg.Floor.Raise(st.Slots[st.Active].Build); err != nil {
			return res, fmt.Errorf("updates: boot: raise floor: %w", err)
		}
	}
	return res, nil
}

// Commit is called by the appliance when its health checks pass in a trial
// boot (store opens, XMPP accepts a login, console answers): the running
// slot becomes the active one and the anti-rollback floor rises to its
// build. Outside a trial it does nothing.
func (u *Updater) Commit(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	u.state.Lock()
	defer u.state.Unlock()
	st, err := u.cfg.Slots.State()
	if err != nil {
		return fmt.Errorf("updates: commit: %w", err)
	}
	if !st.InTrial() {
		return nil
	}
	old, now := st.Slots[st.Active], st.Slots[st.Booted]
	// Slot first, floor second: a crash in between leaves a floor that is
	// too low, which Boot repairs, never a floor above the running system.
	if err := u.cfg.Slots.Commit(); err != nil {
		return fmt.Errorf("updates: commit slot %s: %w", st.Booted, err)
	}
	if err := u.cfg.Floor.Raise(now.Build); err != nil {
		return fmt.Errorf("updates: commit: raise floor to %d: %w", now.Build, err)
	}
	return u.record(Record{From: old.Version, FromBuild: old.Build, To: now.Version, ToBuild: now.Build, Outcome: Committed,
		Why: "health checks passed"})
}

// Abandon is called when the health checks fail (or an operator cancels a
// pending update): the next boot is the active slot again. In a trial the
// caller should then reboot into it.
func (u *Updater) Abandon(ctx context.Context, why string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	u.state.Lock()
	defer u.state.Unlock()
	st, err := u.cfg.Slots.State()
	if err != nil {
		return fmt.Errorf("updates: abandon: %w", err)
	}
	if st.Trial == "" {
		return nil
	}
	outcome := Abandoned
	if st.InTrial() {
		outcome = RolledBack
	}
	if err := u.cfg.Slots.ClearTrial(); err != nil {
		return fmt.Errorf("updates: abandon: %w", err)
	}
	tried, active := st.Slots[st.Trial], st.Slots[st.Active]
	return u.record(Record{From: tried.Version, FromBuild: tried.Build, To: active.Version, ToBuild: active.Build, Outcome: outcome, Why: why})
}
