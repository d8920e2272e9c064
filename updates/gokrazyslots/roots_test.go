package gokrazyslots

import (
	"bytes"
	"testing"

	"github.com/chatsecure/box/updates"
)

// TestRootsThroughATrial: the roots differ exactly while the trial runs
// uncommitted, or was abandoned and not yet rebooted.
func TestRootsThroughATrial(t *testing.T) {
	m := &machine{t: t, disk: newDisk(t)}
	dir := t.TempDir()
	booted := func() (int, error) { return m.booted, nil }
	roots := func(when string, wantNext, wantRunning string) {
		t.Helper()
		next, running, err := Roots(m.disk, booted)
		if err != nil || next != wantNext || running != wantRunning {
			t.Fatalf("%s: next %q running %q (%v), want %q %q", when, next, running, err, wantNext, wantRunning)
		}
	}
	s := m.open(dir)
	roots("fresh", "A", "A")
	writeRoot(t, s, bytes.Repeat([]byte("root v2 "), 100))
	if err := s.MarkTrial(updates.SlotInfo{Version: "2.0.0", Build: 2}); err != nil {
		t.Fatal(err)
	}
	roots("marked, before the reboot", "A", "A")
	s = m.open(dir)
	roots("trial boot", "A", "B")
	if _, err := s.Boot(); err != nil {
		t.Fatal(err)
	}
	roots("trial boot after Boot", "A", "B")
	if err := s.ClearTrial(); err != nil {
		t.Fatal(err)
	}
	roots("abandoned, not rebooted", "A", "B")
	s = m.open(dir)
	roots("after the fallback", "A", "A")

	writeRoot(t, s, bytes.Repeat([]byte("root v3 "), 100))
	if err := s.MarkTrial(updates.SlotInfo{Version: "3.0.0", Build: 3}); err != nil {
		t.Fatal(err)
	}
	s = m.open(dir)
	if _, err := s.Boot(); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	roots("committed", "B", "B")

	if _, _, err := Roots(m.disk, func() (int, error) { return 4, nil }); err == nil {
		t.Fatal("a non-root booted partition was accepted")
	}
}
