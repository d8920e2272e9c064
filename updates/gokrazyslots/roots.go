package gokrazyslots

import "fmt"

// Roots reads, without writing anything and without the state file, the
// slot the boot chain boots next (cmdline.txt's root=) and the slot
// mounted at / now. They differ only while an update runs uncommitted: a
// trial boot before Commit, or one abandoned and not yet rebooted. It is
// what cmd/boxinit, a separate process from boxd, watches for its
// trial-boot deadline: the boot chain's own pointer, so a corrupt or
// missing slots.json cannot hide a trial.
func Roots(disk Disk, booted func() (int, error)) (next, running string, err error) {
	f, err := disk.Open(partBoot)
	if err != nil {
		return "", "", fmt.Errorf("gokrazyslots: roots: %w", err)
	}
	defer f.Close()
	c, err := readCmdline(f)
	if err != nil {
		return "", "", fmt.Errorf("gokrazyslots: roots: %w", err)
	}
	active, err := c.root()
	if err != nil {
		return "", "", fmt.Errorf("gokrazyslots: roots: %w", err)
	}
	b, err := booted()
	if err != nil {
		return "", "", fmt.Errorf("gokrazyslots: roots: booted root: %w", err)
	}
	if b != partA && b != partB {
		return "", "", fmt.Errorf("gokrazyslots: roots: booted from partition %d, not a root slot", b)
	}
	return slotOf(active), slotOf(b), nil
}
