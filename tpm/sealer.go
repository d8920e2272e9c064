package tpm

import "errors"

// A Sealer binds a short secret (the 32-byte database key) to this box.
//
// Seal returns an opaque blob that is safe to store on disk; only the same
// Sealer on the same box can turn it back into the secret. Destroy makes a
// blob permanently unusable (crypto-erase): after it returns, no Sealer can
// unseal that blob again, even from a copy of it.
type Sealer interface {
	Seal(secret []byte) (blob []byte, err error)
	Unseal(blob []byte) (secret []byte, err error)
	Destroy(blob []byte) error
}

// A Locker is a Sealer that can refuse further unseals until the next boot
// ("unseal then lock": boxd extends a PCR right after it has the key, so no
// later process on this boot can unseal it).
type Locker interface {
	Lock() error
}

var (
	// ErrNoTPM means no TPM answered: the box must say so and wait, never
	// fall back to the software sealer.
	ErrNoTPM = errors.New("no TPM")
	// ErrUnseal means a TPM answered but refused the blob: TPM cleared or
	// replaced, PCR policy not met, or the blob is damaged. The box goes
	// to state locked and waits for the recovery code.
	ErrUnseal = errors.New("cannot unseal key")
)
