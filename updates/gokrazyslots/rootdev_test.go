package gokrazyslots

import (
	"os"
	"path/filepath"
	"testing"
)

// fakeSys builds the part of sysfs diskOf reads: dev/block/MAJ:MIN links to
// partition directories with a "partition" file beside the disk's own files.
func fakeSys(t *testing.T, disk string, parts map[string]string) string {
	t.Helper()
	sys := t.TempDir()
	diskDir := filepath.Join(sys, "devices", "pci0000:00", "block", disk)
	os.MkdirAll(filepath.Join(diskDir, "queue"), 0o755)
	os.WriteFile(filepath.Join(diskDir, "size"), []byte("1000\n"), 0o644)
	os.MkdirAll(filepath.Join(sys, "dev", "block"), 0o755)
	minor := 0
	for name, num := range parts {
		minor++
		os.MkdirAll(filepath.Join(diskDir, name), 0o755)
		os.WriteFile(filepath.Join(diskDir, name, "partition"), []byte(num+"\n"), 0o644)
		rel, _ := filepath.Rel(filepath.Join(sys, "dev", "block"), filepath.Join(diskDir, name))
		if err := os.Symlink(rel, filepath.Join(sys, "dev", "block", "259:"+num)); err != nil {
			t.Fatal(err)
		}
	}
	return sys
}

func TestDiskOf(t *testing.T) {
	sys := fakeSys(t, "nvme0n1", map[string]string{"nvme0n1p1": "1", "nvme0n1p2": "2", "nvme0n1p3": "3", "nvme0n1p4": "4"})
	d, part, err := diskOf(sys, "/dev", 259, 3)
	if err != nil {
		t.Fatal(err)
	}
	if part != 3 || d[1] != "/dev/nvme0n1p1" || d[3] != "/dev/nvme0n1p3" || len(d) != 4 {
		t.Fatalf("diskOf = %v, %d", d, part)
	}
	if _, _, err := diskOf(sys, "/dev", 259, 9); err == nil {
		t.Error("unknown device resolved")
	}
	short := fakeSys(t, "sda", map[string]string{"sda1": "1", "sda2": "2"})
	if _, _, err := diskOf(short, "/dev", 259, 2); err == nil {
		t.Error("a disk without root B accepted")
	}
}
