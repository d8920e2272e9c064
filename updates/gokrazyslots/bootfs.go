package gokrazyslots

import (
	"fmt"
	"io"

	"github.com/chatsecure/box/images"
)

// cmdlineExtent finds cmdline.txt in the FAT16 boot file system read by r.
// gokrazy edits it in place, so it must be contiguous; we do the same.
func cmdlineExtent(r io.ReaderAt) (off, size int64, err error) {
	fs, err := images.OpenFAT16(r, 0)
	if err != nil {
		return 0, 0, fmt.Errorf("gokrazyslots: boot fs: %w", err)
	}
	off, size, contiguous, err := fs.Extent("/cmdline.txt")
	if err != nil {
		return 0, 0, fmt.Errorf("gokrazyslots: boot fs: %w", err)
	}
	if !contiguous {
		return 0, 0, fmt.Errorf("gokrazyslots: boot fs: cmdline.txt is fragmented; it cannot be edited in place")
	}
	if size == 0 || size > 1<<16 {
		return 0, 0, fmt.Errorf("gokrazyslots: boot fs: cmdline.txt is %d bytes", size)
	}
	return off, size, nil
}

// readCmdline reads and parses cmdline.txt from a boot file system.
func readCmdline(r io.ReaderAt) (cmdline, error) {
	off, size, err := cmdlineExtent(r)
	if err != nil {
		return cmdline{}, err
	}
	b := make([]byte, size)
	if _, err := r.ReadAt(b, off); err != nil {
		return cmdline{}, fmt.Errorf("gokrazyslots: read cmdline.txt: %w", err)
	}
	c, err := parseCmdline(b)
	if err != nil {
		return cmdline{}, fmt.Errorf("gokrazyslots: %w", err)
	}
	return c, nil
}

// editCmdline rewrites cmdline.txt in place: root= names part, the trial
// flag is set or cleared. The write is one sector-sized region, so a
// crash leaves the old line or the new one on real media.
func editCmdline(f File, part int, trial bool) error {
	c, err := readCmdline(f)
	if err != nil {
		return err
	}
	b, err := c.with(part, trial).bytes()
	if err != nil {
		return fmt.Errorf("gokrazyslots: %w", err)
	}
	off, _, err := cmdlineExtent(f)
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(b, off); err != nil {
		return fmt.Errorf("gokrazyslots: write cmdline.txt: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("gokrazyslots: sync boot partition: %w", err)
	}
	return nil
}
