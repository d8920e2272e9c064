package tis

import "errors"

var (
	// ErrNoDevice means nothing answered as a TIS TPM: no ACPI TPM2 table,
	// DID_VID reads all-ones or zero, or SPI flow control never released.
	ErrNoDevice = errors.New("tis: no TPM answered")
	// ErrKernelDriver means a kernel TPM driver owns the device: use
	// /dev/tpmrm0 instead of this driver.
	ErrKernelDriver = errors.New("tis: a kernel TPM driver owns the TPM, use /dev/tpmrm0")
	// ErrNotTIS means firmware describes a TPM with another interface
	// (CRB, ACPI start, Arm SMC): this driver speaks only the FIFO interface.
	ErrNotTIS = errors.New("tis: the TPM does not use the TIS FIFO interface")
	// ErrTimeout means the TPM did not reach a state within its spec timeout.
	ErrTimeout = errors.New("tis: timeout")
	// ErrProtocol means the TPM broke the FIFO protocol (Expect dropped
	// early, more response data than announced, a bad response header).
	ErrProtocol = errors.New("tis: protocol error")
	// ErrLocalityLost means the TPM took the locality away mid-command
	// (STS reads all-ones and ACCESS no longer shows it active).
	ErrLocalityLost = errors.New("tis: locality lost")
	// ErrClosed is returned by Send after Close.
	ErrClosed = errors.New("tis: closed")
)
