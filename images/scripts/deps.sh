#!/bin/sh
# Installs the Debian packages that building images and their tests need.
#   squashfs-tools        mksquashfs: root file system (images.MakeSquashfs)
#   dosfstools, mtools    mkfs.fat, mcopy: boot FAT16 (images.WriteBootFS);
#                         fsck.fat, mdir in the tests
#   gcc, libc6-dev        static cgo builds for amd64 (boxd links SQLCipher)
#   gcc-aarch64-linux-gnu, libc6-dev-arm64-cross
#                         static cgo builds for the Pi (arm64)
#   e2fsprogs             e2fsck in the tests (checks the /perm ext4 we make)
#   gdisk, fdisk          sgdisk -v, sfdisk --verify: check a grown /perm's GPT
#   qemu-system-x86, swtpm, swtpm-tools (skipped with --build-only)
#                         e2e: boot the amd64 image with a software TPM
set -eu
export DEBIAN_FRONTEND=noninteractive
pkgs="squashfs-tools dosfstools mtools gcc libc6-dev gcc-aarch64-linux-gnu libc6-dev-arm64-cross e2fsprogs gdisk fdisk"
if [ "${1:-}" != "--build-only" ]; then
	pkgs="$pkgs qemu-system-x86 swtpm swtpm-tools"
fi
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
	exit 0
fi
apt-get update -q
# shellcheck disable=SC2086 # word splitting intended
apt-get install -y -q --no-install-recommends $missing
