package tryboot

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/chatsecure/box/updates"
	"github.com/chatsecure/box/updates/gokrazyslots"
	"github.com/chatsecure/box/updates/tryboot/tryboottest"
)

// roots packs the box's boot directory into a real FAT16 image (mtools,
// not our writer) and asks Roots, and gokrazyslots.Roots, of it.
func (b *box) roots() (next, running, legacyNext string) {
	b.t.Helper()
	img := filepath.Join(b.t.TempDir(), "boot.vfat")
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		b.t.Fatal(err)
	}
	if err := os.Truncate(img, 64<<20); err != nil {
		b.t.Fatal(err)
	}
	entries, err := filepath.Glob(filepath.Join(b.bootDir, "*"))
	if err != nil || len(entries) == 0 {
		b.t.Fatalf("boot dir: %v (%d entries)", err, len(entries))
	}
	copyArgs := append(append([]string{"mcopy", "-s", "-Q", "-i", img}, entries...), "::/")
	for _, args := range [][]string{{"mkfs.fat", "-F", "16", "-f", "1", img}, copyArgs} {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	disk := gokrazyslots.ImageDisk{Path: img, Parts: map[int]gokrazyslots.Extent{partBoot: {Offset: 0, Size: 64 << 20}}}
	booted := func() (int, error) { return b.booted, nil }
	next, running, err = Roots(disk, booted)
	if err != nil {
		b.t.Fatalf("Roots: %v", err)
	}
	legacyNext, _, err = gokrazyslots.Roots(disk, booted)
	if err != nil {
		b.t.Fatalf("gokrazyslots.Roots: %v", err)
	}
	return next, running, legacyNext
}

// TestRoots follows boxinit's view of a Pi 4/5 through a trial and its
// commit: the two slots differ exactly while the trial is uncommitted. The
// FAT root's cmdline.txt (the Pi 3's, what gokrazyslots.Roots reads) keeps
// naming slot A, so after the commit it would call the box on trial
// forever and boxinit would reboot it every deadline.
func TestRoots(t *testing.T) {
	b := newBox(t, tryboottest.Pi4)
	b.boot(false)
	if next, running, _ := b.roots(); next != "A" || running != "A" {
		t.Fatalf("fresh box: next %s running %s", next, running)
	}
	s := b.open()
	apply(t, s, "2.0.0")
	if err := s.MarkTrial(updates.SlotInfo{Version: "2.0.0", Build: 2}); err != nil {
		t.Fatal(err)
	}
	if err := s.Reboot(); err != nil {
		t.Fatal(err)
	}
	b.reboot()
	if next, running, _ := b.roots(); next != "A" || running != "B" {
		t.Fatalf("trial boot: next %s running %s, want A B", next, running)
	}
	s = b.open()
	if _, err := s.Boot(); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	next, running, legacy := b.roots()
	if next != "B" || running != "B" {
		t.Fatalf("committed: next %s running %s, want B B", next, running)
	}
	if legacy != "A" {
		t.Fatalf("the Pi 3 cmdline.txt moved to %s: this test no longer shows why Roots exists", legacy)
	}
}
