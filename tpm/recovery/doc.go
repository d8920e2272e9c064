// Package recovery wraps the database key with a recovery code, so a box whose
// TPM was cleared or replaced can still be opened by its operator.
//
// The code is 160 random bits shown once as eight groups of four base32
// characters; the envelope on disk is argon2id(code, salt) as the key of an
// XChaCha20-Poly1305 seal of the database key. It imports only x/crypto and
// config/atomicfile.
package recovery
