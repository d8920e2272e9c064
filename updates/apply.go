package updates

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/chatsecure/box/updates/bundle"
)

// Result says what Apply did.
type Result struct {
	From SlotInfo `json:"from"`
	To   SlotInfo `json:"to"`
	Slot string   `json:"slot"` // the slot marked for the trial boot
}

// ApplyFile applies the bundle at path.
func (u *Updater) ApplyFile(ctx context.Context, path string, progress ProgressFunc) (Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return Result{}, fmt.Errorf("updates: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Result{}, fmt.Errorf("updates: %w", err)
	}
	return u.Apply(ctx, f, st.Size(), progress)
}

// Apply verifies the bundle (nothing is written when that fails), writes
// each payload to the inactive slot while hashing it, reads it back and
// hashes it again, then marks the slot for one trial boot. The caller
// reboots; after the boot the appliance calls Boot, runs its health checks
// and calls Commit or Abandon.
//
// When writing fails, the inactive slot may hold part of the new system
// but the active slot and the boot pointer are untouched.
func (u *Updater) Apply(ctx context.Context, r io.ReaderAt, size int64, progress ProgressFunc) (Result, error) {
	if !u.apply.TryLock() {
		return Result{}, fmt.Errorf("updates: %w", ErrBusy)
	}
	defer u.apply.Unlock()

	v, err := u.Verify(ctx, r, size, progress)
	if err != nil {
		rec := Record{Outcome: Refused, Why: err.Error()}
		if st, serr := u.cfg.Slots.State(); serr == nil {
			rec.From, rec.FromBuild = st.Slots[st.Booted].Version, st.Slots[st.Booted].Build
		}
		// What the (unverified) manifest claims, when it parses, helps
		// the operator tell refusals apart.
		if b, perr := bundle.Parse(r, size); perr == nil {
			rec.To, rec.ToBuild = b.Manifest.Version, b.Manifest.Build
		}
		u.record(rec)
		return Result{}, err
	}
	m := v.Manifest()
	res := Result{From: v.From, To: SlotInfo{Version: m.Version, Build: m.Build}}
	fail := func(err error) (Result, error) {
		u.record(Record{From: res.From.Version, FromBuild: res.From.Build, To: m.Version, ToBuild: m.Build, Outcome: Failed, Why: err.Error()})
		return Result{}, err
	}

	cur, err := u.TrustedSet()
	if err != nil {
		return fail(err)
	}
	if v.KeySet.Seq > cur.Seq {
		if err := u.cfg.Trust.Put(v.KeySet); err != nil {
			return fail(fmt.Errorf("updates: store key set %d: %w", v.KeySet.Seq, err))
		}
		u.record(Record{Outcome: KeyRotated, Why: fmt.Sprintf("key set %d -> %d (from bundle %s)", cur.Seq, v.KeySet.Seq, m.Version)})
	}

	u.state.Lock()
	defer u.state.Unlock()
	st, err := u.cfg.Slots.State()
	if err != nil {
		return fail(fmt.Errorf("updates: slots: %w", err))
	}
	if st.InTrial() {
		return fail(fmt.Errorf("updates: %w in slot %s", ErrTrialRunning, st.Booted))
	}
	// A pending trial of the slot we are about to overwrite must not be
	// booted half-written.
	if st.Trial != "" {
		if err := u.cfg.Slots.ClearTrial(); err != nil {
			return fail(fmt.Errorf("updates: cancel pending trial: %w", err))
		}
	}
	res.Slot = st.Inactive()

	if err := u.writePayloads(ctx, v.Bundle, progress); err != nil {
		return fail(err)
	}
	if err := u.cfg.Slots.MarkTrial(res.To); err != nil {
		return fail(fmt.Errorf("updates: mark trial boot: %w", err))
	}
	total := m.PayloadTotal()
	report(progress, Progress{Phase: PhaseDone, Done: total, Total: total})
	u.record(Record{From: res.From.Version, FromBuild: res.From.Build, To: m.Version, ToBuild: m.Build, Outcome: Applied,
		Why: fmt.Sprintf("written to slot %s, signed by %v", res.Slot, v.Signers)})
	return res, nil
}

// writePayloads streams every payload into its partition, hashing on the
// way, syncs, then reads each partition back and hashes again.
func (u *Updater) writePayloads(ctx context.Context, b *bundle.Bundle, progress ProgressFunc) error {
	m := b.Manifest
	total := m.PayloadTotal()
	parts := make([]Partition, 0, len(m.Payloads))
	defer func() {
		for _, p := range parts {
			p.Close()
		}
	}()
	var done int64
	for i, p := range m.Payloads {
		part, err := u.cfg.Slots.OpenInactive(p.Name)
		if err != nil {
			return fmt.Errorf("updates: open partition %s: %w", p.Name, err)
		}
		parts = append(parts, part)
		h := sha256.New()
		w := io.MultiWriter(h, &offsetWriter{w: part})
		if err := copyProgress(ctx, w, b.Payload(i), func(n int64) {
			done += n
			report(progress, Progress{Phase: PhaseWrite, Payload: p.Name, Done: done, Total: total})
		}); err != nil {
			return fmt.Errorf("updates: write %s: %w", p.Name, err)
		}
		// The bundle may have changed since Verify hashed it.
		if got := hex.EncodeToString(h.Sum(nil)); got != p.SHA256 {
			return fmt.Errorf("updates: %w: %s changed while writing (%s)", ErrPayloadHash, p.Name, got)
		}
		if err := part.Sync(); err != nil {
			return fmt.Errorf("updates: sync %s: %w", p.Name, err)
		}
	}
	done = 0
	for i, p := range m.Payloads {
		h := sha256.New()
		if err := copyProgress(ctx, h, io.NewSectionReader(parts[i], 0, p.Size), func(n int64) {
			done += n
			report(progress, Progress{Phase: PhaseReadBack, Payload: p.Name, Done: done, Total: total})
		}); err != nil {
			return fmt.Errorf("updates: read back %s: %w", p.Name, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != p.SHA256 {
			return fmt.Errorf("updates: %w: %s reads back as %s", ErrReadBack, p.Name, got)
		}
	}
	for i, p := range parts {
		if err := p.Close(); err != nil {
			parts = parts[i+1:]
			return fmt.Errorf("updates: close %s: %w", m.Payloads[i].Name, err)
		}
	}
	parts = nil
	return nil
}

// offsetWriter turns an io.WriterAt into a sequential io.Writer.
type offsetWriter struct {
	w   io.WriterAt
	off int64
}

func (o *offsetWriter) Write(b []byte) (int, error) {
	n, err := o.w.WriteAt(b, o.off)
	o.off += int64(n)
	return n, err
}
