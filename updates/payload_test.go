package updates_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"

	"github.com/chatsecure/box/updates"
)

// badFlash flips one bit of everything written through it.
type badFlash struct{ updates.Slots }

func (b badFlash) OpenInactive(p string) (updates.Partition, error) {
	part, err := b.Slots.OpenInactive(p)
	return flipWrites{part}, err
}

type flipWrites struct{ updates.Partition }

func (f flipWrites) WriteAt(p []byte, off int64) (int, error) {
	q := bytes.Clone(p)
	q[len(q)/2] ^= 1
	return f.Partition.WriteAt(q, off)
}

// activeUntouched checks the files a payload-level failure must not touch.
func activeUntouched(t *testing.T, f *fixture, before map[string]string) {
	t.Helper()
	after := snapshot(t, f.dir)
	for _, name := range []string{"rootA.img", "bootA.img", "state.json"} {
		if before[name] != after[name] {
			t.Errorf("%s changed", name)
		}
	}
}

func TestReadBackMismatch(t *testing.T) {
	f := newFixture(t)
	u, err := updates.New(updates.Config{Target: "amd64", Slots: badFlash{f.slots}, Floor: f.floor, Trust: f.trust, History: f.history, Root: f.root})
	if err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, f.dir)
	_, err = u.ApplyFile(ctx, f.bundle(spec{}), nil)
	if !errors.Is(err, updates.ErrReadBack) {
		t.Fatalf("err = %v", err)
	}
	activeUntouched(t, f, before)
	if r := f.history.Last(); r.Outcome != updates.Failed || r.To != "2.0.0" {
		t.Fatalf("history = %+v", r)
	}
}

func TestBundleChangedWhileWriting(t *testing.T) {
	f := newFixture(t)
	b, _ := os.ReadFile(f.bundle(spec{}))
	before := snapshot(t, f.dir)
	flipped := false
	_, err := f.u.Apply(ctx, bytes.NewReader(b), int64(len(b)), func(p updates.Progress) {
		if p.Phase == updates.PhaseWrite && !flipped {
			b[len(b)-3] ^= 1 // in the boot payload, not yet written
			flipped = true
		}
	})
	if !errors.Is(err, updates.ErrPayloadHash) {
		t.Fatalf("err = %v", err)
	}
	activeUntouched(t, f, before)
}

func TestCancelledApply(t *testing.T) {
	f := newFixture(t)
	c, cancel := context.WithCancel(ctx)
	before := snapshot(t, f.dir)
	_, err := f.u.ApplyFile(c, f.bundle(spec{}), func(p updates.Progress) {
		if p.Phase == updates.PhaseWrite {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	activeUntouched(t, f, before)
	if _, err := f.u.ApplyFile(ctx, f.bundle(spec{}), nil); err != nil {
		t.Fatal(err)
	}
}
