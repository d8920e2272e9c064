package sourcetest

import (
	"os"
	"path/filepath"
	"testing"
)

// Sysfs is a fake /sys with block devices under block/.
type Sysfs struct {
	Root string
	t    testing.TB
}

// NewSysfs makes an empty tree in a temporary directory.
func NewSysfs(t testing.TB) *Sysfs {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "block"), 0o755)
	os.MkdirAll(filepath.Join(root, "devices"), 0o755)
	return &Sysfs{Root: root, t: t}
}

// AddDisk adds disk (e.g. "sdb") with removable as its flag and the given
// partitions (e.g. "sdb1"). usb puts the device below a usb bus node (as
// real sticks are) and makes block/disk a symlink to it.
func (s *Sysfs) AddDisk(disk string, removable, usb bool, sectors string, parts ...string) {
	s.t.Helper()
	dev := filepath.Join(s.Root, "devices", "pci0000:00", "ata1", disk)
	if usb {
		dev = filepath.Join(s.Root, "devices", "pci0000:00", "usb1", "1-1", disk)
	}
	must := func(err error) {
		if err != nil {
			s.t.Fatal(err)
		}
	}
	must(os.MkdirAll(dev, 0o755))
	flag := "0\n"
	if removable {
		flag = "1\n"
	}
	must(os.WriteFile(filepath.Join(dev, "removable"), []byte(flag), 0o644))
	must(os.WriteFile(filepath.Join(dev, "size"), []byte(sectors+"\n"), 0o644))
	for _, p := range parts {
		must(os.MkdirAll(filepath.Join(dev, p), 0o755))
		must(os.WriteFile(filepath.Join(dev, p, "partition"), []byte("1\n"), 0o644))
	}
	must(os.Symlink(dev, filepath.Join(s.Root, "block", disk)))
}

// Remove unplugs disk.
func (s *Sysfs) Remove(disk string) {
	s.t.Helper()
	if err := os.Remove(filepath.Join(s.Root, "block", disk)); err != nil {
		s.t.Fatal(err)
	}
}
