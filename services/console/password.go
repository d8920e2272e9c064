package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2 are argon2id's costs. Default fits a Pi: 64 MiB, 2 passes.
type Argon2 struct {
	Time    uint32
	MemKiB  uint32
	Threads uint8
}

// DefaultArgon2 follows RFC 9106's second recommended option, scaled to a
// 1 GiB board that also runs the chat server.
var DefaultArgon2 = Argon2{Time: 2, MemKiB: 64 << 10, Threads: 2}

const minPassword = 10

// checkPassword is the password policy: long enough to resist offline
// guessing at argon2id's cost, short enough not to be a hashing DoS.
func checkPassword(pw string) error {
	switch n := utf8.RuneCountInString(pw); {
	case n < minPassword:
		return fmt.Errorf("the password needs at least %d characters", minPassword)
	case len(pw) > 512:
		return errors.New("the password is longer than 512 bytes")
	}
	return nil
}

// hash returns a PHC string: $argon2id$v=19$m=..,t=..,p=..$salt$hash.
func (p Argon2) hash(pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("console: salt: %w", err)
	}
	sum := argon2.IDKey([]byte(pw), salt, p.Time, p.MemKiB, p.Threads, 32)
	b := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemKiB, p.Time, p.Threads,
		b.EncodeToString(salt), b.EncodeToString(sum)), nil
}

// phc is a parsed argon2id PHC string.
type phc struct {
	p          Argon2
	salt, hash []byte
}

// Bounds on stored costs: a damaged or planted hash must not make one
// sign-in allocate gigabytes or run for minutes.
const (
	maxMemKiB = 256 << 10
	maxTime   = 10
	maxLanes  = 16
)

// parsePHC reads $argon2id$v=19$m=..,t=..,p=..$salt$hash.
func parsePHC(s string) (phc, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return phc{}, errors.New("console: not an argon2id hash")
	}
	var m, t, p uint64
	var rest string
	n, _ := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d%s", &m, &t, &p, &rest)
	if n != 3 || fmt.Sprintf("m=%d,t=%d,p=%d", m, t, p) != parts[3] {
		return phc{}, errors.New("console: argon2id parameters do not parse")
	}
	if m < 8*p || m > maxMemKiB || t < 1 || t > maxTime || p < 1 || p > maxLanes {
		return phc{}, errors.New("console: argon2id parameters out of range")
	}
	b := base64.RawStdEncoding
	salt, err := b.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return phc{}, errors.New("console: argon2id salt: bad encoding or too short")
	}
	sum, err := b.DecodeString(parts[5])
	if err != nil || len(sum) < 16 || len(sum) > 64 {
		return phc{}, errors.New("console: argon2id hash: bad encoding or length")
	}
	return phc{p: Argon2{Time: uint32(t), MemKiB: uint32(m), Threads: uint8(p)}, salt: salt, hash: sum}, nil
}

// verifyPassword checks pw against a PHC string made by hash, with the
// costs stored in it (so raising the defaults keeps old hashes working).
func verifyPassword(stored, pw string) (bool, error) {
	h, err := parsePHC(stored)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(pw), h.salt, h.p.Time, h.p.MemKiB, h.p.Threads, uint32(len(h.hash)))
	return subtle.ConstantTimeCompare(got, h.hash) == 1, nil
}
