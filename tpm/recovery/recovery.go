package recovery

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// Params are argon2id's costs. Default costs about half a second on a Pi 4.
type Params struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
}

// Default is what the box uses.
var Default = Params{Time: 3, Memory: 64 << 10, Threads: 2}

// ErrWrongCode means the code does not open the envelope.
var ErrWrongCode = errors.New("recovery code does not match")

const (
	magic     = "CSBR"
	version   = 1
	saltSize  = 16
	codeBytes = 20
	headerLen = len(magic) + 1 + 4 + 4 + 1 + saltSize + chacha20poly1305.NonceSizeX
	// maxMemory bounds what an envelope may ask for, so a damaged or hostile
	// file cannot make the box allocate gigabytes.
	maxMemory = 1 << 20 // KiB = 1 GiB
)

var enc = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewCode returns a fresh recovery code, e.g. "ABCD-EFGH-…" (8 groups).
func NewCode() (string, error) {
	b := make([]byte, codeBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("recovery: %w", err)
	}
	s := enc.EncodeToString(b)
	var groups []string
	for i := 0; i < len(s); i += 4 {
		groups = append(groups, s[i:i+4])
	}
	return strings.Join(groups, "-"), nil
}

// normalize accepts what a person types: any case, spaces or dashes, and
// the letters people confuse with digits.
func normalize(code string) ([]byte, error) {
	r := strings.NewReplacer("-", "", " ", "", "\t", "", "\n", "", "\r", "", "0", "O", "1", "I", "8", "B")
	s := strings.ToUpper(r.Replace(code))
	b, err := enc.DecodeString(s)
	if err != nil || len(b) != codeBytes {
		return nil, fmt.Errorf("recovery: code must be 32 letters and digits 2-7 (dashes optional)")
	}
	return b, nil
}

// Wrap seals secret under code.
func Wrap(secret []byte, code string, p Params) ([]byte, error) {
	raw, err := normalize(code)
	if err != nil {
		return nil, err
	}
	out := make([]byte, headerLen, headerLen+len(secret)+chacha20poly1305.Overhead)
	copy(out, magic)
	out[4] = version
	binary.BigEndian.PutUint32(out[5:], p.Time)
	binary.BigEndian.PutUint32(out[9:], p.Memory)
	out[13] = p.Threads
	salt := out[14 : 14+saltSize]
	nonce := out[14+saltSize : headerLen]
	if _, err := rand.Read(out[14:headerLen]); err != nil {
		return nil, fmt.Errorf("recovery: %w", err)
	}
	aead, err := chacha20poly1305.NewX(argon2.IDKey(raw, salt, p.Time, p.Memory, p.Threads, chacha20poly1305.KeySize))
	if err != nil {
		return nil, fmt.Errorf("recovery: %w", err)
	}
	// The header is authenticated too, so its costs cannot be swapped.
	return aead.Seal(out, nonce, secret, out[:headerLen]), nil
}

// Unwrap opens an envelope made by Wrap.
func Unwrap(envelope []byte, code string) ([]byte, error) {
	if len(envelope) < headerLen+chacha20poly1305.Overhead || string(envelope[:4]) != magic {
		return nil, errors.New("recovery: envelope damaged or not a recovery envelope")
	}
	if envelope[4] != version {
		return nil, fmt.Errorf("recovery: envelope version %d unknown", envelope[4])
	}
	p := Params{
		Time:    binary.BigEndian.Uint32(envelope[5:]),
		Memory:  binary.BigEndian.Uint32(envelope[9:]),
		Threads: envelope[13],
	}
	if p.Time == 0 || p.Time > 100 || p.Memory < 8 || p.Memory > maxMemory || p.Threads == 0 {
		return nil, fmt.Errorf("recovery: envelope asks for unreasonable costs %+v", p)
	}
	raw, err := normalize(code)
	if err != nil {
		return nil, err
	}
	salt := envelope[14 : 14+saltSize]
	nonce := envelope[14+saltSize : headerLen]
	aead, err := chacha20poly1305.NewX(argon2.IDKey(raw, salt, p.Time, p.Memory, p.Threads, chacha20poly1305.KeySize))
	if err != nil {
		return nil, fmt.Errorf("recovery: %w", err)
	}
	secret, err := aead.Open(nil, nonce, envelope[headerLen:], envelope[:headerLen])
	if err != nil {
		return nil, ErrWrongCode
	}
	return secret, nil
}
