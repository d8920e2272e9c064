//go:build unix

package tis

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// lockDevice takes an exclusive advisory lock on a device node, held until
// the returned file is closed: one owner process per TPM.
func lockDevice(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tis: open %s for locking: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("tis: %s is locked by another process driving the TPM: %w", path, err)
	}
	return f, nil
}
