package images

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestFAT16LongNames reads a FAT written by mtools (mcopy writes VFAT long
// names) by long name, and lists a slot directory the way the tryboot slot
// driver copies it.
func TestFAT16LongNames(t *testing.T) {
	needTools(t, "mkfs.fat", "mcopy")
	long := strings.Repeat("very-long-overlay-name-", 5) + "x.dtbo" // 121 chars: 10 LFN entries
	files := []BootFile{
		{Name: "/cmdline.txt", Data: []byte("root=x\n")},
		{Name: "/config.txt", Data: []byte("os_prefix=a/\n")},
		{Name: "/a/vmlinuz", Data: bytes.Repeat([]byte("k"), 70_000)},
		{Name: "/a/bcm2711-rpi-4-b.dtb", Data: []byte("pi4 dtb")},
		{Name: "/a/bcm2712-rpi-5-b.dtb", Data: []byte("pi5 dtb")},
		{Name: "/a/overlays/" + long, Data: []byte("overlay")},
		{Name: "/a/overlays/README", Data: []byte("per slot")},
		{Name: "/a/UPPER.TXT", Data: []byte("upper")},
	}
	img := filepath.Join(t.TempDir(), "boot.vfat")
	if err := WriteBootFS(context.Background(), img, 16*mib, 0, files); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fs, err := OpenFAT16(f, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, bf := range files {
		got, err := fs.ReadFile(bf.Name)
		if err != nil || !bytes.Equal(got, bf.Data) {
			t.Errorf("ReadFile(%s) = %.20q, %v", bf.Name, got, err)
		}
	}
	if got, err := fs.ReadFile("/A/BCM2711-RPI-4-B.DTB"); err != nil || string(got) != "pi4 dtb" {
		t.Errorf("long names are not matched without case: %q %v", got, err)
	}
	ents, err := fs.ReadDir("/a")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name)
		if e.Name == "overlays" != e.Dir {
			t.Errorf("%s: Dir = %v", e.Name, e.Dir)
		}
	}
	slices.Sort(names)
	want := []string{"UPPER.TXT", "bcm2711-rpi-4-b.dtb", "bcm2712-rpi-5-b.dtb", "overlays", "vmlinuz"}
	if !slices.Equal(names, want) {
		t.Errorf("ReadDir(/a) = %q, want %q", names, want)
	}
	ov, err := fs.ReadDir("/a/overlays")
	if err != nil || len(ov) != 2 || !slices.ContainsFunc(ov, func(e FATEntry) bool { return e.Name == long && e.Size == 7 }) {
		t.Errorf("ReadDir(/a/overlays) = %+v, %v", ov, err)
	}
	root, err := fs.ReadDir("/")
	if err != nil || !slices.ContainsFunc(root, func(e FATEntry) bool { return e.Name == "config.txt" }) {
		t.Errorf("ReadDir(/) = %+v, %v", root, err)
	}
	if _, err := fs.ReadDir("/a/vmlinuz"); err == nil {
		t.Error("ReadDir of a file succeeded")
	}
}

func TestLongNameChecksumMismatch(t *testing.T) {
	var l longName
	e := make([]byte, 32)
	e[0], e[11], e[13] = 0x41, 0x0f, 0x99
	copy(e[1:], []byte{'a', 0, 'b', 0, 0, 0})
	l.add(e)
	if got := l.name([]byte("AB         ")); got != "" {
		t.Errorf("long name %q accepted with a wrong checksum", got)
	}
}

// TestFAT16End: a FAT cut at End still reads every file; End is far below
// the file system's size when it is mostly free.
func TestFAT16End(t *testing.T) {
	needTools(t, "mkfs.fat", "mcopy", "fsck.fat")
	files := []BootFile{
		{Name: "/cmdline.txt", Data: []byte("root=x\n")},
		{Name: "/a/vmlinuz", Data: bytes.Repeat([]byte("k"), 300_000)},
		{Name: "/zeros.dtb", Data: append([]byte("dtb"), make([]byte, 9000)...)}, // ends in zero bytes
	}
	img := filepath.Join(t.TempDir(), "boot.vfat")
	if err := WriteBootFS(context.Background(), img, 16*mib, 0, files); err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := OpenFAT16(bytes.NewReader(whole), 0)
	if err != nil {
		t.Fatal(err)
	}
	end, err := fs.End()
	if err != nil {
		t.Fatal(err)
	}
	if end < 309_000 || end > 1*mib {
		t.Fatalf("End = %d", end)
	}
	cut, err := OpenFAT16(bytes.NewReader(whole[:end]), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if got, err := cut.ReadFile(f.Name); err != nil || !bytes.Equal(got, f.Data) {
			t.Errorf("cut FAT: ReadFile(%s): %v", f.Name, err)
		}
	}
	// Copied over a partition holding other data, the cut FAT is whole.
	part := bytes.Repeat([]byte{0xa5}, len(whole))
	copy(part, whole[:end])
	p := filepath.Join(t.TempDir(), "part.vfat")
	os.WriteFile(p, part, 0o644)
	if out, err := exec.Command("fsck.fat", "-n", p).CombinedOutput(); err != nil {
		t.Fatalf("fsck.fat on a partition overwritten with the cut FAT: %v\n%s", err, out)
	}
}
