// Package gokrazyslots is the A/B slot pair of the box image: gokrazy's disk
// layout (boot FAT p1, root A p2, root B p3, /perm p4) and gokrazy's own
// one-shot trial mechanism, driven by editing cmdline.txt on the boot FAT.
//
// The pointers live where the boot chain reads them, not in our state:
//   - active root: cmdline.txt's root=PARTUUID=<p1>/PARTNROFF=<n-1>, which
//     the kernel mounts;
//   - trial: the gokrazy.try_boot_inactive=1 flag, which gokrazy's init
//     (gokrazy.Boot, called by cmd/boxinit) turns into switch_on_boot=1
//     before it pivots to the inactive root, so only one boot runs the trial
//     and any later boot (a reboot, the watchdog) is the active root again;
//   - booted root: the partition mounted at / (stat of "/" through sysfs),
//     because /proc/cmdline still names the old root in a trial boot.
//
// A small state file (slots.json, replaced atomically via config/atomicfile)
// keeps what gokrazy does not: each slot's version and build, which slot is
// on trial and how often it booted, so Boot can tell a fallback apart from
// an ordinary boot.
//
// The boot payload (the whole boot FAT) is not A/B: it is staged in the
// state directory while the bundle is written and copied over the boot
// partition only in MarkTrial, with cmdline.txt already patched in the
// staged copy (root= the active slot, trial flag set), so the boot files
// are torn only if power fails during that one copy. See updates/README.md
// for the risk that remains.
//
// Roots reads the next and the running root without writing anything;
// cmd/boxinit watches it for its trial-boot deadline.
//
// It imports updates, config/atomicfile, images (for its FAT16 reader) and
// golang.org/x/sys/unix.
package gokrazyslots
