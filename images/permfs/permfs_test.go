package permfs_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatsecure/box/images"
	"github.com/chatsecure/box/images/permfs"
)

func TestFirstPartitionGUID(t *testing.T) {
	g, err := permfs.FirstPartitionGUID("console=tty1 root=PARTUUID=60C24CC1-F3F9-427A-8199-70C67E320001/PARTNROFF=2 ro\n")
	if err != nil || g != "60c24cc1-f3f9-427a-8199-70c67e320001" {
		t.Errorf("FirstPartitionGUID = %q, %v", g, err)
	}
	for _, bad := range []string{"root=/dev/sda2", "root=PARTUUID=70c67e32-02", "xroot=PARTUUID=60c24cc1-f3f9-427a-8199-70c67e320001/PARTNROFF=1", ""} {
		if _, err := permfs.FirstPartitionGUID(bad); err == nil {
			t.Errorf("FirstPartitionGUID(%q) accepted", bad)
		}
	}
}

func TestPartitionPath(t *testing.T) {
	for disk, want := range map[string]string{"/dev/vda": "/dev/vda4", "/dev/sda": "/dev/sda4", "/dev/mmcblk0": "/dev/mmcblk0p4", "/dev/nvme0n1": "/dev/nvme0n1p4"} {
		if got := permfs.PartitionPath(disk, 4); got != want {
			t.Errorf("PartitionPath(%s) = %s, want %s", disk, got, want)
		}
	}
}

func TestFindDisk(t *testing.T) {
	sys, dev := t.TempDir(), t.TempDir()
	l := images.Layout{BootBytes: 16 << 20, RootBytes: 1 << 20, PermBytes: 1 << 20}
	for name, host := range map[string]string{"vda": "box", "vdb": "other"} {
		if err := os.Mkdir(filepath.Join(sys, name), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(filepath.Join(dev, name))
		if err != nil {
			t.Fatal(err)
		}
		f.Truncate(l.DiskSectors() * images.SectorSize)
		if err := images.WritePartitionTable(f, l, images.DiskIDForHost(host), "0FC63DAF-8483-4772-8E79-3D69D8477DE4"); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	os.Mkdir(filepath.Join(sys, "sr0"), 0o755) // listed, no device file
	got, err := permfs.FindDisk(sys, dev, images.DiskIDForHost("box").PartGUID(1))
	if err != nil || got != filepath.Join(dev, "vda") {
		t.Errorf("FindDisk = %s, %v; want vda", got, err)
	}
	if _, err := permfs.FindDisk(sys, dev, images.DiskIDForHost("nobody").PartGUID(1)); err == nil {
		t.Errorf("FindDisk found a disk for an unknown GUID")
	}
}

func TestFormatIfBlank(t *testing.T) {
	p := filepath.Join(t.TempDir(), "perm")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(64 << 20)
	f.Close()
	formatted, err := permfs.FormatIfBlank(p)
	if err != nil || !formatted {
		t.Fatalf("FormatIfBlank = %v, %v", formatted, err)
	}
	// Debian's e2fsck must find nothing to fix, or the kernel may balk.
	if out, err := exec.Command("e2fsck", "-fn", p).CombinedOutput(); err != nil {
		t.Fatalf("e2fsck on our ext4: %v\n%s", err, out)
	}
	// Now it holds a file system: never format again.
	if formatted, err := permfs.FormatIfBlank(p); !errors.Is(err, permfs.ErrNotBlank) || formatted {
		t.Errorf("second FormatIfBlank = %v, %v; want ErrNotBlank", formatted, err)
	}
}

func TestBlankLooksAtTheFirstMiB(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Truncate(4 << 20)
	if b, err := permfs.Blank(f); err != nil || !b {
		t.Errorf("zeroed: %v, %v", b, err)
	}
	f.WriteAt([]byte{1}, 1<<20-1)
	if b, err := permfs.Blank(f); err != nil || b {
		t.Errorf("a byte set at the end of the first MiB: blank=%v, %v", b, err)
	}
	empty, _ := os.Create(filepath.Join(t.TempDir(), "empty"))
	defer empty.Close()
	if _, err := permfs.Blank(empty); err == nil {
		t.Errorf("empty partition reported blank")
	}
}

func FuzzFirstPartitionGUID(f *testing.F) {
	f.Add("root=PARTUUID=60c24cc1-f3f9-427a-8199-70c67e320001/PARTNROFF=1")
	f.Add("root=PARTUUID=60c24cc1-f3f9-427a-8199-70c67e320001/PARTNROFF=")
	f.Fuzz(func(t *testing.T, s string) {
		g, err := permfs.FirstPartitionGUID(s)
		if err == nil && len(g) != 36 {
			t.Fatalf("FirstPartitionGUID(%q) = %q", s, g)
		}
	})
}

// A grown /perm gets one inode per 64 KiB, so first boot does not write
// a GiB of inode tables onto a big card; a small one keeps go-diskfs's 8 KiB.
func TestFormatInodesPerSize(t *testing.T) {
	for size, inodes := range map[int64]string{64 << 20: "/8192 files", 2 << 30: "/32768 files"} {
		p := filepath.Join(t.TempDir(), "perm")
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(p, size); err != nil {
			t.Fatal(err)
		}
		if ok, err := permfs.FormatIfBlank(p); err != nil || !ok {
			t.Fatalf("FormatIfBlank = %v, %v", ok, err)
		}
		out, err := exec.Command("e2fsck", "-fn", p).CombinedOutput()
		if err != nil || !strings.Contains(string(out), inodes) {
			t.Errorf("%d MiB /perm: e2fsck: %v, want %q in\n%s", size>>20, err, inodes, out)
		}
	}
}
