// Package images assembles bootable gokrazy disk images for the box, without
// gokrazy's own packer (its module is not served to us).
//
// An image follows gokrazy's SD card layout so that gokrazy's init and update
// handlers work unchanged on it: partition 1 is the boot FAT (kernel, device
// trees, Pi firmware, config.txt, cmdline.txt), partitions 2 and 3 are the A/B
// root squashfs, partition 4 is /perm (left blank in the image, formatted ext4
// by cmd/boxinit on first boot). The disk carries a GPT whose PARTUUIDs use
// gokrazy's prefix, plus a hybrid MBR so the Raspberry Pi firmware finds the
// boot partition. Besides the full image the build emits the update payloads
// (root squashfs, boot FAT) that the updates package bundles.
//
// On the Pi the boot FAT (256 MiB there) also holds slot directories for
// the Pi 4 and 5: a/ ships the kernel set, config.txt selects it with
// os_prefix, updates/tryboot writes b/ and tryboot.txt (slots.go).
//
// Files by concern: layout.go (sizes and offsets), partuuid.go, gpt.go,
// cmdline.go, configtxt.go, bootfiles.go (what goes on the boot FAT),
// slots.go (the Pi's slot directories and os_prefix lines),
// bootfs.go (FAT16 via dosfstools+mtools), fat16.go (a FAT16 reader that
// looks at the FAT the way gokrazy's init does; fat16names.go adds VFAT
// long names and directory listing), rootfs.go
// (staging + mksquashfs), gobuild.go (static cross builds), elfcheck.go,
// modules.go (locating gokrazy's kernel/firmware modules), target.go,
// image.go (assembly), run.go (the boxbuild command line). A program's
// arguments travel in the root as files (package progargs, read by
// cmd/boxinit); Options.Files adds files to the root for test images (the
// e2e test's boxd config). cmd/boxbuild passes neither: release images carry
// no test config and no test programs.
//
// It may import config, images/progargs, the standard library and the gokrazy kernel and
// firmware modules (data only); its tests read the GPT back with go-diskfs.
// It runs the go tool, mksquashfs (Debian squashfs-tools), mkfs.fat and mcopy
// (dosfstools, mtools) and, for arm64 cgo builds, aarch64-linux-gnu-gcc.
package images
