package permfs

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/ext4"
)

// ErrNotBlank means the partition holds data and was not formatted.
var ErrNotBlank = errors.New("permfs: partition is not blank")

// FormatIfBlank formats the partition (or image file) at path as ext4
// labelled "perm" if it is blank, and reports whether it did.
func FormatIfBlank(path string) (bool, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return false, fmt.Errorf("permfs: format: %w", err)
	}
	defer f.Close()
	blank, err := Blank(f)
	if err != nil {
		return false, err
	}
	if !blank {
		return false, ErrNotBlank
	}
	// Seeking to the end gives the size of block devices, where Stat says 0.
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return false, fmt.Errorf("permfs: format: size: %w", err)
	}
	p := &ext4.Params{
		VolumeName:      "perm",
		SectorsPerBlock: 8, // 4 KiB blocks
		InodeRatio:      inodeRatio(size),
		// go-diskfs writes a resize inode e2fsck rejects; /perm is never
		// grown online, so go without it.
		Features: []ext4.FeatureOpt{ext4.WithFeatureReservedGDTBlocksForExpansion(false)},
	}
	if _, err := ext4.Create(file.New(f, false), size, 0, 512, p); err != nil {
		return false, fmt.Errorf("permfs: format %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return false, fmt.Errorf("permfs: format: %w", err)
	}
	return true, f.Close()
}

// inodeRatio is the bytes per inode for a /perm of size bytes. go-diskfs
// writes every inode table at format time (it has no lazy init), so on a
// grown /perm the tables are most of what first boot writes: 1 GiB on a
// 32 GiB card at go-diskfs's 8 KiB. Above 1 GiB /perm gets one inode per
// 64 KiB (mke2fs's "largefile" type), still half a million on 32 GiB for a
// store that keeps few, large files.
func inodeRatio(size int64) int64 {
	if size <= 1<<30 {
		return 8192
	}
	return 64 << 10
}
