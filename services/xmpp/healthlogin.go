package xmpp

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/chatsecure/box/services/xmpp/accounts"
	"github.com/chatsecure/box/services/xmpp/sasl"
)

// healthLoginTTL is how long an issued health login stays usable.
const healthLoginTTL = time.Minute

// HealthCredential is a one-shot login for the box's own health check: a
// reserved localpart (accounts.ReservedPrefix + random), a random password,
// and the address to dial.
type HealthCredential struct {
	Username string // localpart
	Domain   string
	Password string
}

// healthLogins are the credentials HealthLogin issued that no login has
// tried yet. Only the SCRAM keys are kept, in memory, never in the store.
type healthLogins struct {
	mu sync.Mutex
	m  map[string]healthLogin
}

type healthLogin struct {
	creds   sasl.Credentials
	expires time.Time
}

// HealthLogin issues a one-shot login that lets the box's health check
// (package xmpp/selfcheck, run by the appliance on a trial boot) exercise
// the whole login path — TCP accept, TLS, SASL, bind, router and a store
// read — without a person's account and without creating one. The login
// is accepted only from a peer on this machine (loopback, or the address
// the connection arrived on), only once (the first SASL attempt with the
// name uses it up, whatever its outcome), and only within a minute.
func (s *Server) HealthLogin() (HealthCredential, error) {
	var id [12]byte
	var pw [24]byte
	rand.Read(id[:])
	rand.Read(pw[:])
	c := HealthCredential{
		Username: accounts.ReservedPrefix + hex.EncodeToString(id[:]),
		Domain:   s.cfg.Domain,
		Password: base64.RawURLEncoding.EncodeToString(pw[:]),
	}
	creds, err := sasl.NewCredentials(c.Password, sasl.MinIterations)
	if err != nil {
		return HealthCredential{}, fmt.Errorf("xmpp: health login: %w", err)
	}
	now := s.now()
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	if s.health.m == nil {
		s.health.m = map[string]healthLogin{}
	}
	for u, l := range s.health.m {
		if now.After(l.expires) {
			delete(s.health.m, u)
		}
	}
	s.health.m[c.Username] = healthLogin{creds: creds, expires: now.Add(healthLoginTTL)}
	return c, nil
}

// takeHealthLogin looks up and uses up a health login. A name that was not
// issued, has expired or comes from another machine is an unknown user.
func (s *Server) takeHealthLogin(username string, local bool) (sasl.Credentials, bool) {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	l, ok := s.health.m[username]
	if !ok {
		return sasl.Credentials{}, false
	}
	delete(s.health.m, username)
	if !local || s.now().After(l.expires) {
		return sasl.Credentials{}, false
	}
	return l.creds, true
}

// sameMachine reports whether the peer of nc is on this machine: a
// loopback address, or the very address the connection arrived on.
func sameMachine(nc net.Conn) bool {
	remote, ok1 := nc.RemoteAddr().(*net.TCPAddr)
	local, ok2 := nc.LocalAddr().(*net.TCPAddr)
	if !ok1 || !ok2 {
		return false
	}
	return remote.IP.IsLoopback() || remote.IP.Equal(local.IP)
}
