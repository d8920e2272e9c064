package trust

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Key file prefixes: one line of text, so keys can be pasted and diffed.
const (
	pubPrefix  = "boxsign-ed25519-pub"
	privPrefix = "boxsign-ed25519-key"
)

// A KeyID names a public key: the first 8 bytes of its sha256.
type KeyID [8]byte

// IDOf returns the id of an ed25519 public key.
func IDOf(pub ed25519.PublicKey) KeyID {
	sum := sha256.Sum256(pub)
	var id KeyID
	copy(id[:], sum[:8])
	return id
}

func (id KeyID) String() string { return hex.EncodeToString(id[:]) }

// MarshalText writes the id as 16 hex digits.
func (id KeyID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText reads 16 hex digits.
func (id *KeyID) UnmarshalText(b []byte) error {
	if len(b) != 2*len(id) {
		return fmt.Errorf("trust: key id %q: want %d hex digits", b, 2*len(id))
	}
	if _, err := hex.Decode(id[:], b); err != nil {
		return fmt.Errorf("trust: key id %q: %w", b, err)
	}
	return nil
}

// A PublicKey is a verification key with the name it was generated under.
type PublicKey struct {
	Name string
	Key  ed25519.PublicKey
}

// ID returns the key's id.
func (k PublicKey) ID() KeyID { return IDOf(k.Key) }

// Marshal returns the .pub file form: "boxsign-ed25519-pub BASE64 NAME\n".
func (k PublicKey) Marshal() []byte {
	return fmt.Appendf(nil, "%s %s %s\n", pubPrefix, base64.StdEncoding.EncodeToString(k.Key), k.Name)
}

// ParsePublic reads a .pub file.
func ParsePublic(b []byte) (PublicKey, error) {
	name, raw, err := parseLine(b, pubPrefix, ed25519.PublicKeySize)
	if err != nil {
		return PublicKey{}, fmt.Errorf("trust: public key: %w", err)
	}
	return PublicKey{Name: name, Key: ed25519.PublicKey(raw)}, nil
}

// A PrivateKey signs manifests and rotation statements. Only release
// machines hold one; the repository holds dev keys under testdata/ only.
type PrivateKey struct {
	Name string
	Key  ed25519.PrivateKey
}

// Generate makes a new key pair from rand.
func Generate(name string, rand io.Reader) (PrivateKey, error) {
	if err := checkName(name); err != nil {
		return PrivateKey{}, fmt.Errorf("trust: generate: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand)
	if err != nil {
		return PrivateKey{}, fmt.Errorf("trust: generate: %w", err)
	}
	return PrivateKey{Name: name, Key: priv}, nil
}

// Public returns the matching public key.
func (k PrivateKey) Public() PublicKey {
	return PublicKey{Name: k.Name, Key: k.Key.Public().(ed25519.PublicKey)}
}

// Marshal returns the .key file form, holding the 32-byte seed.
func (k PrivateKey) Marshal() []byte {
	return fmt.Appendf(nil, "%s %s %s\n", privPrefix, base64.StdEncoding.EncodeToString(k.Key.Seed()), k.Name)
}

// ParsePrivate reads a .key file.
func ParsePrivate(b []byte) (PrivateKey, error) {
	name, seed, err := parseLine(b, privPrefix, ed25519.SeedSize)
	if err != nil {
		return PrivateKey{}, fmt.Errorf("trust: private key: %w", err)
	}
	return PrivateKey{Name: name, Key: ed25519.NewKeyFromSeed(seed)}, nil
}

// Sign signs msg under a domain string, so that a manifest signature can
// never be replayed as a rotation signature or the other way round.
func (k PrivateKey) Sign(domain string, msg []byte) Signature {
	return Signature{KeyID: k.Public().ID(), Sig: ed25519.Sign(k.Key, signedBytes(domain, msg))}
}

// Domains separate what a signature is for.
const (
	DomainManifest = "chatsecure-box manifest v1"
	DomainRotation = "chatsecure-box rotation v1"
)

func signedBytes(domain string, msg []byte) []byte {
	b := make([]byte, 0, len(domain)+1+len(msg))
	b = append(b, domain...)
	b = append(b, 0)
	return append(b, msg...)
}

func parseLine(b []byte, prefix string, size int) (name string, raw []byte, err error) {
	if len(b) > 4096 {
		return "", nil, errors.New("file too large")
	}
	line := strings.TrimSpace(string(bytes.TrimRight(b, "\r\n")))
	if strings.ContainsAny(line, "\n\r") {
		return "", nil, errors.New("want one line")
	}
	f := strings.Fields(line)
	if len(f) < 2 || len(f) > 3 || f[0] != prefix {
		return "", nil, fmt.Errorf("want %q BASE64 [NAME]", prefix)
	}
	raw, err = base64.StdEncoding.DecodeString(f[1])
	if err != nil {
		return "", nil, fmt.Errorf("base64: %w", err)
	}
	if len(raw) != size {
		return "", nil, fmt.Errorf("key is %d bytes, want %d", len(raw), size)
	}
	if len(f) == 3 {
		name = f[2]
	}
	return name, raw, nil
}

func checkName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("key name %q: want 1..64 characters", name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("key name %q: only letters, digits, '-', '_', '.'", name)
		}
	}
	return nil
}
