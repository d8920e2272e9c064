// Package tpm seals and unseals the box's 32-byte database key.
//
// The Sealer interface (sealer.go) is the whole contract; implementations:
// a TPM 2.0 sealer on github.com/google/go-tpm (real device or the
// go-tpm-tools simulator, see tpm/tpmtest), and a software sealer for dev mode
// only. The recovery envelope (argon2id + AEAD) that lets an operator open a
// box whose TPM was cleared or replaced lives here too.
//
// It imports config only.
package tpm
