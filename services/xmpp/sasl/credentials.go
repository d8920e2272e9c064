package sasl

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"hash"

	"golang.org/x/text/secure/precis"
)

// MinIterations is the fewest PBKDF2 iterations NewCredentials accepts.
const MinIterations = 4096

// Keys are the SCRAM keys for one hash.
type Keys struct {
	StoredKey []byte
	ServerKey []byte
}

// Credentials are all the box keeps of a password.
type Credentials struct {
	Salt   []byte
	Iter   int
	SHA1   Keys
	SHA256 Keys
}

// NewCredentials derives credentials from a password with a fresh salt.
func NewCredentials(password string, iter int) (Credentials, error) {
	if iter < MinIterations {
		return Credentials{}, fmt.Errorf("sasl: %d iterations is below the minimum %d", iter, MinIterations)
	}
	if password == "" {
		return Credentials{}, fmt.Errorf("sasl: empty password")
	}
	salt := make([]byte, 16)
	rand.Read(salt)
	c := Credentials{Salt: salt, Iter: iter}
	var err error
	if c.SHA1, err = DeriveKeys(sha1.New, password, salt, iter); err != nil {
		return Credentials{}, err
	}
	if c.SHA256, err = DeriveKeys(sha256.New, password, salt, iter); err != nil {
		return Credentials{}, err
	}
	return c, nil
}

// PreparePassword applies the OpaqueString profile (RFC 8265), which
// replaces SASLprep.
func PreparePassword(password string) (string, error) {
	p, err := precis.OpaqueString.String(password)
	if err != nil {
		return "", fmt.Errorf("sasl: password: %w", err)
	}
	return p, nil
}

// DeriveKeys computes StoredKey and ServerKey (RFC 5802 §3).
func DeriveKeys(h func() hash.Hash, password string, salt []byte, iter int) (Keys, error) {
	p, err := PreparePassword(password)
	if err != nil {
		return Keys{}, err
	}
	salted, err := pbkdf2.Key(h, p, salt, iter, h().Size())
	if err != nil {
		return Keys{}, fmt.Errorf("sasl: pbkdf2: %w", err)
	}
	clientKey := hmacSum(h, salted, []byte("Client Key"))
	stored := h()
	stored.Write(clientKey)
	return Keys{
		StoredKey: stored.Sum(nil),
		ServerKey: hmacSum(h, salted, []byte("Server Key")),
	}, nil
}

// VerifyPassword reports whether password matches c (for PLAIN).
func (c Credentials) VerifyPassword(password string) bool {
	k, err := DeriveKeys(sha256.New, password, c.Salt, c.Iter)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(k.StoredKey, c.SHA256.StoredKey) == 1
}

func hmacSum(h func() hash.Hash, key, msg []byte) []byte {
	m := hmac.New(h, key)
	m.Write(msg)
	return m.Sum(nil)
}
