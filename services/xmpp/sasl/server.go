package sasl

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"golang.org/x/text/secure/precis"
)

// Mechanism names, strongest first: the order they are offered in.
const (
	SCRAMSHA256Plus = "SCRAM-SHA-256-PLUS"
	SCRAMSHA256     = "SCRAM-SHA-256"
	SCRAMSHA1Plus   = "SCRAM-SHA-1-PLUS"
	SCRAMSHA1       = "SCRAM-SHA-1"
	Plain           = "PLAIN"
)

// Failures a Server returns; the stream maps them to SASL conditions.
var (
	ErrNotAuthorized   = errors.New("sasl: not authorized")
	ErrMalformed       = errors.New("sasl: malformed request")
	ErrInvalidAuthzid  = errors.New("sasl: invalid authzid")
	ErrInvalidMech     = errors.New("sasl: invalid mechanism")
	ErrTemporary       = errors.New("sasl: temporary failure")
	ErrChannelBinding  = errors.New("sasl: channel binding mismatch")
	ErrDowngrade       = errors.New("sasl: client saw -PLUS offered but did not use it")
	errUnexpectedInput = errors.New("sasl: unexpected input")
)

// Lookup finds a user's credentials; ok is false for an unknown user.
// username is already normalized (UsernameCaseMapped).
type Lookup func(username string) (c Credentials, ok bool, err error)

// Config is what a Server needs from the connection.
type Config struct {
	Lookup Lookup
	// Bindings maps channel binding types (tls-exporter,
	// tls-server-end-point) to their data for this connection; empty
	// outside TLS.
	Bindings map[string][]byte
	// Secret makes fake salts for unknown users, so that a reply never
	// tells whether an account exists.
	Secret []byte
	// Nonce, when set, makes the server's nonce part (tests only).
	Nonce func() string
}

// Mechanisms lists what to offer on a connection: -PLUS only with channel
// binding data, PLAIN only inside TLS.
func Mechanisms(tls bool, bindings map[string][]byte) []string {
	var m []string
	if len(bindings) > 0 {
		m = append(m, SCRAMSHA256Plus)
	}
	m = append(m, SCRAMSHA256)
	if len(bindings) > 0 {
		m = append(m, SCRAMSHA1Plus)
	}
	m = append(m, SCRAMSHA1)
	if tls {
		m = append(m, Plain)
	}
	return m
}

// A Server runs one authentication exchange.
type Server struct {
	cfg     Config
	mech    string
	plus    bool
	h       func() hash.Hash
	step    int
	user    string
	authzid string
	known   bool
	creds   Keys

	first       clientFirst
	serverFirst string
	nonce       string
	serverKey   []byte
}

// NewServer starts an exchange for mech.
func NewServer(mech string, cfg Config) (*Server, error) {
	s := &Server{cfg: cfg, mech: mech}
	switch mech {
	case SCRAMSHA256Plus, SCRAMSHA1Plus:
		if len(cfg.Bindings) == 0 {
			return nil, ErrInvalidMech
		}
		s.plus = true
	case SCRAMSHA256, SCRAMSHA1, Plain:
	default:
		return nil, ErrInvalidMech
	}
	if strings.HasPrefix(mech, "SCRAM-SHA-256") {
		s.h = sha256.New
	} else {
		s.h = sha1.New
	}
	return s, nil
}

// Username is the normalized authentication identity, once known (after
// the first step), even when the exchange then fails.
func (s *Server) Username() string { return s.user }

// Authzid is the authorization identity the client asked for, if any.
func (s *Server) Authzid() string { return s.authzid }

// Step consumes one client message and returns the server's reply; done is
// true when the reply is the additional data of <success/>.
func (s *Server) Step(in []byte) (out []byte, done bool, err error) {
	s.step++
	if s.mech == Plain {
		if s.step != 1 {
			return nil, false, errUnexpectedInput
		}
		err := s.plain(in)
		return nil, err == nil, err
	}
	switch s.step {
	case 1:
		out, err := s.scramFirst(string(in))
		return out, false, err
	case 2:
		out, err := s.scramFinal(string(in))
		return out, err == nil, err
	}
	return nil, false, errUnexpectedInput
}

func normalizeUser(u string) (string, error) {
	n, err := precis.UsernameCaseMapped.String(u)
	if err != nil {
		return "", fmt.Errorf("%w: username: %v", ErrNotAuthorized, err)
	}
	return n, nil
}

func (s *Server) plain(in []byte) error {
	parts := bytes.Split(in, []byte{0})
	if len(parts) != 3 || len(parts[1]) == 0 || len(parts[2]) == 0 {
		return ErrMalformed
	}
	user, err := normalizeUser(string(parts[1]))
	if err != nil {
		return err
	}
	s.user, s.authzid = user, string(parts[0])
	c, ok, err := s.cfg.Lookup(user)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrTemporary, err)
	}
	if !ok || !c.VerifyPassword(string(parts[2])) {
		return ErrNotAuthorized
	}
	return nil
}

func (s *Server) scramFirst(msg string) ([]byte, error) {
	cf, err := parseClientFirst(msg)
	if err != nil {
		return nil, ErrMalformed
	}
	switch {
	case s.plus && cf.cbFlag != 'p':
		return nil, ErrChannelBinding
	case !s.plus && cf.cbFlag == 'p':
		return nil, ErrChannelBinding
	case !s.plus && cf.cbFlag == 'y' && len(s.cfg.Bindings) > 0:
		return nil, ErrDowngrade
	}
	if s.plus {
		if _, ok := s.cfg.Bindings[cf.cbName]; !ok {
			return nil, ErrChannelBinding
		}
	}
	user, err := normalizeUser(cf.user)
	if err != nil {
		return nil, err
	}
	s.user, s.authzid, s.first = user, cf.authzid, cf
	c, ok, err := s.cfg.Lookup(user)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTemporary, err)
	}
	salt, iter := c.Salt, c.Iter
	if ok {
		s.known = true
		if s.mech == SCRAMSHA1 || s.mech == SCRAMSHA1Plus {
			s.creds = c.SHA1
		} else {
			s.creds = c.SHA256
		}
	} else {
		// Same shape of answer for everyone.
		salt = hmacSum(sha256.New, s.cfg.Secret, []byte(user))[:16]
		iter = MinIterations
	}
	if s.cfg.Nonce != nil {
		s.nonce = cf.nonce + s.cfg.Nonce()
	} else {
		var rnd [18]byte
		rand.Read(rnd[:])
		s.nonce = cf.nonce + base64.RawStdEncoding.EncodeToString(rnd[:])
	}
	s.serverFirst = "r=" + s.nonce + ",s=" + base64.StdEncoding.EncodeToString(salt) + ",i=" + strconv.Itoa(iter)
	return []byte(s.serverFirst), nil
}

func (s *Server) scramFinal(msg string) ([]byte, error) {
	cf, err := parseClientFinal(msg)
	if err != nil {
		return nil, ErrMalformed
	}
	want := []byte(s.first.gs2)
	if s.first.cbFlag == 'p' {
		want = append(want, s.cfg.Bindings[s.first.cbName]...)
	}
	if subtle.ConstantTimeCompare(cf.cb, want) != 1 {
		return nil, ErrChannelBinding
	}
	if cf.nonce != s.nonce {
		return nil, ErrNotAuthorized
	}
	if !s.known || len(cf.proof) != s.h().Size() {
		return nil, ErrNotAuthorized
	}
	authMsg := []byte(s.first.bare + "," + s.serverFirst + "," + cf.withoutProof)
	sig := hmacSum(s.h, s.creds.StoredKey, authMsg)
	clientKey := make([]byte, len(sig))
	for i := range sig {
		clientKey[i] = sig[i] ^ cf.proof[i]
	}
	h := s.h()
	h.Write(clientKey)
	if !hmac.Equal(h.Sum(nil), s.creds.StoredKey) {
		return nil, ErrNotAuthorized
	}
	return []byte("v=" + base64.StdEncoding.EncodeToString(hmacSum(s.h, s.creds.ServerKey, authMsg))), nil
}
