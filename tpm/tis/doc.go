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
// The register model that tests drive it against lives in tis/tistest.
//
// It may import the standard library, golang.org/x/sys/unix and periph.io
// (conn/v3, host/v3) only: not package tpm (which imports this one).
package tis
