package updates_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/chatsecure/box/updates"
	"github.com/chatsecure/box/updates/bundle"
	"github.com/chatsecure/box/updates/trust"
)

var ctx = context.Background()

func TestApplyTrialCommit(t *testing.T) {
	f := newFixture(t)
	path := f.bundle(spec{min: "1.0.0"})
	var phases []updates.Phase
	var last updates.Progress
	res, err := f.u.ApplyFile(ctx, path, func(p updates.Progress) {
		if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
			phases = append(phases, p.Phase)
		} else if p.Done < last.Done {
			t.Errorf("progress went back: %+v after %+v", p, last)
		}
		last = p
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Slot != "B" || res.From.Version != "1.0.0" || res.To.Version != "2.0.0" || res.To.Build != 2 {
		t.Fatalf("result = %+v", res)
	}
	if fmt.Sprint(phases) != "[verify write readback done]" || last.Done != last.Total || last.Total == 0 {
		t.Errorf("phases %v, last %+v", phases, last)
	}
	root, boot := payloadsOf("2.0.0")
	fileIs(t, f.slots.Path("B", "root"), root)
	fileIs(t, f.slots.Path("B", "boot"), boot)
	fileIs(t, f.slots.Path("A", "root"), v1Root)
	st, _ := f.slots.State()
	if st.Active != "A" || st.Trial != "B" || st.Booted != "A" {
		t.Fatalf("after apply: %+v", st)
	}

	// Reboot into the trial, health checks pass, commit.
	f.reopen()
	br, err := f.u.Boot(ctx)
	if err != nil || br.FellBack || !br.State.InTrial() || br.State.Booted != "B" {
		t.Fatalf("boot: %+v %v", br, err)
	}
	if floor, _ := f.floor.Get(); floor != 1 {
		t.Fatalf("floor raised before commit: %d", floor)
	}
	if err := f.u.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	st, _ = f.slots.State()
	if st.Active != "B" || st.Trial != "" || st.Booted != "B" {
		t.Fatalf("after commit: %+v", st)
	}
	if floor, _ := f.floor.Get(); floor != 2 {
		t.Fatalf("floor = %d, want 2", floor)
	}
	var outcomes []string
	for _, r := range f.history.Records() {
		outcomes = append(outcomes, string(r.Outcome))
	}
	if strings.Join(outcomes, ",") != "applied,trial,committed" {
		t.Fatalf("history = %v", outcomes)
	}
	if c := f.history.Last(); c.From != "1.0.0" || c.To != "2.0.0" || !c.When.Equal(clock) {
		t.Fatalf("commit record = %+v", c)
	}
	// The same bundle is now a downgrade; a v3 goes to slot A.
	if _, err := f.u.ApplyFile(ctx, path, nil); !errors.Is(err, updates.ErrDowngrade) {
		t.Fatalf("re-apply of committed build: %v", err)
	}
	res, err = f.u.ApplyFile(ctx, f.bundle(spec{version: "3.0.0", build: 3}), nil)
	if err != nil || res.Slot != "A" {
		t.Fatalf("v3: %+v %v", res, err)
	}
}

func TestRefusedWritesNothing(t *testing.T) {
	f := newFixture(t)
	strangers := genKeys(t, 2)
	good := f.bundle(spec{})
	goodBytes, _ := os.ReadFile(good)
	write := func(name string, b []byte) string {
		p := f.work + "/" + name + ".boxupdate"
		os.WriteFile(p, b, 0o644)
		return p
	}
	hb, _ := bundle.ParseHeader(goodBytes)
	sigOff := bundle.HeaderSize + int(hb.ManifestLen)
	cases := []struct {
		name string
		path string
		want error
		why  string
	}{
		{"bad signature", write("badsig", func() []byte {
			b := bytes.Clone(goodBytes)
			b[sigOff+8+10] ^= 0x01
			return b
		}()), trust.ErrBadSignature, "bad signature from key"},
		{"unknown key", f.bundle(spec{signers: []trust.PrivateKey{f.keys[0], strangers[0]}}), trust.ErrUnknownKey, "not in the trusted set"},
		{"only unknown keys", f.bundle(spec{signers: strangers}), trust.ErrUnknownKey, "0 valid of threshold 2"},
		{"too few signatures", f.bundle(spec{signers: f.keys[:1]}), trust.ErrTooFew, "1 valid of threshold 2"},
		{"unsigned", f.bundle(spec{signers: []trust.PrivateKey{}}), trust.ErrTooFew, "0 valid"},
		{"wrong target", f.bundle(spec{target: "pi"}), updates.ErrWrongTarget, `for "pi", this box is "amd64"`},
		{"wrong product", f.bundle(spec{product: "other-box"}), updates.ErrWrongProduct, "other-box"},
		{"downgrade", f.bundle(spec{version: "0.9.0", build: 1}), updates.ErrDowngrade, "build 1 (version 0.9.0), floor 1"},
		{"min version", f.bundle(spec{min: "1.5.0"}), updates.ErrTooOld, "running 1.0.0, bundle needs at least 1.5.0"},
		{"unknown partition", f.bundle(spec{extra: "bios"}), updates.ErrNoPartition, `"bios"`},
		{"missing boot", f.bundle(spec{root: []byte("root only")}), updates.ErrMissing, `"boot"`},
		{"truncated", write("trunc", goodBytes[:len(goodBytes)-100]), bundle.ErrTruncated, "header promises"},
		{"flipped payload byte", write("flip", func() []byte {
			b := bytes.Clone(goodBytes)
			b[len(b)-5000] ^= 0x40
			return b
		}()), updates.ErrPayloadHash, "root is"},
		{"oversized manifest", write("big", func() []byte {
			b := bytes.Clone(goodBytes)
			binary.BigEndian.PutUint32(b[12:], bundle.MaxManifestSize+1)
			return b
		}()), bundle.ErrManifestTooLarge, "at most 65536"},
		{"not a bundle", write("junk", []byte(strings.Repeat("junk", 100))), bundle.ErrNotBundle, "bad magic"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := snapshot(t, f.dir)
			_, err := f.u.ApplyFile(ctx, c.path, nil)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.why) {
				t.Errorf("err = %q, want it to say %q", err, c.why)
			}
			sameFiles(t, before, snapshot(t, f.dir))
			if r := f.history.Last(); r.Outcome != updates.Refused || r.Why != err.Error() || r.From != "1.0.0" {
				t.Errorf("history = %+v", r)
			}
		})
	}
	if r := f.history.Records()[0]; r.To != "2.0.0" || r.ToBuild != 2 {
		t.Errorf("refusal of a parsable bundle does not name its version: %+v", r)
	}
	// After all that, the good bundle still applies.
	if _, err := f.u.ApplyFile(ctx, good, nil); err != nil {
		t.Fatal(err)
	}
}

// headerOnly fails any read beyond the header: the oversized manifest
// must be refused from the header alone.
type headerOnly struct{ b []byte }

func (h headerOnly) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > bundle.HeaderSize {
		return 0, errors.New("read beyond the header")
	}
	return copy(p, h.b[off:]), nil
}

func TestOversizedManifestNotRead(t *testing.T) {
	f := newFixture(t)
	h := bundle.Header{Format: bundle.Format, ManifestLen: 1 << 30, PayloadLen: 10}.Marshal()
	_, err := f.u.Apply(ctx, headerOnly{h}, 1<<31, nil)
	if !errors.Is(err, bundle.ErrManifestTooLarge) {
		t.Fatalf("err = %v", err)
	}
}

func TestTrialNotCommittedFallsBack(t *testing.T) {
	f := newFixture(t)
	path := f.bundle(spec{})
	if _, err := f.u.ApplyFile(ctx, path, nil); err != nil {
		t.Fatal(err)
	}
	if br, _ := f.u.Boot(ctx); br.State.Booted != "B" {
		t.Fatalf("trial boot = %+v", br)
	}
	// While in trial, nothing may overwrite slot A (the fallback).
	before := snapshot(t, f.dir)
	if _, err := f.u.ApplyFile(ctx, f.bundle(spec{version: "3.0.0", build: 3}), nil); !errors.Is(err, updates.ErrTrialRunning) {
		t.Fatalf("apply during trial: %v", err)
	}
	sameFiles(t, before, snapshot(t, f.dir))
	// boxd hangs; the watchdog reboots; Boot goes back to A.
	f.reopen()
	br, err := f.u.Boot(ctx)
	if err != nil || !br.FellBack || br.FromTrial != "B" || br.State.Booted != "A" || br.State.Trial != "" {
		t.Fatalf("second boot = %+v %v", br, err)
	}
	r := f.history.Last()
	if r.Outcome != updates.RolledBack || r.From != "2.0.0" || r.To != "1.0.0" || !strings.Contains(r.Why, "not committed") {
		t.Fatalf("history = %+v", r)
	}
	if floor, _ := f.floor.Get(); floor != 1 {
		t.Fatalf("floor = %d", floor)
	}
	fileIs(t, f.slots.Path("A", "root"), v1Root)
	// Commit outside a trial does nothing; the same bundle can be tried again.
	if err := f.u.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.slots.State(); st.Active != "A" {
		t.Fatalf("commit outside trial changed state: %+v", st)
	}
	if _, err := f.u.ApplyFile(ctx, path, nil); err != nil {
		t.Fatal(err)
	}
}

func TestHealthFailureAbandons(t *testing.T) {
	f := newFixture(t)
	if _, err := f.u.ApplyFile(ctx, f.bundle(spec{}), nil); err != nil {
		t.Fatal(err)
	}
	f.u.Boot(ctx)
	if err := f.u.Abandon(ctx, "xmpp: login failed"); err != nil {
		t.Fatal(err)
	}
	if r := f.history.Last(); r.Outcome != updates.RolledBack || r.Why != "xmpp: login failed" {
		t.Fatalf("history = %+v", r)
	}
	br, _ := f.u.Boot(ctx)
	if br.State.Booted != "A" || br.FellBack {
		t.Fatalf("boot after abandon = %+v", br)
	}
}

func TestPendingTrialIsReplaced(t *testing.T) {
	f := newFixture(t)
	if _, err := f.u.ApplyFile(ctx, f.bundle(spec{}), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.u.ApplyFile(ctx, f.bundle(spec{version: "2.1.0", build: 3}), nil); err != nil {
		t.Fatal(err)
	}
	root, _ := payloadsOf("2.1.0")
	fileIs(t, f.slots.Path("B", "root"), root)
	st, _ := f.slots.State()
	if st.Trial != "B" || st.Slots["B"].Version != "2.1.0" {
		t.Fatalf("state = %+v", st)
	}
}

func TestKeyRotation(t *testing.T) {
	f := newFixture(t)
	// Key 2 is lost; keys 0 and 1 hand trust to {0, 1, new}.
	newKey := genKeys(t, 1)[0]
	next, _ := trust.NewSet(1, 2, pubs(f.keys[0], f.keys[1], newKey))
	rot, _ := trust.NewRotation(next)
	rot.Sign(f.keys[0])
	rot.Sign(f.keys[1])

	// A bundle signed by the new key needs the statement.
	signers := []trust.PrivateKey{f.keys[0], newKey}
	if _, err := f.u.ApplyFile(ctx, f.bundle(spec{signers: signers}), nil); !errors.Is(err, trust.ErrUnknownKey) {
		t.Fatalf("new key before rotation: %v", err)
	}
	// A statement signed by the new key itself is not enough.
	forged, _ := trust.NewRotation(next)
	forged.Sign(newKey)
	forged.Sign(f.keys[0])
	if _, err := f.u.ApplyFile(ctx, f.bundle(spec{signers: signers, rotation: []trust.SignedRotation{forged}}), nil); !errors.Is(err, trust.ErrUnknownKey) {
		t.Fatalf("self-signed rotation: %v", err)
	}
	if s, _ := f.u.TrustedSet(); s.Seq != 0 {
		t.Fatalf("forged rotation stored: %d", s.Seq)
	}
	if _, err := f.u.ApplyFile(ctx, f.bundle(spec{signers: signers, rotation: []trust.SignedRotation{rot}}), nil); err != nil {
		t.Fatal(err)
	}
	if s, _ := f.u.TrustedSet(); s.Seq != 1 {
		t.Fatalf("key set = %d, want 1", s.Seq)
	}
	// The retired key no longer counts.
	_, err := f.u.ApplyFile(ctx, f.bundle(spec{version: "2.0.1", build: 3, signers: []trust.PrivateKey{f.keys[0], f.keys[2]}}), nil)
	if !errors.Is(err, trust.ErrUnknownKey) {
		t.Fatalf("retired key: %v", err)
	}

	// Standalone statement: set 1 hands over to {new} alone.
	only, _ := trust.NewSet(2, 1, pubs(newKey))
	r2, _ := trust.NewRotation(only)
	r2.Sign(newKey)
	if _, err := f.u.RotateKeys(r2.Marshal()); !errors.Is(err, trust.ErrTooFew) {
		t.Fatalf("under-signed rotation: %v", err)
	}
	r2.Sign(f.keys[1])
	if s, err := f.u.RotateKeys(r2.Marshal()); err != nil || s.Seq != 2 {
		t.Fatalf("rotation 2: %v", err)
	}
	if _, err := f.u.RotateKeys(r2.Marshal()); !errors.Is(err, trust.ErrRotationGap) {
		t.Fatalf("replayed rotation: %v", err)
	}
	if _, err := f.u.ApplyFile(ctx, f.bundle(spec{version: "2.0.2", build: 4, signers: []trust.PrivateKey{newKey}}), nil); err != nil {
		t.Fatal(err)
	}
}
