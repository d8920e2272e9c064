package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// TOTP is RFC 6238 with the parameters every authenticator app supports:
// HMAC-SHA1, 6 digits, 30-second steps.
const (
	totpStep   = 30
	totpDigits = 6
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

func newTOTPSecret() (string, error) {
	b := make([]byte, 20) // RFC 4226 recommends 160 bits
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("console: totp secret: %w", err)
	}
	return b32.EncodeToString(b), nil
}

// hotp is RFC 4226 section 5.3.
func hotp(key []byte, counter uint64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%0*d", totpDigits, v%1000000)
}

// parseTOTPCode accepts what people type: six digits, maybe with a space
// in the middle.
func parseTOTPCode(s string) (string, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	if len(s) != totpDigits {
		return "", errors.New("the code has 6 digits")
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return "", errors.New("the code has 6 digits")
		}
	}
	return s, nil
}

// verifyTOTP checks code against secret at now, allowing one step of clock
// skew either way. It returns the matching step so the caller can refuse
// a replay of the same or an earlier step (RFC 6238 section 5.2).
func verifyTOTP(secret, code string, now time.Time, after int64) (int64, bool) {
	key, err := b32.DecodeString(strings.ToUpper(secret))
	if err != nil {
		return 0, false
	}
	code, err = parseTOTPCode(code)
	if err != nil {
		return 0, false
	}
	t := now.Unix() / totpStep
	for _, step := range []int64{t - 1, t, t + 1} {
		if step <= after || step < 0 {
			continue
		}
		if hmac.Equal([]byte(hotp(key, uint64(step))), []byte(code)) {
			return step, true
		}
	}
	return 0, false
}

// otpauthURI is the Key URI Format authenticator apps scan.
func otpauthURI(issuer, account, secret string) string {
	label := url.PathEscape(issuer + ":" + account)
	v := url.Values{"secret": {secret}, "issuer": {issuer}, "algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}}
	return "otpauth://totp/" + label + "?" + v.Encode()
}
