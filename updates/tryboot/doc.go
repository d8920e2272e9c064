// Package tryboot is the A/B slot pair of a Raspberry Pi 4 or 5 box: root
// partitions 2 and 3 as on every gokrazy disk, and for each a kernel set
// (kernel, cmdline.txt, device trees, overlays) in its own directory on
// the one boot FAT, a/ for slot A and b/ for slot B (images/slots.go).
//
// The pointers are the firmware's own:
//   - active slot: config.txt's os_prefix (a/ or b/); that directory's
//     cmdline.txt names the slot's root partition;
//   - trial: tryboot.txt, the same configuration with the other prefix,
//     which the firmware reads instead of config.txt only when the one-shot
//     tryboot flag is set (`reboot "0 tryboot"`, Restarter); the firmware
//     clears the flag before it starts, so every later boot (reboot,
//     watchdog, power cut) reads config.txt, the old slot, again;
//   - booted slot: the root partition mounted at / (gokrazyslots.Device),
//     cross-checked with /proc/device-tree/chosen/bootloader/tryboot.
//
// A trial writes only the inactive slot directory and then tryboot.txt;
// nothing config.txt points at is touched, so a crash at any point leaves
// the normal boot path whole. Commit rewrites config.txt in place at the
// same length (it is padded to 512 bytes) to the trial's configuration:
// that one small write is the remaining window. The firmware blobs and
// EEPROM files at the FAT's root are shared and not updated by a trial.
//
// The boot FAT is changed through the kernel's vfat driver (Mounter), not
// our own FAT writer: the driver is the world's most used FAT writer, and
// our code stays file operations. The boot payload of a bundle is the whole
// boot FAT of the new release (as for gokrazyslots on a Pi 3); its a/
// directory and config.txt are copied out with the images FAT16 reader.
//
// It imports updates, updates/gokrazyslots (disk and root device), images
// (FAT16 reader, os_prefix lines), config/atomicfile and golang.org/x/sys/unix.
package tryboot
