package gokrazyslots

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/chatsecure/box/updates"
)

func writeRoot(t *testing.T, s *Slots, data []byte) {
	t.Helper()
	p, err := s.OpenInactive("root")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.WriteAt(data, 0); err != nil {
		t.Fatal(err)
	}
	if err := p.Sync(); err != nil {
		t.Fatal(err)
	}
	back := make([]byte, len(data))
	if _, err := p.ReadAt(back, 0); err != nil || !bytes.Equal(back, data) {
		t.Fatalf("read back: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestFreshImage(t *testing.T) {
	m := &machine{t: t, disk: newDisk(t)}
	s := m.open(t.TempDir())
	st, err := s.State()
	if err != nil {
		t.Fatal(err)
	}
	if st.Active != "A" || st.Booted != "A" || st.Trial != "" || st.Slots["A"].Version != "1.0.0" {
		t.Fatalf("fresh image state %+v", st)
	}
	if got := s.Required(); len(got) != 1 || got[0] != "root" {
		t.Errorf("Required = %v", got)
	}
	if c, err := s.Capacity("root"); err != nil || c != rootBytes {
		t.Errorf("Capacity(root) = %d, %v", c, err)
	}
	if c, err := s.Capacity("boot"); err != nil || c != bootBytes {
		t.Errorf("Capacity(boot) = %d, %v", c, err)
	}
	if _, err := s.Capacity("bios"); err == nil {
		t.Error("Capacity(bios) has a partition")
	}
	r, err := s.Boot()
	if err != nil || r.FellBack || r.State.InTrial() {
		t.Fatalf("plain Boot = %+v, %v", r, err)
	}
}

func TestTrialCommit(t *testing.T) {
	m := &machine{t: t, disk: newDisk(t)}
	dir := t.TempDir()
	s := m.open(dir)
	v2 := bytes.Repeat([]byte("root v2 "), 1000)
	writeRoot(t, s, v2)
	if !bytes.Equal(m.readPart(partA, len(v1Root)), v1Root) {
		t.Fatal("apply touched the active root")
	}
	if err := s.MarkTrial(updates.SlotInfo{Version: "2.0.0", Build: 2}); err != nil {
		t.Fatal(err)
	}
	c := m.cmdline()
	if root, _ := c.root(); root != partA || !c.has(flagTry) {
		t.Fatalf("after MarkTrial cmdline = %q, want root A and %s", c.args, flagTry)
	}
	if _, err := s.OpenInactive("root"); err == nil {
		t.Fatal("opened the slot marked for its trial")
	}

	s = m.open(dir) // reboot: gokrazy's init pivots to B
	if m.booted != partB {
		t.Fatalf("trial boot mounted partition %d", m.booted)
	}
	r, err := s.Boot()
	if err != nil {
		t.Fatal(err)
	}
	if !r.State.InTrial() || r.State.TrialBoots != 1 || r.State.Active != "A" || r.State.Slots["B"].Version != "2.0.0" {
		t.Fatalf("trial Boot = %+v", r)
	}
	if err := s.MarkTrial(updates.SlotInfo{Version: "3.0.0"}); err == nil {
		t.Fatal("MarkTrial while running a trial")
	}
	if _, err := s.OpenInactive("root"); err == nil {
		t.Fatal("opened the running root for writing")
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	c = m.cmdline()
	if root, _ := c.root(); root != partB || c.has(flagTry) || c.has(flagSwitch) {
		t.Fatalf("after Commit cmdline = %q, want root B and no flags", c.args)
	}
	for i := range 2 {
		s = m.open(dir)
		r, err := s.Boot()
		if err != nil || m.booted != partB || r.FellBack || r.State.InTrial() || r.State.Active != "B" || r.State.Booted != "B" {
			t.Fatalf("boot %d after commit: mounted %d, %+v, %v", i, m.booted, r, err)
		}
	}
	if err := s.Commit(); err == nil {
		t.Fatal("Commit outside a trial")
	}
	// The next update goes to A, the old slot.
	writeRoot(t, s, []byte("root v3"))
	if got := m.readPart(partA, 7); string(got) != "root v3" {
		t.Fatalf("root A holds %q", got)
	}
}

func TestUncommittedTrialFallsBack(t *testing.T) {
	m := &machine{t: t, disk: newDisk(t)}
	dir := t.TempDir()
	s := m.open(dir)
	writeRoot(t, s, []byte("root v2 that never becomes healthy"))
	if err := s.MarkTrial(updates.SlotInfo{Version: "2.0.0", Build: 2}); err != nil {
		t.Fatal(err)
	}
	s = m.open(dir)
	if r, err := s.Boot(); err != nil || !r.State.InTrial() {
		t.Fatalf("trial Boot = %+v, %v", r, err)
	}
	// No Commit: the box hangs, the watchdog reboots it.
	s = m.open(dir)
	if m.booted != partA {
		t.Fatalf("second boot mounted partition %d, want the old root", m.booted)
	}
	r, err := s.Boot()
	if err != nil {
		t.Fatal(err)
	}
	if !r.FellBack || r.FromTrial != "B" || r.State.InTrial() || r.State.Trial != "" || r.State.Booted != "A" {
		t.Fatalf("fallback Boot = %+v", r)
	}
	c := m.cmdline()
	if root, _ := c.root(); root != partA || c.has(flagTry) || c.has(flagSwitch) {
		t.Fatalf("after fallback cmdline = %q", c.args)
	}
	s = m.open(dir)
	if r, err := s.Boot(); err != nil || r.FellBack || m.booted != partA {
		t.Fatalf("boot after fallback: %+v, %v, mounted %d", r, err, m.booted)
	}
	// A trial abandoned by the health check: ClearTrial in the trial boot.
	writeRoot(t, s, []byte("root v3"))
	if err := s.MarkTrial(updates.SlotInfo{Version: "3.0.0", Build: 3}); err != nil {
		t.Fatal(err)
	}
	s = m.open(dir)
	if r, _ := s.Boot(); !r.State.InTrial() {
		t.Fatalf("v3 is not on trial: %+v", r)
	}
	if err := s.ClearTrial(); err != nil {
		t.Fatal(err)
	}
	s = m.open(dir)
	if r, err := s.Boot(); err != nil || m.booted != partA || r.FellBack || r.State.Trial != "" {
		t.Fatalf("boot after abandon: %+v, %v, mounted %d", r, err, m.booted)
	}
}

func TestClearPendingTrial(t *testing.T) {
	m := &machine{t: t, disk: newDisk(t)}
	dir := t.TempDir()
	s := m.open(dir)
	writeRoot(t, s, []byte("root v2"))
	if err := s.MarkTrial(updates.SlotInfo{Version: "2.0.0", Build: 2}); err != nil {
		t.Fatal(err)
	}
	if err := s.ClearTrial(); err != nil {
		t.Fatal(err)
	}
	if c := m.cmdline(); c.has(flagTry) {
		t.Fatalf("ClearTrial left %q", c.args)
	}
	s = m.open(dir)
	if r, err := s.Boot(); err != nil || m.booted != partA || r.FellBack {
		t.Fatalf("boot after ClearTrial: %+v, %v, mounted %d", r, err, m.booted)
	}
	// Many updates in a row must not eat cmdline.txt's slack.
	for i := range 10 {
		writeRoot(t, s, []byte("root again"))
		if err := s.MarkTrial(updates.SlotInfo{Version: "2.0.0", Build: 2}); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if err := s.ClearTrial(); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
	}
}

func TestBootPayload(t *testing.T) {
	m := &machine{t: t, disk: newDisk(t)}
	dir := t.TempDir()
	s := m.open(dir)
	// Commit one update first so the active root is B: the new boot
	// file system names root A (as every image build does) and MarkTrial
	// must point it back at B.
	writeRoot(t, s, []byte("root v2"))
	s.MarkTrial(updates.SlotInfo{Version: "2.0.0", Build: 2})
	s = m.open(dir)
	s.Boot()
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	s = m.open(dir)
	s.Boot()

	newBoot := filepath.Join(t.TempDir(), "boot.vfat")
	bootFS(t, newBoot, "kernel v3")
	payload, err := os.ReadFile(newBoot)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.OpenInactive("boot")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.WriteAt(payload, 0); err != nil {
		t.Fatal(err)
	}
	p.Sync()
	p.Close()
	if m.boot(); m.kernel != "kernel v1" || m.booted != partB {
		t.Fatalf("staging the boot payload changed the boot partition: kernel %q, root %d", m.kernel, m.booted)
	}
	writeRoot(t, s, []byte("root v3"))
	if err := s.MarkTrial(updates.SlotInfo{Version: "3.0.0", Build: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, StagedBootFile)); !os.IsNotExist(err) {
		t.Errorf("staged boot file left behind: %v", err)
	}
	s = m.open(dir)
	if m.kernel != "kernel v3" || m.booted != partA {
		t.Fatalf("trial boot: kernel %q, root %d; want kernel v3 on root A", m.kernel, m.booted)
	}
	if r, _ := s.Boot(); !r.State.InTrial() || r.State.Active != "B" {
		t.Fatalf("trial state %+v", r.State)
	}
	// Not committed: back on root B (with the new kernel: the remaining
	// risk of a shared boot partition, see the README).
	s = m.open(dir)
	if r, _ := s.Boot(); !r.FellBack || m.booted != partB {
		t.Fatalf("fallback: %+v, mounted %d", r, m.booted)
	}
}

func TestStaleStagedBootIsDropped(t *testing.T) {
	m := &machine{t: t, disk: newDisk(t)}
	dir := t.TempDir()
	s := m.open(dir)
	p, err := s.OpenInactive("boot")
	if err != nil {
		t.Fatal(err)
	}
	p.WriteAt([]byte("half a boot partition"), 0)
	p.Close()
	// The apply died; boxd restarts.
	s = m.open(dir)
	if _, err := os.Stat(filepath.Join(dir, StagedBootFile)); !os.IsNotExist(err) {
		t.Fatalf("stale staged boot kept: %v", err)
	}
	writeRoot(t, s, []byte("root v2"))
	if err := s.MarkTrial(updates.SlotInfo{Version: "2.0.0", Build: 2}); err != nil {
		t.Fatal(err)
	}
	if m.boot(); m.kernel != "kernel v1" || m.booted != partB {
		t.Fatalf("kernel %q root %d", m.kernel, m.booted)
	}
}

func TestCommitCrashBeforeStateSave(t *testing.T) {
	m := &machine{t: t, disk: newDisk(t)}
	dir := t.TempDir()
	s := m.open(dir)
	writeRoot(t, s, []byte("root v2"))
	s.MarkTrial(updates.SlotInfo{Version: "2.0.0", Build: 2})
	s = m.open(dir)
	s.Boot()
	// Commit's first step only: root= switched, state file still says trial.
	if err := s.editBoot(partB, false); err != nil {
		t.Fatal(err)
	}
	s = m.open(dir)
	r, err := s.Boot()
	if err != nil || r.FellBack || r.State.Active != "B" || r.State.Trial != "" || m.booted != partB {
		t.Fatalf("after a crash in Commit: %+v, %v, mounted %d", r, err, m.booted)
	}
}

func TestBadCmdlineRefused(t *testing.T) {
	for _, raw := range []string{
		"root=/dev/sda2 ro\n  ",
		"ro init=/gokrazy/init\n  ",
		"root=PARTUUID=60c24cc1-f3f9-427a-8199-0000000001/PARTNROFF=3 ro\n  ",
		"root=PARTUUID=ab/PARTNROFF=1 root=PARTUUID=ab/PARTNROFF=2\n",
		"root=PARTUUID=ab/PARTNROFF=1",
	} {
		if _, err := parseCmdline([]byte(raw)); err == nil {
			t.Errorf("parseCmdline(%q) accepted", raw)
		}
	}
	c, err := parseCmdline([]byte("root=PARTUUID=ab/PARTNROFF=1 ro\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.with(partB, true).bytes(); err == nil {
		t.Error("a flag that does not fit the file was written")
	}
}
