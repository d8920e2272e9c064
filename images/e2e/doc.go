// Package e2e boots the amd64 image in qemu (TCG) with swtpm attached and
// checks it end to end; the tests need the build tag e2e and the Debian
// packages images/scripts/deps.sh installs.
//
// The harness (qemu.go) plays the bootloader: before every start it reads
// vmlinuz and cmdline.txt from the image's boot partition, so a reboot
// (qemu exits because of -no-reboot) boots whatever the image now points at.
//
// update_test.go applies signed bundles through boxd's admin API and follows
// the trial boot (gokrazyslots on the image).
//
// It imports images, appliance/adminapi (boxd's admin API types),
// updates/admin, updates/bundle and updates/trust (to sign and upload
// bundles with the dev keys), the standard library, go-diskfs (reading the GPT back) and mellium.im/xmpp
// (the host's XMPP client).
package e2e
