package updates

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"

	"github.com/chatsecure/box/updates/bundle"
	"github.com/chatsecure/box/updates/trust"
)

// A Verified bundle has passed every check that needs no writing.
type Verified struct {
	Bundle  *bundle.Bundle
	Signers []trust.KeyID
	// KeySet is the set the signatures were checked against, after the
	// bundle's rotation chain; Apply stores it when it is newer.
	KeySet trust.Set
	From   SlotInfo // what runs now
}

// Manifest is the verified manifest.
func (v *Verified) Manifest() *bundle.Manifest { return v.Bundle.Manifest }

// Verify runs every check that can be made without writing: structure and
// bounds, rotation chain, signatures at threshold, product, target,
// anti-rollback floor, minimum version, partition capacity, and every
// payload's sha256 (a first pass over the bundle, reported as PhaseVerify).
func (u *Updater) Verify(ctx context.Context, r io.ReaderAt, size int64, progress ProgressFunc) (*Verified, error) {
	b, err := bundle.Parse(r, size)
	if err != nil {
		return nil, fmt.Errorf("updates: %w", err)
	}
	cur, err := u.TrustedSet()
	if err != nil {
		return nil, err
	}
	set, err := cur.Advance(b.Rotations)
	if err != nil {
		return nil, fmt.Errorf("updates: key rotation in bundle: %w", err)
	}
	signers, err := set.Verify(trust.DomainManifest, b.ManifestBytes, b.Signatures)
	if err != nil {
		return nil, fmt.Errorf("updates: manifest signatures: %w", err)
	}
	m := b.Manifest
	if m.Product != bundle.Product {
		return nil, fmt.Errorf("updates: %w: %q, this is %q", ErrWrongProduct, m.Product, bundle.Product)
	}
	if m.Target != u.cfg.Target {
		return nil, fmt.Errorf("updates: %w: bundle is for %q, this box is %q", ErrWrongTarget, m.Target, u.cfg.Target)
	}
	floor, err := u.cfg.Floor.Get()
	if err != nil {
		return nil, fmt.Errorf("updates: anti-rollback floor: %w", err)
	}
	if m.Build <= floor {
		return nil, fmt.Errorf("updates: %w: bundle build %d (version %s), floor %d", ErrDowngrade, m.Build, m.Version, floor)
	}
	st, err := u.cfg.Slots.State()
	if err != nil {
		return nil, fmt.Errorf("updates: slots: %w", err)
	}
	if st.InTrial() {
		return nil, fmt.Errorf("updates: %w in slot %s: commit or roll it back first", ErrTrialRunning, st.Booted)
	}
	from := st.Slots[st.Booted]
	if m.MinVersion != "" {
		min, _ := bundle.ParseVersion(m.MinVersion) // checked by the parser
		running := from.Version
		if running == "" {
			running = "0.0.0"
		}
		rv, err := bundle.ParseVersion(running)
		if err != nil {
			return nil, fmt.Errorf("updates: running version %q: %w", running, err)
		}
		if rv.Compare(min) < 0 {
			return nil, fmt.Errorf("updates: %w: running %s, bundle needs at least %s", ErrTooOld, running, m.MinVersion)
		}
	}
	for _, name := range u.cfg.Slots.Required() {
		if !slices.ContainsFunc(m.Payloads, func(p bundle.Payload) bool { return p.Name == name }) {
			return nil, fmt.Errorf("updates: %w: %q", ErrMissing, name)
		}
	}
	for _, p := range m.Payloads {
		c, err := u.cfg.Slots.Capacity(p.Name)
		if err != nil {
			return nil, fmt.Errorf("updates: %w %q: %w", ErrNoPartition, p.Name, err)
		}
		if p.Size > c {
			return nil, fmt.Errorf("updates: %w: %s is %d bytes, partition %d", ErrTooLarge, p.Name, p.Size, c)
		}
	}
	if err := VerifyPayloads(ctx, b, progress); err != nil {
		return nil, err
	}
	return &Verified{Bundle: b, Signers: signers, KeySet: set, From: from}, nil
}

// VerifyPayloads hashes every payload in the bundle against the manifest,
// reporting PhaseVerify progress. Verify calls it; boxsign verify too.
func VerifyPayloads(ctx context.Context, b *bundle.Bundle, progress ProgressFunc) error {
	m := b.Manifest
	total := m.PayloadTotal()
	var done int64
	for i, p := range m.Payloads {
		h := sha256.New()
		if err := copyProgress(ctx, h, b.Payload(i), func(n int64) {
			done += n
			report(progress, Progress{Phase: PhaseVerify, Payload: p.Name, Done: done, Total: total})
		}); err != nil {
			return fmt.Errorf("updates: hash payload %s: %w", p.Name, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != p.SHA256 {
			return fmt.Errorf("updates: %w: %s is %s, manifest says %s", ErrPayloadHash, p.Name, got, p.SHA256)
		}
	}
	return nil
}

const chunkSize = 1 << 20

// copyProgress copies r to w in chunks, checking ctx and reporting each.
func copyProgress(ctx context.Context, w io.Writer, r io.Reader, step func(int64)) error {
	buf := make([]byte, chunkSize)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			step(int64(n))
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func report(f ProgressFunc, p Progress) {
	if f != nil {
		f(p)
	}
}
