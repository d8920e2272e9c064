package gokrazyslots

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/chatsecure/box/images"
	"github.com/chatsecure/box/updates"
)

const (
	bootBytes = 16 << 20
	rootBytes = 1 << 20
)

var (
	v1Root = bytes.Repeat([]byte("root v1 "), rootBytes/8/2)
	diskID = images.DiskIDForHost("box")
)

// bootFS writes a FAT16 boot file system like the image build's: cmdline.txt
// naming root A, and a kernel whose content says which release it is.
func bootFS(t testing.TB, path, kernel string) {
	t.Helper()
	line, err := images.Cmdline("root=/dev/sda2 ro init=/gokrazy/init panic=10", diskID.RootArg(), []string{"ttyS0,115200"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	files := []images.BootFile{{Name: "/cmdline.txt", Data: images.CmdlineFile(line)}, {Name: "/vmlinuz", Data: []byte(kernel)}}
	if err := images.WriteBootFS(context.Background(), path, bootBytes, 0, files); err != nil {
		t.Fatal(err)
	}
}

// newDisk lays out a gokrazy disk image file: boot FAT, root A holding v1,
// an empty root B. (No /perm: the state directory stands in for it.)
func newDisk(t testing.TB) ImageDisk {
	t.Helper()
	path := filepath.Join(t.TempDir(), "disk.img")
	bootFS(t, path, "kernel v1")
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(bootBytes + 2*rootBytes); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(v1Root, bootBytes); err != nil {
		t.Fatal(err)
	}
	return ImageDisk{Path: path, Parts: map[int]Extent{
		partBoot: {0, bootBytes}, partA: {bootBytes, rootBytes}, partB: {bootBytes + rootBytes, rootBytes},
	}}
}

var partnroffRe = regexp.MustCompile(`root=PARTUUID=[0-9a-f-]+/PARTNROFF=([12])\s`)

// machine plays the boot chain of a gokrazy box on a disk image, written
// from gokrazy's behaviour rather than from this package's code: the
// bootloader reads the first line of cmdline.txt and the kernel; the kernel
// mounts root=; gokrazy's init, seeing try_boot_inactive=1, replaces it in
// place by switch_on_boot=1 (padding with spaces before the newline, as
// update.go does) and pivots to the other root.
type machine struct {
	t      testing.TB
	disk   ImageDisk
	booted int
	kernel string
	boots  int
}

func (m *machine) boot() {
	m.t.Helper()
	f, err := m.disk.Open(partBoot)
	if err != nil {
		m.t.Fatal(err)
	}
	defer f.Close()
	fs, err := images.OpenFAT16(f, 0)
	if err != nil {
		m.t.Fatal(err)
	}
	raw, err := fs.ReadFile("/cmdline.txt")
	if err != nil {
		m.t.Fatal(err)
	}
	k, err := fs.ReadFile("/vmlinuz")
	if err != nil {
		m.t.Fatal(err)
	}
	line, err := images.ParseCmdlineFile(raw)
	if err != nil {
		m.t.Fatalf("bootloader: %v", err)
	}
	mm := partnroffRe.FindStringSubmatch(line + " ")
	if mm == nil {
		m.t.Fatalf("kernel: no root= in %q", line)
	}
	off, _ := strconv.Atoi(mm[1])
	m.booted, m.kernel = off+1, string(k)
	m.boots++
	if !bytes.Contains([]byte(line), []byte("gokrazy.try_boot_inactive=1")) {
		return
	}
	rep := bytes.ReplaceAll(raw, []byte("gokrazy.try_boot_inactive=1"), []byte("gokrazy.switch_on_boot=1"))
	if pad := len(raw) - len(rep); pad > 0 {
		rep = bytes.ReplaceAll(rep, []byte{'\n'}, append(bytes.Repeat([]byte{' '}, pad), '\n'))
	}
	off64, _, _, err := fs.Extent("/cmdline.txt")
	if err != nil {
		m.t.Fatal(err)
	}
	if _, err := f.WriteAt(rep[:len(raw)], off64); err != nil {
		m.t.Fatal(err)
	}
	m.booted = 5 - m.booted // 2 <-> 3
}

// open boots the machine and opens the slots as boxd would at start.
func (m *machine) open(dir string) *Slots {
	m.t.Helper()
	m.boot()
	s, err := Open(Config{Disk: m.disk, Dir: dir, Booted: func() (int, error) { return m.booted, nil },
		Initial: updates.SlotInfo{Version: "1.0.0", Build: 1}})
	if err != nil {
		m.t.Fatal(err)
	}
	return s
}

func (m *machine) cmdline() cmdline {
	m.t.Helper()
	f, err := m.disk.Open(partBoot)
	if err != nil {
		m.t.Fatal(err)
	}
	defer f.Close()
	c, err := readCmdline(f)
	if err != nil {
		m.t.Fatal(err)
	}
	return c
}

func (m *machine) readPart(part int, n int) []byte {
	m.t.Helper()
	f, err := m.disk.Open(part)
	if err != nil {
		m.t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, 0); err != nil {
		m.t.Fatal(err)
	}
	return b
}
