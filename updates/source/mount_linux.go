package source

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// sysMounter calls mount(2). It is not unit tested (it needs root and a
// block device); the watcher's logic is, with sourcetest.Mounter.
type sysMounter struct{}

// NewMounter returns the real mounter.
func NewMounter() (Mounter, error) { return sysMounter{}, nil }

// Mount tries vfat, then exfat (the kernel must have them: gokrazy's has
// vfat for its boot partition).
func (sysMounter) Mount(dev, dir string) error {
	const flags = unix.MS_RDONLY | unix.MS_NOEXEC | unix.MS_NOSUID | unix.MS_NODEV
	var errs []error
	for _, fs := range []string{"vfat", "exfat"} {
		err := unix.Mount(dev, dir, fs, flags, "")
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", fs, err))
	}
	return fmt.Errorf("mount %s read-only: %w", dev, errors.Join(errs...))
}

func (sysMounter) Unmount(dir string) error {
	if err := unix.Unmount(dir, 0); err != nil {
		// Busy (a scan still open somewhere): detach rather than leave
		// the stick mounted.
		if err2 := unix.Unmount(dir, unix.MNT_DETACH); err2 != nil {
			return fmt.Errorf("umount %s: %w", dir, err)
		}
	}
	return nil
}
