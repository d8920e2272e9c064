package tpm

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/google/go-tpm/tpm2/transport"
	"github.com/google/go-tpm/tpm2/transport/linuxtpm"
)

// OpenDevice opens a kernel TPM character device, normally the resource
// manager /dev/tpmrm0 (which lets boxd share the TPM with other processes and
// swaps our transient objects out for us). A path that does not exist is
// ErrNoTPM: the box must say "no TPM" and wait, never fall back.
func OpenDevice(path string) (transport.TPMCloser, error) {
	t, err := linuxtpm.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("tpm: open %s: %w: %w", path, ErrNoTPM, err)
	}
	if err != nil {
		return nil, fmt.Errorf("tpm: open %s: %w", path, err)
	}
	return t, nil
}
