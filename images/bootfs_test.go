package images

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not installed: run images/scripts/deps.sh (Debian dosfstools, mtools, squashfs-tools)", tool)
		}
	}
}

func TestBootFSForGokrazy(t *testing.T) {
	needTools(t, "mkfs.fat", "mcopy", "fsck.fat", "mdir")
	dir := t.TempDir()
	kernel := make([]byte, 3<<20+123) // spans many clusters
	r := rand.New(rand.NewPCG(1, 2))
	for i := range len(kernel) / 2 {
		kernel[i] = byte(r.Uint32())
	}
	dtbo := filepath.Join(dir, "vc4-kms-v3d-pi4.dtbo")
	if err := os.WriteFile(dtbo, []byte("overlay"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmdline := CmdlineFile("console=tty1 root=PARTUUID=x/PARTNROFF=1 ro")
	files := []BootFile{
		{Name: "/vmlinuz", Data: kernel},
		{Name: "/bcm2711-rpi-4-b.dtb", Data: []byte("dtb")},
		{Name: "/overlays/vc4-kms-v3d-pi4.dtbo", Src: dtbo},
		{Name: "/config.txt", Data: []byte("dtparam=spi=on\n")},
		{Name: "/cmdline.txt", Data: cmdline}, // listed last, must land first
	}
	img := filepath.Join(dir, "boot.vfat")
	if err := WriteBootFS(context.Background(), img, 32*mib, 8192, files); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("fsck.fat", "-n", img).CombinedOutput(); err != nil {
		t.Fatalf("fsck.fat: %v\n%s", err, out)
	}
	out, err := exec.Command("mdir", "-i", img, "-/", "-b", "::/").CombinedOutput()
	if err != nil {
		t.Fatalf("mdir: %v\n%s", err, out)
	}
	for _, want := range []string{"::/bcm2711-rpi-4-b.dtb", "::/overlays/vc4-kms-v3d-pi4.dtbo", "::/cmdline.txt", "::/vmlinuz"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("long name %s missing from the FAT:\n%s", want, out)
		}
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
	if fs.NumFATs() != 1 {
		t.Errorf("%d FATs; gokrazy's reader needs 1", fs.NumFATs())
	}
	// gokrazy finds cmdline.txt by its 8.3 entry and edits it in place.
	off, size, contiguous, err := fs.Extent("/cmdline.txt")
	if err != nil {
		t.Fatal(err)
	}
	if size != int64(len(cmdline)) || !contiguous || off != fs.dataStart() {
		t.Errorf("cmdline.txt at %d (+%d, contiguous %v); want the first cluster %d, %d bytes", off, size, contiguous, fs.dataStart(), len(cmdline))
	}
	raw := make([]byte, size)
	if _, err := f.ReadAt(raw, off); err != nil || !bytes.Equal(raw, cmdline) {
		t.Errorf("bytes at cmdline.txt's extent differ: %q, %v", raw, err)
	}
	if _, _, contiguous, err := fs.Extent("/vmlinuz"); err != nil || !contiguous {
		t.Errorf("vmlinuz not contiguous: %v", err)
	}
	for _, c := range []struct {
		name string
		want []byte
	}{{"/vmlinuz", kernel}, {"/config.txt", []byte("dtparam=spi=on\n")}, {"/overlays/vc4-kms-v3d-pi4.dtbo", []byte("overlay")}} {
		// Long names (the overlay) are found through their VFAT entries,
		// which gokrazy's reader skips; it only needs cmdline.txt.
		got, err := fs.ReadFile(c.name)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("ReadFile(%s): %d bytes, %v", c.name, len(got), err)
		}
	}
}

func TestWriteBootFSRejectsBadNames(t *testing.T) {
	for _, n := range []string{"vmlinuz", "/a/../b", "/"} {
		err := WriteBootFS(context.Background(), filepath.Join(t.TempDir(), "b"), 32*mib, 0, []BootFile{{Name: n, Data: []byte("x")}})
		if err == nil {
			t.Errorf("WriteBootFS accepted name %q", n)
		}
	}
}

func TestOpenFAT16RejectsFAT32(t *testing.T) {
	needTools(t, "mkfs.fat")
	img := filepath.Join(t.TempDir(), "f32")
	if out, err := exec.Command("mkfs.fat", "-C", "-F", "32", img, "65536").CombinedOutput(); err != nil {
		t.Fatalf("mkfs.fat: %v\n%s", err, out)
	}
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := OpenFAT16(f, 0); err == nil {
		t.Errorf("OpenFAT16 accepted FAT32, which gokrazy cannot read")
	}
}

func FuzzOpenFAT16(f *testing.F) {
	bs := make([]byte, 4096)
	bs[11], bs[12], bs[13], bs[14], bs[16], bs[17], bs[19], bs[22] = 0, 2, 1, 1, 1, 16, 8, 1
	bs[510], bs[511] = 0x55, 0xaa
	f.Add(bs)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		fs, err := OpenFAT16(bytes.NewReader(b), 0)
		if err != nil {
			return
		}
		fs.ReadFile("/cmdline.txt")
		fs.Extent("/overlays/x.dtbo")
		fs.ReadDir("/")
		fs.ReadDir("/a/overlays")
		if end, err := fs.End(); err == nil && (end < 0 || end > int64(len(b))+1<<32) {
			t.Fatalf("End = %d", end)
		}
	})
}
