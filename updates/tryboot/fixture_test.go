package tryboot

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/chatsecure/box/config"
	"github.com/chatsecure/box/images"
	"github.com/chatsecure/box/updates"
	"github.com/chatsecure/box/updates/gokrazyslots"
	"github.com/chatsecure/box/updates/tryboot/tryboottest"
)

const (
	bootBytes = 16 << 20
	rootBytes = 1 << 20
)

var diskID = images.DiskIDForHost("box")

// kernelOf is a release's fake kernel: its content names the release.
func kernelOf(version string) []byte {
	return bytes.Repeat([]byte("kernel "+version+" "), 3000) // ~45 KB, many clusters
}

func rootOf(version string) []byte { return bytes.Repeat([]byte("root "+version+" "), 1000) }

// release builds a release's boot FAT the way the image builder does
// (images.BootFiles for target pi, images.WriteBootFS), from fake module
// directories whose kernel and device trees name the version. hostname
// seeds the PARTUUID in root=.
func release(t testing.TB, version, hostname string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string][]byte{
		"k/vmlinuz":                  kernelOf(version),
		"k/bcm2710-rpi-3-b.dtb":      []byte("pi3 dtb " + version),
		"k/bcm2711-rpi-4-b.dtb":      []byte("pi4 dtb " + version),
		"k/bcm2712-rpi-5-b.dtb":      []byte("pi5 dtb " + version),
		"k/overlays/disable-bt.dtbo": []byte("overlay " + version),
		"k/overlays/overlay_map.dtb": []byte("map " + version),
		"fw/start4.elf":              []byte("start4"),
		"fw/fixup4.dat":              []byte("fixup4"),
		"fw/bootcode.bin":            []byte("bootcode"),
		"ee/pieeprom-2026-01-01.bin": []byte("eeprom"),
		"ee/vl805-000138c0.bin":      []byte("vl805"),
		"ee/recovery.bin":            []byte("recovery"),
	}
	for name, b := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	line, err := images.Cmdline("root=/dev/mmcblk0p2 init=/gokrazy/init rootwait panic=10", images.DiskIDForHost(hostname).RootArg(), []string{"tty1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := images.ConfigTxt("arm_control=0x200\nenable_uart=0\nkernel=vmlinuz\n# release "+version+"\n", config.Default().GPIO)
	if err != nil {
		t.Fatal(err)
	}
	bf, err := images.BootFiles(images.Targets["pi"], filepath.Join(dir, "k"), filepath.Join(dir, "fw"), filepath.Join(dir, "ee"), images.CmdlineFile(line), cfg)
	if err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "boot.vfat")
	if err := images.WriteBootFS(context.Background(), img, bootBytes, 8192, bf); err != nil {
		t.Fatal(err)
	}
	return img
}

// flash puts a release's boot FAT in place as the box's boot partition:
// copied out with mtools (not our reader) into the directory that plays
// the mounted FAT.
func flash(t testing.TB, img, bootDir string) {
	t.Helper()
	cmd := exec.Command("mcopy", "-s", "-n", "-Q", "-i", img, "::/*", bootDir+"/")
	cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mcopy: %v\n%s", err, out)
	}
}

// box is a Pi 4 or 5 with a flashed v1 image: a disk image file for the
// roots, a directory for the boot FAT, a state directory, a device tree.
type box struct {
	t       testing.TB
	model   tryboottest.Model
	disk    gokrazyslots.ImageDisk
	bootDir string
	state   string
	dt      string
	restart *tryboottest.Restarter
	mounts  *tryboottest.Counted
	booted  int // root partition the last boot mounted
	fw      tryboottest.Boot
	boots   int
}

func newBox(t testing.TB, model tryboottest.Model) *box {
	t.Helper()
	dir := t.TempDir()
	b := boxAt(t, dir, model)
	os.MkdirAll(b.bootDir, 0o755)
	flash(t, release(t, "1.0.0", "box"), b.bootDir)
	if err := os.WriteFile(b.disk.Path, make([]byte, 2*rootBytes), 0o644); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(b.disk.Path, os.O_RDWR, 0)
	f.WriteAt(rootOf("1.0.0"), 0)
	f.Close()
	return b
}

// boxAt is the box whose files are in dir (the crash test's child reopens
// its parent's box).
func boxAt(t testing.TB, dir string, model tryboottest.Model) *box {
	return &box{t: t, model: model, bootDir: filepath.Join(dir, "boot"), state: filepath.Join(dir, "perm"), dt: filepath.Join(dir, "dt"), restart: &tryboottest.Restarter{},
		mounts: &tryboottest.Counted{Dir: tryboottest.Dir(filepath.Join(dir, "boot"))},
		disk: gokrazyslots.ImageDisk{Path: filepath.Join(dir, "disk.img"), Parts: map[int]gokrazyslots.Extent{
			partBoot: {Offset: 0, Size: bootBytes}, // size only: the boot FAT is bootDir
			partA:    {Offset: 0, Size: rootBytes}, partB: {Offset: rootBytes, Size: rootBytes},
		}}}
}

func (b *box) read(p string) ([]byte, error) { return os.ReadFile(filepath.Join(b.bootDir, p)) }

var partnroffRe = regexp.MustCompile(`(?:^|\s)root=PARTUUID=[0-9a-fA-F-]+/PARTNROFF=([0-9]+)(?:\s|$)`)

// boot plays a (re)boot: the firmware reads config.txt, or tryboot.txt if
// the last restart asked for tryboot (the flag is one-shot: it is used up
// here); the kernel mounts the root cmdline.txt names.
func (b *box) boot(tryboot bool) {
	b.t.Helper()
	fw, err := tryboottest.Resolve(b.read, b.model, tryboot)
	if err != nil {
		b.t.Fatalf("boot %d: firmware: %v", b.boots+1, err)
	}
	m := partnroffRe.FindStringSubmatch(fw.Cmdline)
	if m == nil {
		b.t.Fatalf("boot %d: kernel: no root= in %q", b.boots+1, fw.Cmdline)
	}
	off, _ := strconv.Atoi(m[1])
	b.booted, b.fw = off+1, fw
	b.boots++
	compat := map[tryboottest.Model]string{tryboottest.Pi4: "brcm,bcm2711", tryboottest.Pi5: "brcm,bcm2712", tryboottest.Pi3: "brcm,bcm2837"}[b.model]
	if err := tryboottest.WriteDeviceTree(b.dt, []string{"raspberrypi,model", compat}, fw.Prefix, tryboot); err != nil {
		b.t.Fatal(err)
	}
}

// reboot boots as the last restart asked: tryboot or not.
func (b *box) reboot() {
	b.t.Helper()
	arg, _ := b.restart.Last()
	b.restart.Args = nil
	b.boot(arg == TrybootArg)
}

func (b *box) config() Config {
	return Config{Disk: b.disk, Boot: b.mounts, Dir: b.state, DeviceTree: b.dt, Restart: b.restart,
		Booted: func() (int, error) { return b.booted, nil }, Initial: updates.SlotInfo{Version: "1.0.0", Build: 1}}
}

// open opens the slots as boxd does at start.
func (b *box) open() *Slots {
	b.t.Helper()
	s, err := Open(b.config())
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}

// kernelVersion says which release's kernel the last boot started.
func (b *box) kernelVersion() string {
	for _, v := range []string{"1.0.0", "2.0.0", "3.0.0", "4.0.0"} {
		if bytes.Equal(b.fw.Kernel, kernelOf(v)) {
			return v
		}
	}
	return fmt.Sprintf("unknown kernel (%d bytes)", len(b.fw.Kernel))
}

// apply writes a release's root and boot payloads as updates.Apply does.
func apply(t testing.TB, s *Slots, version string) {
	t.Helper()
	applyPayload(t, s, version, release(t, version, "box"))
}

// applyPayload is apply with a boot payload built before.
func applyPayload(t testing.TB, s *Slots, version, bootPayload string) {
	t.Helper()
	for _, p := range []struct {
		name string
		src  io.Reader
	}{{"root", bytes.NewReader(rootOf(version))}, {"boot", openFile(t, bootPayload)}} {
		part, err := s.OpenInactive(p.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.NewOffsetWriter(part, 0), p.src); err != nil {
			t.Fatal(err)
		}
		if err := part.Sync(); err != nil {
			t.Fatal(err)
		}
		part.Close()
	}
}

// openFile reads a boot payload cut after its last used cluster, as
// boxbuild bundles it.
func openFile(t testing.TB, p string) io.Reader {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := images.OpenFAT16(bytes.NewReader(b), 0)
	if err != nil {
		t.Fatal(err)
	}
	end, err := fs.End()
	if err != nil || end >= int64(len(b)) {
		t.Fatalf("payload End = %d of %d bytes, %v", end, len(b), err)
	}
	return bytes.NewReader(b[:end])
}
