// Package tpmtest is the test twin of package tpm: a TPM 2.0 simulator
// (go-tpm-tools' in-process Microsoft reference TPM, cgo) that plugs into
// tpm.NewTPM2, a transport recorder to inspect what crosses the bus, and the
// shared test suites every tpm.Sealer and tpm.Floor must pass, and MemNV,
// the in-memory twin of the NV counter behind tpm.NVFloor.
//
// It imports tpm, go-tpm and go-tpm-tools; only tests import it.
package tpmtest
