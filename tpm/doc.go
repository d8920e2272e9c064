// Package tpm seals and unseals the box's 32-byte database key.
//
// The Sealer interface (sealer.go) is the whole contract; implementations:
// TPM2 (tpm2.go), a TPM 2.0 sealer on github.com/google/go-tpm's tpm2 API
// over any transport.TPM (OpenDevice for /dev/tpmrm0, the go-tpm-tools
// simulator in tpm/tpmtest, the TIS driver in tpm/tis), and Software
// (software.go), for dev mode only. The recovery envelope (argon2id + AEAD)
// that lets an operator open a box whose TPM was cleared or replaced lives
// in tpm/recovery.
//
// floor.go keeps the signed updates' anti-rollback floor in a TPM NV
// counter (NVFloor, or TPM2.Floor over a sealer's transport) so a factory
// reset of the store cannot lower it; its twin is tpmtest.MemNV.
//
// It imports config/atomicfile, github.com/google/go-tpm and
// golang.org/x/crypto; tpm/tpmtest adds the go-tpm-tools simulator (cgo)
// and is imported by tests only.
package tpm
