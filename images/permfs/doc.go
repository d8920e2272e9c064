// Package permfs finds the box's /perm partition and formats it ext4 when it
// is blank, so a freshly flashed image gets working persistent storage on
// first boot. gokrazy's init only tries to mount partition 4 (as ext4, vfat,
// bcachefs) and carries on without /perm when that fails; it never creates
// a file system itself (gokrazy leaves that to its packer or the separate
// gokrazy/mkfs program, which needs a mke2fs binary we do not ship).
//
// Before formatting, a blank /perm is grown to the end of the disk (Grow):
// the image reserves only a few hundred MiB for it, the SD card or SSD it
// is flashed onto is usually far bigger. The GPT is rewritten with
// go-diskfs (backup first, at the disk's real end) and the kernel learns
// the new size through BLKPG, which works while root is mounted from the
// same disk.
//
// Formatting uses go-diskfs's pure Go ext4 writer. A partition is blank only
// if its first MiB is all zero: anything else, even an unknown file system,
// is left alone so that no data is ever formatted away, or grown.
//
// It imports go-diskfs, golang.org/x/sys/unix and the standard library.
package permfs
