package tpm

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/chatsecure/box/config/atomicfile"
)

// SoftwareKeyFile is the wrapping key's file name inside the directory given
// to NewSoftware.
const SoftwareKeyFile = "sealer-dev.key"

// softwareWarning is logged every time a software sealer is made, so that
// nobody mistakes a dev box for a protected one.
const softwareWarning = "software key sealer: dev mode only, the key is NOT protected by a TPM"

// Software is the dev-mode Sealer: the secret is sealed with
// XChaCha20-Poly1305 under a random 32-byte wrapping key kept in a 0600 file.
// Anyone who can read that file can unseal; it exists so that `boxd -dev`
// runs on a laptop without a TPM. The image never uses it.
//
// Destroy replaces the wrapping key with a new random one, so every blob
// sealed before no longer opens. (The file is replaced by rename; on flash
// the old key's blocks may linger until reused, which is acceptable for dev
// mode only.)
type Software struct {
	path   string
	log    *slog.Logger
	mu     sync.Mutex
	locked bool
}

// Software blob, version 1: "CSBS" | version=1 | 24-byte nonce | sealed
// secret (32 bytes + 16-byte tag). The header is the AEAD's additional data.
const (
	softwareMagic   = "CSBS"
	softwareVersion = 1
	softwareHeader  = len(softwareMagic) + 1
	softwareBlobLen = softwareHeader + chacha20poly1305.NonceSizeX + SecretSize + chacha20poly1305.Overhead
)

// NewSoftware returns the dev-mode sealer keeping its wrapping key in dir,
// creating the key on first use. It logs a loud warning every time.
func NewSoftware(dir string, log *slog.Logger) (*Software, error) {
	if log == nil {
		return nil, errors.New("tpm: software sealer: a logger is required")
	}
	path := filepath.Join(dir, SoftwareKeyFile)
	log.Warn(softwareWarning, "key_file", path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("tpm: software sealer: %w", err)
	}
	s := &Software{path: path, log: log}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := s.newKey(); err != nil {
			return nil, fmt.Errorf("tpm: software sealer: %w", err)
		}
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("tpm: software sealer: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		log.Warn("tpm: software sealer: key file was readable by others; restricting to 0600", "key_file", path, "mode", fi.Mode().Perm())
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, fmt.Errorf("tpm: software sealer: %w", err)
		}
	}
	// A damaged key file is never replaced here: blobs sealed under it
	// would be lost for good.
	if _, err := s.key(); err != nil {
		return nil, fmt.Errorf("tpm: software sealer: %w", err)
	}
	return s, nil
}

func (s *Software) newKey() error {
	key := make([]byte, chacha20poly1305.KeySize)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	return atomicfile.WriteFile(s.path, key, 0o600)
}

func (s *Software) key() ([]byte, error) {
	key, err := os.ReadFile(s.path)
	if err != nil {
		return nil, err
	}
	if len(key) != chacha20poly1305.KeySize {
		return nil, fmt.Errorf("key file %s is %d bytes, want %d", s.path, len(key), chacha20poly1305.KeySize)
	}
	return key, nil
}

// Seal encrypts the secret under the wrapping key.
func (s *Software) Seal(secret []byte) ([]byte, error) {
	if len(secret) != SecretSize {
		return nil, fmt.Errorf("tpm: software seal: secret is %d bytes, want %d", len(secret), SecretSize)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key, err := s.key()
	if err != nil {
		return nil, fmt.Errorf("tpm: software seal: %w", err)
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("tpm: software seal: %w", err)
	}
	blob := make([]byte, softwareHeader+aead.NonceSize(), softwareBlobLen)
	copy(blob, softwareMagic)
	blob[len(softwareMagic)] = softwareVersion
	nonce := blob[softwareHeader:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("tpm: software seal: %w", err)
	}
	return aead.Seal(blob, nonce, secret, blob[:softwareHeader]), nil
}

// Unseal decrypts a blob; a blob that does not open under the current key
// (damaged, or sealed before a Destroy) is ErrUnseal.
func (s *Software) Unseal(blob []byte) ([]byte, error) {
	if err := checkSoftwareBlob(blob); err != nil {
		return nil, fmt.Errorf("tpm: software unseal: %w: %w", ErrUnseal, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.locked {
		return nil, fmt.Errorf("tpm: software unseal: %w: locked until this process restarts", ErrUnseal)
	}
	key, err := s.key()
	if err != nil {
		return nil, fmt.Errorf("tpm: software unseal: %w: %w", ErrUnseal, err)
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("tpm: software unseal: %w", err)
	}
	nonce := blob[softwareHeader : softwareHeader+aead.NonceSize()]
	secret, err := aead.Open(nil, nonce, blob[softwareHeader+aead.NonceSize():], blob[:softwareHeader])
	if err != nil {
		return nil, fmt.Errorf("tpm: software unseal: %w: wrong key or damaged blob", ErrUnseal)
	}
	return secret, nil
}

// Destroy replaces the wrapping key, so no blob sealed so far (this one and
// any copy) opens again. The blob must at least look like a software blob.
func (s *Software) Destroy(blob []byte) error {
	if err := checkSoftwareBlob(blob); err != nil {
		return fmt.Errorf("tpm: software destroy: %w: %w", ErrUnseal, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.newKey(); err != nil {
		return fmt.Errorf("tpm: software destroy: %w", err)
	}
	s.log.Info("tpm: software sealer: wrapping key replaced; sealed keys destroyed", "key_file", s.path)
	return nil
}

// Lock makes Unseal refuse for the rest of this process's life, the dev-mode
// stand-in for extending the TPM's lock PCR. It is not a security boundary.
func (s *Software) Lock() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.locked = true
	return nil
}

func checkSoftwareBlob(blob []byte) error {
	if len(blob) != softwareBlobLen {
		return fmt.Errorf("%w: %d bytes, want %d", errBlob, len(blob), softwareBlobLen)
	}
	if !bytes.Equal(blob[:len(softwareMagic)], []byte(softwareMagic)) {
		return fmt.Errorf("%w: not a software sealer blob", errBlob)
	}
	if blob[len(softwareMagic)] != softwareVersion {
		return fmt.Errorf("%w: unknown version %d", errBlob, blob[len(softwareMagic)])
	}
	return nil
}
