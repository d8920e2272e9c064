//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/partition/gpt"

	"github.com/chatsecure/box/images"
	"github.com/chatsecure/box/updates"
	"github.com/chatsecure/box/updates/gokrazyslots"
	"github.com/chatsecure/box/updates/tryboot"
	"github.com/chatsecure/box/updates/tryboot/tryboottest"
)

// TestPiImage builds the Pi image (not booted) with the box's cgo programs
// and checks partition table, boot files, config.txt, cmdline.txt and that
// every binary is static arm64.
func TestPiImage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	dir := t.TempDir()
	root := moduleRoot(t)
	progs := []images.Program{{Pkg: "./images/testdata/cgoprobe", Dest: "/user/cgoprobe", Cgo: true}}
	if _, err := os.Stat(filepath.Join(root, "cmd/boxd")); err == nil {
		progs = append(progs, images.Program{Pkg: "./cmd/boxd", Dest: "/user/boxd", Cgo: true})
	}
	target, _ := images.LookupTarget("pi")
	layout := images.DefaultLayoutFor(target)
	start := time.Now()
	res, err := images.Build(ctx, images.Options{
		Target: target, Version: "e2e", Out: filepath.Join(dir, "box-pi-e2e.img"),
		Programs: progs, Layout: layout, ModuleDir: root,
		WorkDir: filepath.Join(dir, "work"), Log: slog.New(slog.NewTextHandler(testWriter{t}, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("pi image built in %s; root squashfs %d bytes", time.Since(start).Round(time.Millisecond), res.RootBytes)
	checkImage(t, res, target, layout)

	fat := openBoot(t, res.Image, layout)
	cfg, err := fat.ReadFile("/config.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"dtparam=spi=on\n", "kernel=vmlinuz\n", "gpio=17=op,dl\n", "gpio=27=ip,pu\n"} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("config.txt lacks %q:\n%s", want, cfg)
		}
	}
	upd, err1 := fat.ReadFile("/pieeprom.upd")
	sig, err2 := fat.ReadFile("/pieeprom.sig")
	if err1 != nil || err2 != nil || string(sig) != fmt.Sprintf("%x\n", sha256.Sum256(upd)) {
		t.Errorf("pieeprom.sig does not hold pieeprom.upd's SHA-256: %v %v %q", err1, err2, sig)
	}
	names := listFAT(t, res.Image, layout)
	for _, want := range []string{"/bootcode.bin", "/start4.elf", "/fixup4.dat", "/bcm2711-rpi-4-b.dtb", "/bcm2712-rpi-5-b.dtb",
		"/overlays/disable-bt.dtbo", "/vmlinuz", "/recovery.bin", "/vl805.bin", "/vl805.sig",
		"/a/vmlinuz", "/a/cmdline.txt", "/a/bcm2711-rpi-4-b.dtb", "/a/bcm2712-rpi-5-b.dtb", "/a/overlays/disable-bt.dtbo", "/a/overlays/README"} {
		if !names[want] {
			t.Errorf("boot partition lacks %s", want)
		}
	}
	if names["/tryboot.txt"] || names["/b"] {
		t.Errorf("a fresh image has a trial slot (tryboot.txt or b/)")
	}
	checkPiSlots(t, fat, res)
}

// checkPiSlots boots the fresh Pi image with the fake firmware of
// updates/tryboot/tryboottest (written from the Raspberry Pi config.txt
// documentation): a Pi 4 and a Pi 5 boot slot A (a/), root partition 2, the
// same kernel as the root set a Pi 3 boots; the tryboot flag without a
// tryboot.txt is refused; the FAT has room for a second slot.
func checkPiSlots(t *testing.T, fat *images.FAT16, res *images.Result) {
	t.Helper()
	kernel, err := fat.ReadFile("/vmlinuz")
	if err != nil {
		t.Fatal(err)
	}
	for _, model := range []tryboottest.Model{tryboottest.Pi4, tryboottest.Pi5, tryboottest.Pi3} {
		b, err := tryboottest.Resolve(fat.ReadFile, model, false)
		if err != nil {
			t.Fatalf("%s: %v", model, err)
		}
		wantPrefix := "a/"
		if model == tryboottest.Pi3 {
			wantPrefix = ""
		}
		if b.Prefix != wantPrefix || !bytes.Equal(b.Kernel, kernel) || b.Cmdline != res.Cmdline || len(b.DTB) == 0 {
			t.Errorf("%s boots prefix %q cmdline %q (kernel same: %v, dtb %d bytes)", model, b.Prefix, b.Cmdline, bytes.Equal(b.Kernel, kernel), len(b.DTB))
		}
		if _, err := tryboottest.Resolve(fat.ReadFile, model, true); err == nil && model != tryboottest.Pi3 {
			t.Errorf("%s: tryboot without tryboot.txt resolved", model)
		}
	}
	if !strings.Contains(res.Cmdline, "/PARTNROFF=1 ") {
		t.Errorf("slot A cmdline %q does not name root partition 2", res.Cmdline)
	}
	checkPiTrial(t, res, kernel)
}

// checkPiTrial marks a trial of the image's own boot payload with the
// tryboot driver, on a copy of the image's boot FAT (copied out with
// mtools: the driver works through the kernel's vfat in a real box, which
// this test cannot mount), then copies the new slot b/ back into the image
// with mtools to show it fits beside a/.
func checkPiTrial(t *testing.T, res *images.Result, kernel []byte) {
	t.Helper()
	layout := images.DefaultLayoutFor(images.Targets["pi"])
	work := t.TempDir()
	bootDir, dt, state := filepath.Join(work, "boot"), filepath.Join(work, "dt"), filepath.Join(work, "perm")
	os.MkdirAll(bootDir, 0o755)
	img := fmt.Sprintf("%s@@%d", res.Image, layout.Partitions()[0].Offset())
	mtools := func(args ...string) {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	mtools("mcopy", "-s", "-n", "-Q", "-i", img, "::/*", bootDir+"/")
	if err := tryboottest.WriteDeviceTree(dt, []string{"raspberrypi,4-model-b", "brcm,bcm2711"}, "a/", false); err != nil {
		t.Fatal(err)
	}
	disk := gokrazyslots.ImageDisk{Path: res.Image, Parts: map[int]gokrazyslots.Extent{}}
	for _, p := range layout.Partitions() {
		disk.Parts[p.Number] = gokrazyslots.Extent{Offset: p.Offset(), Size: p.Size()}
	}
	restart := &tryboottest.Restarter{}
	s, err := tryboot.Open(tryboot.Config{Disk: disk, Boot: tryboottest.Dir(bootDir), Dir: state, DeviceTree: dt, Restart: restart,
		Booted: func() (int, error) { return 2, nil }})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := os.ReadFile(res.BootFS)
	if err != nil {
		t.Fatal(err)
	}
	// Bundled as boxbuild does: up to the last used cluster.
	pfs, err := images.OpenFAT16(bytes.NewReader(payload), 0)
	if err != nil {
		t.Fatal(err)
	}
	end, err := pfs.End()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("pi boot payload: %d MiB of a %d MiB FAT", end>>20, len(payload)>>20)
	payload = payload[:end]
	p, err := s.OpenInactive("boot")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.WriteAt(payload, 0); err != nil {
		t.Fatal(err)
	}
	p.Close()
	if err := s.MarkTrial(updates.SlotInfo{Version: "e2e", Build: 2}); err != nil {
		t.Fatal(err)
	}
	read := func(p string) ([]byte, error) { return os.ReadFile(filepath.Join(bootDir, p)) }
	for _, model := range []tryboottest.Model{tryboottest.Pi4, tryboottest.Pi5} {
		normal, err1 := tryboottest.Resolve(read, model, false)
		trial, err2 := tryboottest.Resolve(read, model, true)
		if err1 != nil || err2 != nil || normal.Prefix != "a/" || trial.Prefix != "b/" || !bytes.Equal(trial.Kernel, kernel) ||
			!strings.Contains(trial.Cmdline, "/PARTNROFF=2 ") || normal.Cmdline != res.Cmdline {
			t.Errorf("%s after MarkTrial: normal %q %v, trial %q %q %v", model, normal.Prefix, err1, trial.Prefix, trial.Cmdline, err2)
		}
	}
	if err := s.Reboot(); err != nil {
		t.Fatal(err)
	}
	if arg, _ := restart.Last(); arg != tryboot.TrybootArg {
		t.Errorf("reboot after MarkTrial asked for %q", arg)
	}
	mtools("mcopy", "-s", "-Q", "-i", img, filepath.Join(bootDir, "b"), filepath.Join(bootDir, "tryboot.txt"), "::/")
	part := layout.Partitions()[0]
	raw := make([]byte, part.Size())
	f, err := os.Open(res.Image)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.ReadAt(raw, part.Offset()); err != nil {
		t.Fatal(err)
	}
	bootCopy := filepath.Join(work, "boot.vfat")
	if err := os.WriteFile(bootCopy, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	mtools("fsck.fat", "-n", bootCopy)
	cmd := exec.Command("mdir", "-i", bootCopy, "::/")
	cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
	if out, err := cmd.Output(); err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		t.Logf("boot FAT (%d MiB) with slots a/ and b/: %s", part.Size()>>20, strings.TrimSpace(lines[len(lines)-1]))
	}
	fat := openBoot(t, res.Image, layout)
	if got, err := fat.ReadFile("/b/vmlinuz"); err != nil || !bytes.Equal(got, kernel) {
		t.Errorf("b/vmlinuz in the image: %d bytes, %v", len(got), err)
	}
}

// checkImage checks what both targets share.
func checkImage(t *testing.T, res *images.Result, target images.Target, layout images.Layout) {
	t.Helper()
	f, err := os.Open(res.Image)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	if st.Size() != layout.DiskSectors()*images.SectorSize {
		t.Errorf("image is %d bytes, want %d", st.Size(), layout.DiskSectors()*images.SectorSize)
	}
	tbl, err := gpt.Read(file.New(f, true), images.SectorSize, images.SectorSize)
	if err != nil {
		t.Fatalf("GPT: %v", err)
	}
	id := images.DiskIDForHost("box")
	for i, p := range layout.Partitions() {
		got := tbl.Partitions[i]
		if int64(got.Start) != p.FirstLBA || !strings.EqualFold(got.GUID, id.PartGUID(i+1)) {
			t.Errorf("partition %d: start %d GUID %s; want %d %s", i+1, got.Start, got.GUID, p.FirstLBA, id.PartGUID(i+1))
		}
	}
	// Partition 2 holds exactly the root payload; the boot payload is p1.
	for i, payload := range []string{res.BootFS, res.RootSquashfs} {
		want, err := os.ReadFile(payload)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(want))
		if _, err := f.ReadAt(got, layout.Partitions()[i].Offset()); err != nil || !bytes.Equal(got, want) {
			t.Errorf("partition %d differs from payload %s (%v)", i+1, payload, err)
		}
	}
	fat := openBoot(t, res.Image, layout)
	raw, err := fat.ReadFile("/cmdline.txt")
	if err != nil {
		t.Fatal(err)
	}
	line, err := images.ParseCmdlineFile(raw)
	if err != nil || line != res.Cmdline || !bytes.HasPrefix(raw, []byte(line+"\n")) {
		t.Errorf("cmdline.txt %q: want %q and a newline (%v)", raw, res.Cmdline, err)
	}
	if !strings.Contains(line, "root="+id.RootArg()+" ") || !strings.Contains(line, "init=/gokrazy/init") {
		t.Errorf("cmdline %q lacks root=%s or init", line, id.RootArg())
	}
	if _, _, contiguous, err := fat.Extent("/cmdline.txt"); err != nil || !contiguous || fat.NumFATs() != 1 {
		t.Errorf("cmdline.txt not where gokrazy's FAT16 reader can edit it: %v", err)
	}

	// Every binary in the root file system must be static, for the target.
	rootDir := filepath.Join(t.TempDir(), "root")
	if out, err := exec.Command("unsquashfs", "-q", "-no-xattrs", "-d", rootDir, res.RootSquashfs).CombinedOutput(); err != nil {
		t.Fatalf("unsquashfs: %v\n%s", err, out)
	}
	var bins []string
	filepath.WalkDir(rootDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		if info, _ := d.Info(); info.Mode()&0o111 != 0 {
			bins = append(bins, p)
			if err := images.CheckStatic(p, target.Machine); err != nil {
				t.Error(err)
			}
		}
		return nil
	})
	if len(bins) < 5 {
		t.Errorf("found only %d executables in the root: %v", len(bins), bins)
	}
	for _, must := range []string{"gokrazy/init", "gokrazy/dhcp", "gokrazy/ntp", "gokrazy/randomd"} {
		if _, err := os.Stat(filepath.Join(rootDir, must)); err != nil {
			t.Errorf("root lacks /%s", must)
		}
	}
	if _, err := os.Stat(filepath.Join(rootDir, "etc/gokr-pw.txt")); err == nil {
		t.Errorf("root has /etc/gokr-pw.txt: gokrazy would serve HTTP on the network")
	}
	if _, err := elf.Open(filepath.Join(rootDir, "gokrazy/init")); err != nil {
		t.Error(err)
	}
}

func openBoot(t *testing.T, img string, layout images.Layout) *images.FAT16 {
	t.Helper()
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fat, err := images.OpenFAT16(f, layout.Partitions()[0].Offset())
	if err != nil {
		t.Fatal(err)
	}
	return fat
}

// listFAT lists the boot partition with mtools, long names included.
func listFAT(t *testing.T, img string, layout images.Layout) map[string]bool {
	t.Helper()
	cmd := exec.Command("mdir", "-i", fmt.Sprintf("%s@@%d", img, layout.Partitions()[0].Offset()), "-/", "-b", "::/")
	cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mdir: %v\n%s", err, out)
	}
	names := map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		if n, ok := strings.CutPrefix(strings.TrimSpace(l), "::"); ok {
			names[strings.TrimSuffix(n, "/")] = true
		}
	}
	return names
}
