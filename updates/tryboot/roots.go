package tryboot

import (
	"fmt"

	"github.com/chatsecure/box/images"
	"github.com/chatsecure/box/updates/gokrazyslots"
)

// Roots is gokrazyslots.Roots for the tryboot layout: the slot the
// firmware boots next (config.txt's os_prefix) and the slot whose root is
// mounted at / now. They differ only while a trial runs uncommitted. It
// reads the boot FAT raw, without mounting or writing (boxd mounts it for
// its changes and syncs and unmounts after each), so cmd/boxinit can watch
// it for its trial deadline. cmdline.txt at the FAT's root is the Pi 3's
// and says nothing about a Pi 4 or 5: watching it there would take every
// committed switch to slot B for a trial.
func Roots(disk gokrazyslots.Disk, booted func() (int, error)) (next, running string, err error) {
	f, err := disk.Open(partBoot)
	if err != nil {
		return "", "", fmt.Errorf("tryboot: roots: %w", err)
	}
	defer f.Close()
	fs, err := images.OpenFAT16(f, 0)
	if err != nil {
		return "", "", fmt.Errorf("tryboot: roots: %w", err)
	}
	cfg, err := fs.ReadFile("/" + configTxt)
	if err != nil {
		return "", "", fmt.Errorf("tryboot: roots: %w", err)
	}
	prefix, err := images.OSPrefix(string(cfg))
	if err != nil {
		return "", "", fmt.Errorf("tryboot: roots: %w", err)
	}
	b, err := booted()
	if err != nil {
		return "", "", fmt.Errorf("tryboot: roots: booted root: %w", err)
	}
	if b != partA && b != partB {
		return "", "", fmt.Errorf("tryboot: roots: booted from partition %d, not a root slot", b)
	}
	running = "A"
	if b == partB {
		running = "B"
	}
	return slotOfPrefix(prefix), running, nil
}
