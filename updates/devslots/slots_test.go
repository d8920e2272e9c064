package devslots

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chatsecure/box/updates"
)

func TestTrialCycle(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, updates.SlotInfo{Version: "1.0.0", Build: 1}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"rootA.img", "rootB.img", "bootA.img", "bootB.img", StateFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	if _, err := s.Capacity("bios"); err == nil {
		t.Fatal("unknown payload has a partition")
	}
	p, err := s.OpenInactive("root")
	if err != nil {
		t.Fatal(err)
	}
	p.WriteAt([]byte("v2"), 0)
	p.Close()
	if err := s.MarkTrial(updates.SlotInfo{Version: "2.0.0", Build: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenInactive("root"); err == nil {
		t.Fatal("opened the slot marked for trial")
	}
	steps := []struct {
		booted   string
		fellBack bool
	}{{"B", false}, {"A", true}, {"A", false}}
	for i, want := range steps {
		r, err := s.Boot()
		if err != nil || r.State.Booted != want.booted || r.FellBack != want.fellBack {
			t.Fatalf("boot %d = %+v %v, want %+v", i, r, err, want)
		}
	}
	if err := s.Commit(); err == nil {
		t.Fatal("commit outside a trial")
	}
	s.MarkTrial(updates.SlotInfo{Version: "2.0.0", Build: 2})
	s.Boot()
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	// Reopening keeps the state; the initial info is only for new dirs.
	s, _ = Open(dir, updates.SlotInfo{Version: "9.9.9"}, 1<<20)
	st, _ := s.State()
	if st.Active != "B" || st.Booted != "B" || st.Slots["B"].Version != "2.0.0" || st.Slots["A"].Version != "1.0.0" || st.Inactive() != "A" {
		t.Fatalf("state = %+v", st)
	}
}

func TestBadStateRefused(t *testing.T) {
	dir := t.TempDir()
	Open(dir, updates.SlotInfo{}, 1)
	for _, bad := range []string{`{`, `{"active":"C","booted":"A"}`, `{"active":"A","booted":"A","trial":"A"}`} {
		os.WriteFile(filepath.Join(dir, StateFile), []byte(bad), 0o644)
		if _, err := Open(dir, updates.SlotInfo{}, 1); err == nil {
			t.Errorf("state %s accepted", bad)
		}
	}
}
