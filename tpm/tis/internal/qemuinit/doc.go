// Command qemuinit is PID 1 of a throwaway initramfs that checks the TIS
// MMIO backend against qemu's -device tpm-tis backed by swtpm, on the stock
// gokrazy kernel.amd64 (no CONFIG_TCG_TPM). It mounts /dev, /sys and /proc,
// opens the TPM with tis.Open("mmio"), runs GetRandom, CreatePrimary and a
// seal/unseal round trip, prints one "TIS-OK ..." or "TIS-FAIL: ..." line
// per step on the console, and powers the VM off. tis's TestQEMU drives it.
//
// It may import tis, go-tpm and golang.org/x/sys/unix.
package main
