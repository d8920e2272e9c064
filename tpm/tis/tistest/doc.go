// Package tistest is the in-memory twin of package tis: a TIS FIFO register
// model (Model) in front of a TPM 2.0 command backend, normally the
// go-tpm-tools simulator (NewSimulated), an SPI device model (SPIDevice)
// that adds TIS SPI framing and flow-control wait states on top of it, and
// a fake clock. Knobs make the model misbehave the way real TPMs and
// firmware do, so the driver's error paths can be tested without hardware.
//
// The model's register constants are written out here from the PTP spec on
// purpose, not imported from tis: a driver constant typo must fail tests.
//
// It may import tis (for its interfaces), the standard library and
// github.com/google/go-tpm-tools/simulator (cgo, needs libssl-dev).
package tistest
