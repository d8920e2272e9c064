package images

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
)

// BootFile is one file of the boot partition: Name is its absolute path in
// the FAT, the content comes from Data or, if Data is nil, from the host file
// Src.
type BootFile struct {
	Name string
	Data []byte
	Src  string
}

// WriteBootFS writes a FAT16 file system of size bytes holding files to dst,
// with Debian's dosfstools (mkfs.fat) and mtools (mcopy). hiddenSectors is
// the partition's start on the disk, recorded in the boot sector.
//
// The format is dictated by gokrazy's init, which reads and edits
// cmdline.txt in place with its own minimal FAT16B reader: FAT16 (not FAT32),
// exactly one FAT (the reader expects the root directory right behind the
// first one), a fixed 512-entry root directory, and cmdline.txt stored
// contiguously. cmdline.txt is copied first, into the empty file system, so
// it takes the first directory slot and the first clusters. go-diskfs's
// FAT16 writer always writes two FATs (and its reader fails on one), hence
// the Debian tools here and our own reader in fat16.go.
func WriteBootFS(ctx context.Context, dst string, size, hiddenSectors int64, files []BootFile) error {
	if size%1024 != 0 {
		return fmt.Errorf("images: boot fs: size %d is not a multiple of 1 KiB", size)
	}
	stage, err := os.MkdirTemp("", "bootfs-")
	if err != nil {
		return fmt.Errorf("images: boot fs: %w", err)
	}
	defer os.RemoveAll(stage)
	hasCmdline := false
	for _, bf := range files {
		if !path.IsAbs(bf.Name) || path.Clean(bf.Name) != bf.Name || bf.Name == "/" {
			return fmt.Errorf("images: boot fs: bad name %q", bf.Name)
		}
		hasCmdline = hasCmdline || bf.Name == "/cmdline.txt"
		p := filepath.Join(stage, filepath.FromSlash(bf.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("images: boot fs: %w", err)
		}
		if bf.Data != nil {
			err = os.WriteFile(p, bf.Data, 0o644)
		} else {
			err = copyFile(bf.Src, p, 0o644)
		}
		if err != nil {
			return fmt.Errorf("images: boot fs: %w", err)
		}
	}
	if err := os.Remove(dst); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("images: boot fs: %w", err)
	}
	if err := run(ctx, "mkfs.fat", "-C", "-F", "16", "-f", "1", "-r", "512",
		"-n", "GOKRAZY", "-i", "60c24cc1", "-h", strconv.FormatInt(hiddenSectors, 10),
		"--invariant", "--mbr=n", dst, strconv.FormatInt(size/1024, 10)); err != nil {
		return fmt.Errorf("images: boot fs: mkfs.fat (Debian dosfstools): %w", err)
	}
	ents, err := os.ReadDir(stage)
	if err != nil {
		return fmt.Errorf("images: boot fs: %w", err)
	}
	var rest []string
	for _, e := range ents {
		if e.Name() != "cmdline.txt" {
			rest = append(rest, filepath.Join(stage, e.Name()))
		}
	}
	sort.Strings(rest)
	batches := [][]string{rest}
	if hasCmdline {
		batches = [][]string{{filepath.Join(stage, "cmdline.txt")}, rest}
	}
	for _, b := range batches {
		if len(b) == 0 {
			continue
		}
		args := append([]string{"-i", dst, "-s", "-Q"}, b...)
		if err := run(ctx, "mcopy", append(args, "::/")...); err != nil {
			return fmt.Errorf("images: boot fs: mcopy (Debian mtools): %w", err)
		}
	}
	return nil
}

// run runs a tool, returning its output in the error if it fails.
func run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	// mtools refuses images whose geometry it finds odd unless told not to.
	cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, out)
	}
	return nil
}

// ReadBootFile reads name (an 8.3 path) from the boot FAT at byte offset off
// in the disk image img. The qemu harness uses it as its bootloader.
func ReadBootFile(img string, off int64, name string) ([]byte, error) {
	f, err := os.Open(img)
	if err != nil {
		return nil, fmt.Errorf("images: read boot file: %w", err)
	}
	defer f.Close()
	fs, err := OpenFAT16(f, off)
	if err != nil {
		return nil, err
	}
	return fs.ReadFile(name)
}
