package sasl

import (
	"encoding/base64"
	"errors"
	"strings"
)

// errMalformed wraps parse failures; the stream answers malformed-request.
var errMalformed = errors.New("malformed")

// clientFirst is a parsed client-first-message (RFC 5802 §7).
type clientFirst struct {
	cbFlag  byte   // 'n', 'y' or 'p'
	cbName  string // with cbFlag 'p'
	authzid string
	user    string
	nonce   string
	gs2     string // the gs2 header, verbatim
	bare    string // client-first-message-bare, verbatim
}

func parseClientFirst(msg string) (clientFirst, error) {
	var cf clientFirst
	// gs2-cbind-flag
	rest := msg
	i := strings.IndexByte(rest, ',')
	if i < 0 {
		return cf, errMalformed
	}
	flag := rest[:i]
	switch {
	case flag == "n" || flag == "y":
		cf.cbFlag = flag[0]
	case strings.HasPrefix(flag, "p=") && len(flag) > 2 && validCBName(flag[2:]):
		cf.cbFlag, cf.cbName = 'p', flag[2:]
	default:
		return cf, errMalformed
	}
	rest = rest[i+1:]
	// authzid
	i = strings.IndexByte(rest, ',')
	if i < 0 {
		return cf, errMalformed
	}
	if a := rest[:i]; a != "" {
		if !strings.HasPrefix(a, "a=") {
			return cf, errMalformed
		}
		z, ok := decodeSaslname(a[2:])
		if !ok || z == "" {
			return cf, errMalformed
		}
		cf.authzid = z
	}
	cf.gs2 = msg[:len(msg)-len(rest)+i+1]
	cf.bare = rest[i+1:]
	attrs := strings.Split(cf.bare, ",")
	if len(attrs) < 2 || strings.HasPrefix(attrs[0], "m=") {
		// Mandatory extensions are not supported (RFC 5802 §5.1).
		return cf, errMalformed
	}
	if !strings.HasPrefix(attrs[0], "n=") || !strings.HasPrefix(attrs[1], "r=") {
		return cf, errMalformed
	}
	u, ok := decodeSaslname(attrs[0][2:])
	if !ok || u == "" {
		return cf, errMalformed
	}
	cf.user = u
	cf.nonce = attrs[1][2:]
	if !validNonce(cf.nonce) {
		return cf, errMalformed
	}
	return cf, nil
}

// clientFinal is a parsed client-final-message.
type clientFinal struct {
	cb           []byte
	nonce        string
	proof        []byte
	withoutProof string
}

func parseClientFinal(msg string) (clientFinal, error) {
	var cf clientFinal
	i := strings.LastIndex(msg, ",p=")
	if i < 0 {
		return cf, errMalformed
	}
	cf.withoutProof = msg[:i]
	proof, err := base64.StdEncoding.DecodeString(msg[i+3:])
	if err != nil || len(proof) == 0 {
		return cf, errMalformed
	}
	cf.proof = proof
	attrs := strings.Split(cf.withoutProof, ",")
	if len(attrs) < 2 || !strings.HasPrefix(attrs[0], "c=") || !strings.HasPrefix(attrs[1], "r=") {
		return cf, errMalformed
	}
	cf.cb, err = base64.StdEncoding.DecodeString(attrs[0][2:])
	if err != nil {
		return cf, errMalformed
	}
	cf.nonce = attrs[1][2:]
	if !validNonce(cf.nonce) {
		return cf, errMalformed
	}
	return cf, nil
}

// decodeSaslname undoes the =2C and =3D escapes; any other '=' is invalid.
func decodeSaslname(s string) (string, bool) {
	if !strings.Contains(s, "=") {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			b.WriteByte(s[i])
			continue
		}
		if i+3 > len(s) {
			return "", false
		}
		switch s[i+1 : i+3] {
		case "2C":
			b.WriteByte(',')
		case "3D":
			b.WriteByte('=')
		default:
			return "", false
		}
		i += 2
	}
	return b.String(), true
}

// validNonce: printable ASCII except ','.
func validNonce(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e || s[i] == ',' {
			return false
		}
	}
	return true
}

func validCBName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}
