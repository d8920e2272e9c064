// Package permfs finds the box's /perm partition and formats it ext4 when it
// is blank, so a freshly flashed image gets working persistent storage on
// first boot. gokrazy's init only tries to mount partition 4 (as ext4, vfat,
// bcachefs) and carries on without /perm when that fails; it never creates
// a file system itself (gokrazy leaves that to its packer or the separate
// gokrazy/mkfs program, which needs a mke2fs binary we do not ship).
//
// Formatting uses go-diskfs's pure Go ext4 writer. A partition is blank only
// if its first MiB is all zero: anything else, even an unknown file system,
// is left alone so that no data is ever formatted away.
//
// It imports go-diskfs and the standard library.
package permfs
