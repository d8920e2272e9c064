package tryboot

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chatsecure/box/images"
	"github.com/chatsecure/box/updates"
	"github.com/chatsecure/box/updates/gokrazyslots"
	"github.com/chatsecure/box/updates/tryboot/tryboottest"
)

var models = []tryboottest.Model{tryboottest.Pi4, tryboottest.Pi5}

func TestFreshImage(t *testing.T) {
	for _, model := range models {
		b := newBox(t, model)
		b.boot(false)
		if b.fw.Prefix != "a/" || b.booted != partA || b.kernelVersion() != "1.0.0" {
			t.Fatalf("%s: fresh image boots prefix %q root %d kernel %s", model, b.fw.Prefix, b.booted, b.kernelVersion())
		}
		if !Detect(b.dt) {
			t.Errorf("%s: Detect = false on a slot boot", model)
		}
		s := b.open()
		st, err := s.State()
		if err != nil || st.Active != "A" || st.Booted != "A" || st.Trial != "" || st.Slots["A"].Version != "1.0.0" {
			t.Fatalf("state %+v, %v", st, err)
		}
		if !slices.Equal(s.Required(), []string{"root", "boot"}) {
			t.Errorf("Required = %v", s.Required())
		}
		if r, err := s.Boot(); err != nil || r.FellBack || r.State.InTrial() {
			t.Fatalf("Boot = %+v, %v", r, err)
		}
		if err := s.Reboot(); err != nil {
			t.Fatal(err)
		}
		if arg, _ := b.restart.Last(); arg != "" {
			t.Errorf("reboot without a trial asked for %q", arg)
		}
	}
	// A Pi 3 boots the FAT's root files: not a tryboot box.
	b := newBox(t, tryboottest.Pi3)
	b.boot(false)
	if b.fw.Prefix != "" || Detect(b.dt) {
		t.Errorf("Pi 3 boots prefix %q, Detect %v", b.fw.Prefix, Detect(b.dt))
	}
}

// normalBoot is what any boot without the tryboot flag resolves to.
func (b *box) normalBoot() tryboottest.Boot {
	b.t.Helper()
	fw, err := tryboottest.Resolve(b.read, b.model, false)
	if err != nil {
		b.t.Fatalf("normal boot path broken: %v", err)
	}
	return fw
}

func TestTrialCommit(t *testing.T) {
	for _, model := range models {
		b := newBox(t, model)
		b.boot(false)
		s := b.open()
		before := b.normalBoot()
		apply(t, s, "2.0.0")
		if err := s.MarkTrial(updates.SlotInfo{Version: "2.0.0", Build: 2}); err != nil {
			t.Fatal(err)
		}
		if after := b.normalBoot(); after.Prefix != "a/" || !bytes.Equal(after.Kernel, before.Kernel) || after.Cmdline != before.Cmdline {
			t.Fatalf("MarkTrial changed the normal boot path: %+v", after.Prefix)
		}
		if _, err := os.Stat(filepath.Join(b.bootDir, "b", "overlays", "README")); err != nil {
			t.Errorf("slot b/ lacks its overlays/README: %v", err)
		}
		if err := s.Reboot(); err != nil {
			t.Fatal(err)
		}
		if arg, _ := b.restart.Last(); arg != TrybootArg {
			t.Fatalf("reboot after MarkTrial asked for %q", arg)
		}
		b.reboot()
		if b.fw.Config != "tryboot.txt" || b.fw.Prefix != "b/" || b.booted != partB || b.kernelVersion() != "2.0.0" || string(b.fw.DTB) != map[tryboottest.Model]string{tryboottest.Pi4: "pi4 dtb 2.0.0", tryboottest.Pi5: "pi5 dtb 2.0.0"}[model] {
			t.Fatalf("trial boot: %s prefix %q root %d kernel %s dtb %q", b.fw.Config, b.fw.Prefix, b.booted, b.kernelVersion(), b.fw.DTB)
		}
		if !strings.Contains(b.fw.Cmdline, "root=PARTUUID="+strings.TrimSuffix(strings.TrimPrefix(diskID.RootArg(), "PARTUUID="), "/PARTNROFF=1")+"/PARTNROFF=2 ") {
			t.Errorf("trial cmdline %q does not name partition 3 of this disk", b.fw.Cmdline)
		}
		s = b.open()
		r, err := s.Boot()
		if err != nil || !r.State.InTrial() || r.State.TrialBoots != 1 || r.State.Active != "A" || r.State.Slots["B"].Version != "2.0.0" {
			t.Fatalf("trial Boot = %+v, %v", r, err)
		}
		if _, err := s.OpenInactive("root"); err == nil {
			t.Fatal("opened the running root for writing")
		}
		if err := s.MarkTrial(updates.SlotInfo{Version: "3.0.0"}); err == nil {
			t.Fatal("MarkTrial while running a trial")
		}
		cfgBefore, _ := b.read("/config.txt")
		if err := s.Commit(); err != nil {
			t.Fatal(err)
		}
		cfgAfter, _ := b.read("/config.txt")
		if len(cfgAfter) != len(cfgBefore) || !strings.Contains(string(cfgAfter), "# release 2.0.0") {
			t.Errorf("commit: config.txt %d → %d bytes, or not the new release's:\n%s", len(cfgBefore), len(cfgAfter), cfgAfter)
		}
		if _, err := b.read("/tryboot.txt"); err == nil {
			t.Error("tryboot.txt left after commit")
		}
		for i := range 2 {
			if err := s.Reboot(); err != nil {
				t.Fatal(err)
			}
			b.reboot()
			s = b.open()
			r, err := s.Boot()
			if err != nil || b.booted != partB || b.kernelVersion() != "2.0.0" || r.FellBack || r.State.InTrial() || r.State.Active != "B" {
				t.Fatalf("boot %d after commit: root %d kernel %s %+v %v", i, b.booted, b.kernelVersion(), r, err)
			}
		}
		if err := s.Commit(); err == nil {
			t.Fatal("Commit outside a trial")
		}
		// The next release goes to slot A, while b/ stays the normal path.
		apply(t, s, "3.0.0")
		if err := s.MarkTrial(updates.SlotInfo{Version: "3.0.0", Build: 3}); err != nil {
			t.Fatal(err)
		}
		if fw := b.normalBoot(); fw.Prefix != "b/" || !bytes.Equal(fw.Kernel, kernelOf("2.0.0")) {
			t.Fatalf("normal path after marking v3: %q", fw.Prefix)
		}
		s.Reboot()
		b.reboot()
		if b.fw.Prefix != "a/" || b.booted != partA || b.kernelVersion() != "3.0.0" {
			t.Fatalf("v3 trial: prefix %q root %d kernel %s", b.fw.Prefix, b.booted, b.kernelVersion())
		}
		s = b.open()
		if r, _ := s.Boot(); !r.State.InTrial() {
			t.Fatalf("v3 not on trial: %+v", r)
		}
		if err := s.Commit(); err != nil {
			t.Fatal(err)
		}
		s.Reboot()
		b.reboot()
		if b.fw.Prefix != "a/" || b.kernelVersion() != "3.0.0" {
			t.Fatalf("after v3 commit: prefix %q kernel %s", b.fw.Prefix, b.kernelVersion())
		}
	}
}

func TestUncommittedTrialFallsBack(t *testing.T) {
	b := newBox(t, tryboottest.Pi4)
	b.boot(false)
	s := b.open()
	apply(t, s, "2.0.0")
	if err := s.MarkTrial(updates.SlotInfo{Version: "2.0.0", Build: 2}); err != nil {
		t.Fatal(err)
	}
	s.Reboot()
	b.reboot()
	s = b.open()
	if r, err := s.Boot(); err != nil || !r.State.InTrial() {
		t.Fatalf("trial Boot = %+v, %v", r, err)
	}
	// A second reboot from the trial must not ask for tryboot again.
	s.Reboot()
	if arg, _ := b.restart.Last(); arg != "" {
		t.Fatalf("reboot in a trial asked for %q", arg)
	}
	// The box hangs; boxinit's deadline leaves its note and resets it:
	// no flag.
	why := "boxinit rebooted the trial of slot B: not committed within 5m0s of boot"
	if err := gokrazyslots.WriteDeadlineNote(b.state, why); err != nil {
		t.Fatal(err)
	}
	b.restart.Args = nil
	b.boot(false)
	if b.booted != partA || b.kernelVersion() != "1.0.0" {
		t.Fatalf("watchdog boot: root %d kernel %s", b.booted, b.kernelVersion())
	}
	s = b.open()
	r, err := s.Boot()
	if err != nil || !r.FellBack || r.FromTrial != "B" || r.State.Trial != "" || r.State.Booted != "A" {
		t.Fatalf("fallback Boot = %+v, %v", r, err)
	}
	if r.Why != why {
		t.Errorf("fallback Why = %q, want boxinit's note %q", r.Why, why)
	}
	if _, err := os.Stat(filepath.Join(b.state, gokrazyslots.DeadlineNote)); !os.IsNotExist(err) {
		t.Errorf("boxinit's note left after the fallback read it: %v", err)
	}
	if _, err := b.read("/tryboot.txt"); err == nil {
		t.Error("tryboot.txt left after the fallback")
	}
	// Abandoned by the health check in the trial: ClearTrial, reboot.
	apply(t, s, "3.0.0")
	if err := s.MarkTrial(updates.SlotInfo{Version: "3.0.0", Build: 3}); err != nil {
		t.Fatal(err)
	}
	s.Reboot()
	b.reboot()
	s = b.open()
	if r, _ := s.Boot(); !r.State.InTrial() || b.kernelVersion() != "3.0.0" {
		t.Fatalf("v3 not on trial: %+v", r)
	}
	if err := s.ClearTrial(); err != nil {
		t.Fatal(err)
	}
	s.Reboot()
	b.reboot()
	s = b.open()
	if r, err := s.Boot(); err != nil || b.booted != partA || b.kernelVersion() != "1.0.0" || r.FellBack || r.State.Trial != "" {
		t.Fatalf("boot after abandon: %+v %v root %d kernel %s", r, err, b.booted, b.kernelVersion())
	}
}

func TestPowerCutBeforeTrialReboot(t *testing.T) {
	b := newBox(t, tryboottest.Pi5)
	b.boot(false)
	s := b.open()
	apply(t, s, "2.0.0")
	if err := s.MarkTrial(updates.SlotInfo{Version: "2.0.0", Build: 2}); err != nil {
		t.Fatal(err)
	}
	b.boot(false) // power cut: the flag is never set
	s = b.open()
	r, err := s.Boot()
	if err != nil || !r.FellBack || b.kernelVersion() != "1.0.0" {
		t.Fatalf("Boot after a power cut = %+v, %v, kernel %s", r, err, b.kernelVersion())
	}
	// The next apply works.
	apply(t, s, "2.0.0")
	if err := s.MarkTrial(updates.SlotInfo{Version: "2.0.0", Build: 2}); err != nil {
		t.Fatal(err)
	}
	s.Reboot()
	b.reboot()
	if b.kernelVersion() != "2.0.0" {
		t.Fatalf("retry boots %s", b.kernelVersion())
	}
}

func TestMarkTrialRefuses(t *testing.T) {
	b := newBox(t, tryboottest.Pi4)
	b.boot(false)
	s := b.open()
	// Root only: a slot without its kernel set is not bootable.
	p, _ := s.OpenInactive("root")
	p.WriteAt(rootOf("2.0.0"), 0)
	p.Close()
	if err := s.MarkTrial(updates.SlotInfo{Version: "2.0.0"}); err == nil {
		t.Fatal("MarkTrial without a boot payload")
	}
	// A boot payload that is not a slot-layout FAT.
	for _, bad := range [][]byte{bytes.Repeat([]byte("x"), 4096), mustRead(t, oldLayout(t))} {
		p, _ := s.OpenInactive("boot")
		p.WriteAt(bad, 0)
		p.Close()
		if err := s.MarkTrial(updates.SlotInfo{Version: "2.0.0"}); err == nil {
			t.Fatal("MarkTrial took a bad boot payload")
		}
		if st, _ := s.State(); st.Trial != "" {
			t.Fatalf("a refused MarkTrial left trial %q", st.Trial)
		}
		if _, err := os.Stat(filepath.Join(b.bootDir, "b")); err == nil {
			t.Fatal("a refused MarkTrial wrote b/")
		}
	}
	if _, err := s.Capacity("bios"); err == nil {
		t.Error("Capacity(bios)")
	}
}

func mustRead(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// oldLayout is a boot FAT from before the slot layout: no a/, no os_prefix.
func oldLayout(t *testing.T) string {
	img := filepath.Join(t.TempDir(), "old.vfat")
	files := []images.BootFile{{Name: "/cmdline.txt", Data: images.CmdlineFile("root=PARTUUID=x/PARTNROFF=1 init=/gokrazy/init")},
		{Name: "/config.txt", Data: []byte("kernel=vmlinuz\n")}, {Name: "/vmlinuz", Data: []byte("k")}}
	if err := images.WriteBootFS(t.Context(), img, bootBytes, 0, files); err != nil {
		t.Fatal(err)
	}
	return img
}

func TestDetect(t *testing.T) {
	dt := t.TempDir()
	for _, c := range []struct {
		compat []string
		prefix string
		want   bool
	}{
		{[]string{"raspberrypi,4-model-b", "brcm,bcm2711"}, "a/", true},
		{[]string{"raspberrypi,5-model-b", "brcm,bcm2712"}, "b/", true},
		{[]string{"raspberrypi,4-model-b", "brcm,bcm2711"}, "", false},
		{[]string{"raspberrypi,3-model-b", "brcm,bcm2837"}, "a/", false},
	} {
		tryboottest.WriteDeviceTree(dt, c.compat, c.prefix, false)
		if got := Detect(dt); got != c.want {
			t.Errorf("Detect(%v, %q) = %v", c.compat, c.prefix, got)
		}
		if got, want := Pi45(dt), !strings.Contains(c.compat[1], "2837"); got != want {
			t.Errorf("Pi45(%v) = %v", c.compat, got)
		}
	}
	if Detect(filepath.Join(dt, "missing")) || Pi45(filepath.Join(dt, "missing")) {
		t.Error("Detect or Pi45 without a device tree")
	}
}

func TestSlotCmdline(t *testing.T) {
	running := images.CmdlineFile("console=tty1 root=PARTUUID=60c24cc1-0000-0000-0000-000000000001/PARTNROFF=2 init=/gokrazy/init")
	payload := images.CmdlineFile("console=tty1 root=PARTUUID=deadbeef-0000-0000-0000-000000000001/PARTNROFF=1 init=/gokrazy/init rootwait")
	got, err := slotCmdline(payload, running, "B")
	want := "console=tty1 root=PARTUUID=60c24cc1-0000-0000-0000-000000000001/PARTNROFF=2 init=/gokrazy/init rootwait\n"
	if err != nil || !strings.HasPrefix(string(got), want) || len(got) != len(payload) {
		t.Fatalf("slotCmdline = %q, %v", got, err)
	}
	got, _ = slotCmdline(payload, running, "A")
	if !strings.Contains(string(got), "/PARTNROFF=1 ") {
		t.Errorf("slot A cmdline %q", got)
	}
	for _, bad := range []string{"root=/dev/sda2\n", "root=PARTUUID=x/PARTNROFF=1 root=PARTUUID=y/PARTNROFF=1\n", "no newline root=PARTUUID=ab/PARTNROFF=1", "rootfstype=x root=PARTUUID=ab/PARTNROFF=1 oops root=\n"} {
		if _, err := slotCmdline([]byte(bad), running, "B"); err == nil {
			t.Errorf("slotCmdline(%q) accepted", bad)
		}
	}
}

func FuzzSlotCmdline(f *testing.F) {
	f.Add([]byte("console=tty1 root=PARTUUID=60c24cc1-0000-0000-0000-000000000001/PARTNROFF=1 init=/gokrazy/init\n   "))
	f.Add([]byte("root=PARTUUID=ab/PARTNROFF=1\n"))
	f.Add([]byte("root=PARTUUID=ab/PARTNROFF=1 root=PARTUUID=ab/PARTNROFF=2\n"))
	running := []byte("root=PARTUUID=0123abcd/PARTNROFF=1\n")
	f.Fuzz(func(t *testing.T, payload []byte) {
		out, err := slotCmdline(payload, running, "B")
		if err != nil {
			return
		}
		uuid, off, err := rootArg(out)
		if err != nil || uuid != "0123abcd" || off != "2" {
			t.Fatalf("slotCmdline(%q) = %q: root %s/%s, %v", payload, out, uuid, off, err)
		}
	})
}

func FuzzParseFlag(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1})
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := parseFlag(b)
		if err == nil && len(b) != 4 || v && err != nil {
			t.Fatalf("parseFlag(%x) = %v, %v", b, v, err)
		}
	})
}

// TestReadWriteMounts: a read-write mount of a real FAT rewrites its boot
// sector (Linux's dirty flag), so only changes mount read-write: one per
// MarkTrial, Commit or ClearTrial, none for ordinary boots and states.
func TestReadWriteMounts(t *testing.T) {
	b := newBox(t, tryboottest.Pi4)
	b.boot(false)
	for range 3 {
		s := b.open()
		s.Boot()
		s.State()
		s.Reboot()
		b.reboot()
	}
	if n := b.mounts.RWMounts(); n != 0 {
		t.Fatalf("plain boots mounted the boot FAT read-write %d times", n)
	}
	s := b.open()
	apply(t, s, "2.0.0")
	if n := b.mounts.RWMounts(); n != 0 {
		t.Fatalf("writing the payloads mounted read-write %d times", n)
	}
	s.MarkTrial(updates.SlotInfo{Version: "2.0.0", Build: 2})
	s.Reboot()
	b.reboot()
	s = b.open()
	s.Boot()
	if n := b.mounts.RWMounts(); n != 1 {
		t.Fatalf("MarkTrial and the trial boot: %d read-write mounts, want 1", n)
	}
	s.Commit()
	if n := b.mounts.RWMounts(); n != 2 {
		t.Fatalf("after Commit: %d read-write mounts, want 2", n)
	}
}

// failRW is a boot FAT that cannot be mounted read-write.
type failRW struct{ tryboottest.Dir }

func (f failRW) Mount(rw bool) (string, func() error, error) {
	if rw {
		return "", nil, errors.New("mount: read-only medium")
	}
	return f.Dir.Mount(false)
}

// TestMarkTrialFailureForgetsTrial: when the slot cannot be written (the
// FAT does not mount read-write), no tryboot.txt exists, the trial is
// forgotten and the next apply works without a reboot.
func TestMarkTrialFailureForgetsTrial(t *testing.T) {
	b := newBox(t, tryboottest.Pi4)
	b.boot(false)
	cfg := b.config()
	cfg.Boot = failRW{tryboottest.Dir(b.bootDir)}
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, s, "2.0.0")
	if err := s.MarkTrial(updates.SlotInfo{Version: "2.0.0", Build: 2}); err == nil {
		t.Fatal("MarkTrial without a writable FAT succeeded")
	}
	if st, _ := s.State(); st.Trial != "" {
		t.Fatalf("failed MarkTrial left trial %q", st.Trial)
	}
	if _, err := b.read("/tryboot.txt"); err == nil {
		t.Fatal("failed MarkTrial left tryboot.txt")
	}
	s = b.open()
	apply(t, s, "2.0.0")
	if err := s.MarkTrial(updates.SlotInfo{Version: "2.0.0", Build: 2}); err != nil {
		t.Fatal(err)
	}
}
