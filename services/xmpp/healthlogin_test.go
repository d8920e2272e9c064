package xmpp

import (
	"net"
	"testing"
	"time"

	"github.com/chatsecure/box/services/xmpp/accounts"
)

// TestHealthLoginRules: a health login is usable once, only from this
// machine, only before it expires; its keys match its password.
func TestHealthLoginRules(t *testing.T) {
	s := startServer(t, nil)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }

	c, err := s.HealthLogin()
	if err != nil {
		t.Fatal(err)
	}
	if !accounts.IsReserved(c.Username) || c.Domain != s.cfg.Domain || len(c.Password) < 20 {
		t.Fatalf("credential %+v", c)
	}
	if c2, _ := s.HealthLogin(); c2.Username == c.Username || c2.Password == c.Password {
		t.Fatalf("two health logins alike: %+v %+v", c, c2)
	}
	creds, ok := s.takeHealthLogin(c.Username, true)
	if !ok || !creds.VerifyPassword(c.Password) {
		t.Fatalf("issued login: ok=%v, keys match=%v", ok, creds.VerifyPassword(c.Password))
	}
	if _, ok := s.takeHealthLogin(c.Username, true); ok {
		t.Fatal("a health login was usable twice")
	}

	c, _ = s.HealthLogin()
	if _, ok := s.takeHealthLogin(c.Username, false); ok {
		t.Fatal("a health login was accepted from another machine")
	}
	if _, ok := s.takeHealthLogin(c.Username, true); ok {
		t.Fatal("a refused attempt did not use the login up")
	}

	c, _ = s.HealthLogin()
	now = now.Add(healthLoginTTL + time.Second)
	if _, ok := s.takeHealthLogin(c.Username, true); ok {
		t.Fatal("an expired health login was accepted")
	}
	// Expired logins are dropped when the next one is issued: only the
	// fresh one is left (the second login of the first round expired).
	fresh, _ := s.HealthLogin()
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	if _, ok := s.health.m[fresh.Username]; !ok || len(s.health.m) != 1 {
		t.Fatalf("pending health logins after expiry: %d, fresh one kept: %v", len(s.health.m), ok)
	}
}

// TestSameMachine: loopback peers are local; the rule reads the socket's
// addresses, not anything the client says.
func TestSameMachine(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !sameMachine(c) {
		t.Fatal("a loopback peer is not on this machine")
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if sameMachine(a) {
		t.Fatal("a conn without TCP addresses counts as local")
	}
}
