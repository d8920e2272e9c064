package selfcheck_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/chatsecure/box/config"
	"github.com/chatsecure/box/services/store/storetest"
	"github.com/chatsecure/box/services/xmpp"
	"github.com/chatsecure/box/services/xmpp/selfcheck"
)

func selfSigned(t *testing.T, name string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// start runs a real XMPP server on 127.0.0.1 with a fresh store.
// It returns the server, its STARTTLS and direct TLS addresses and its
// certificate.
func start(t *testing.T) (*xmpp.Server, string, string, []byte) {
	t.Helper()
	cfg := config.Dev().XMPP
	cfg.Domain, cfg.C2S, cfg.C2STLS = "box.test", "127.0.0.1:0", "127.0.0.1:0"
	cert := selfSigned(t, "box.test")
	x, err := xmpp.New(cfg, storetest.Open(t), &tls.Config{Certificates: []tls.Certificate{cert}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- x.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	for range 500 {
		if a := x.Addrs(); len(a) == 2 {
			return x, a[0].String(), a[1].String(), cert.Certificate[0]
		}
		select {
		case err := <-done:
			t.Fatalf("server stopped: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("server never listened")
	return nil, "", "", nil
}

func opts(addr string, der []byte, c xmpp.HealthCredential) selfcheck.Options {
	return selfcheck.Options{Addr: addr, Domain: c.Domain, Username: c.Username, Password: c.Password, Cert: der}
}

func step(err error) string {
	var e *selfcheck.Error
	if errors.As(err, &e) {
		return e.Step
	}
	return ""
}

// TestLogin: a health login logs in once, over loopback, with the box's
// certificate, reads its roster, and leaves no account behind.
func TestLogin(t *testing.T) {
	x, addr, direct, der := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := x.HealthLogin()
	if err != nil {
		t.Fatal(err)
	}
	if err := selfcheck.Login(ctx, opts(addr, der, c)); err != nil {
		t.Fatalf("health login: %v", err)
	}
	users, err := x.Accounts().List(ctx)
	if err != nil || len(users) != 0 {
		t.Fatalf("accounts after a health login: %v %v", users, err)
	}
	// One-shot: the same credential is refused the second time.
	if err := selfcheck.Login(ctx, opts(addr, der, c)); step(err) != selfcheck.StepLogin {
		t.Fatalf("second use of a health login: %v, want a login failure", err)
	}
	// Direct TLS (XEP-0368) too.
	if c, err = x.HealthLogin(); err != nil {
		t.Fatal(err)
	}
	o := opts(direct, der, c)
	o.DirectTLS = true
	if err := selfcheck.Login(ctx, o); err != nil {
		t.Fatalf("health login over direct TLS: %v", err)
	}
}

// TestRefused: each broken part of the path fails at its own step.
func TestRefused(t *testing.T) {
	x, addr, direct, der := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	issue := func() xmpp.HealthCredential {
		c, err := x.HealthLogin()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	c := issue()
	c.Password += "x"
	if err := selfcheck.Login(ctx, opts(addr, der, c)); step(err) != selfcheck.StepLogin {
		t.Errorf("wrong password: %v", err)
	}
	c = issue()
	c.Username += "0" // reserved, but never issued
	if err := selfcheck.Login(ctx, opts(addr, der, c)); step(err) != selfcheck.StepLogin {
		t.Errorf("unissued reserved name: %v", err)
	}
	other := selfSigned(t, "box.test").Certificate[0]
	if err := selfcheck.Login(ctx, opts(addr, other, issue())); step(err) != selfcheck.StepTLS {
		t.Errorf("a certificate that is not the box's: %v", err)
	}
	o := opts(direct, other, issue())
	o.DirectTLS = true
	if err := selfcheck.Login(ctx, o); step(err) != selfcheck.StepTLS {
		t.Errorf("direct TLS, a certificate that is not the box's: %v", err)
	}
	closed := "127.0.0.1:1"
	if err := selfcheck.Login(ctx, opts(closed, der, issue())); step(err) != selfcheck.StepDial {
		t.Errorf("nothing listening: %v", err)
	}
	if err := selfcheck.Login(ctx, selfcheck.Options{Addr: addr}); err == nil {
		t.Errorf("empty options accepted")
	}
	// An ordinary account still logs in as before; the health path is
	// only for reserved names.
	if err := x.Accounts().Create(ctx, "alice", "pencil"); err != nil {
		t.Fatal(err)
	}
	if err := selfcheck.Login(ctx, selfcheck.Options{Addr: addr, Domain: "box.test", Username: "alice", Password: "pencil", Cert: der}); err != nil {
		t.Errorf("alice: %v", err)
	}
}
