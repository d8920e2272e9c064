package gokrazyslots

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatsecure/box/updates"
	"github.com/chatsecure/box/updates/updatestest"
)

// TestDeadlineNoteExplainsTheFallback: boxinit's note, left when it
// rebooted a trial at its deadline, ends up in the fallback's history
// record and is removed; a stale note on an ordinary boot is dropped.
func TestDeadlineNoteExplainsTheFallback(t *testing.T) {
	ctx := context.Background()
	m := &machine{t: t, disk: newDisk(t)}
	dir := t.TempDir()
	history := &updatestest.History{}
	boot := func() updates.BootResult {
		t.Helper()
		u, err := updates.New(updates.Config{Target: "amd64", Slots: m.open(dir), Floor: &updatestest.Floor{},
			Trust: &updatestest.TrustStore{}, History: history})
		if err != nil {
			t.Fatal(err)
		}
		r, err := u.Boot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	note := filepath.Join(dir, DeadlineNote)

	boot()
	if err := WriteDeadlineNote(dir, "stale"); err != nil {
		t.Fatal(err)
	}
	if r := boot(); r.FellBack || r.Why != "" {
		t.Fatalf("ordinary boot: %+v", r)
	}
	if _, err := os.Stat(note); !os.IsNotExist(err) {
		t.Fatalf("a stale note was kept: %v", err)
	}

	s := m.open(dir)
	writeRoot(t, s, []byte("root v2 that hangs"))
	if err := s.MarkTrial(updates.SlotInfo{Version: "2.0.0", Build: 2}); err != nil {
		t.Fatal(err)
	}
	if r := boot(); !r.State.InTrial() {
		t.Fatalf("not on trial: %+v", r)
	}
	// boxd hangs; boxinit's deadline passes: it leaves its note, reboots.
	if err := WriteDeadlineNote(dir, "boxinit rebooted the trial of slot B:\nnot committed within 5m0s"); err != nil {
		t.Fatal(err)
	}
	r := boot()
	if !r.FellBack || r.Why != "boxinit rebooted the trial of slot B: not committed within 5m0s" {
		t.Fatalf("fallback: %+v", r)
	}
	recs := history.Records()
	last := recs[len(recs)-1]
	if last.Outcome != updates.RolledBack || !strings.Contains(last.Why, "was not committed") || !strings.HasSuffix(last.Why, "not committed within 5m0s") {
		t.Fatalf("history record %+v", last)
	}
	if _, err := os.Stat(note); !os.IsNotExist(err) {
		t.Fatalf("the note was kept after the fallback: %v", err)
	}
}
