// Package tis drives a TPM 2.0 from user space through the TIS FIFO
// interface of the TCG PC Client Platform TPM Profile (PTP), for kernels
// built without CONFIG_TCG_TPM (gokrazy's kernel.rpi and kernel.amd64).
//
// The driver (TPM) speaks the FIFO protocol over a tiny register interface
// (Regs) and is a github.com/google/go-tpm transport.TPMCloser, so the
// sealer in package tpm runs on it unchanged. Register backends:
//
//   - MMIO: /dev/mem mapped at 0xFED40000 (PCs, qemu -device tpm-tis),
//     after the ACPI TPM2 table says the firmware TPM is TIS (start method 6).
//   - SPI: TIS SPI framing with flow-control wait states through periph.io
//     (Raspberry Pi with an SLB9670 on SPI0 CE1, chip select driven as GPIO).
//
// Open("mmio"|"spi") picks a backend and says why when nothing answers
// (ErrNoDevice, ErrNotTIS for CRB firmware TPMs, ErrKernelDriver when
// /dev/tpmrm0 exists or mmap gets EPERM: use the kernel's device then).
//
// Behaviour the hardware needs and the driver keeps: one load or store of
// the register's width per access (see mmio_linux.go), STS all-ones while
// the locality is not active, locality 0 possibly left held by firmware,
// burstCount re-read per chunk, Expect and dataAvail only trusted with
// stsValid, PTP timeouts on an injectable Clock (no wait is unbounded),
// TPM2_Startup(CLEAR) on TPM_RC_INITIALIZE, TPM_RC_RETRY retried as Linux
// does, and commandReady to abort whatever a failure left in the FIFO.
//
// The MMIO path is checked against qemu -device tpm-tis with swtpm on the
// stock gokrazy kernel.amd64 by TestQEMU (TIS_QEMU=1). On a Pi the SPI
// path needs dtparam=spi=on; see Options for the chip-select pin.
//
// The register model that tests drive it against lives in tis/tistest;
// internal/qemuinit is the /init of TestQEMU's initramfs.
//
// It may import the standard library, golang.org/x/sys/unix and periph.io
// (conn/v3, host/v3) only: not package tpm (which imports this one).
package tis
