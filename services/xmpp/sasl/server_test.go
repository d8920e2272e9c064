package sasl

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// vectorCreds builds credentials with the salt of a published test vector.
func vectorCreds(t *testing.T, salt string) Credentials {
	t.Helper()
	s, err := base64.StdEncoding.DecodeString(salt)
	if err != nil {
		t.Fatal(err)
	}
	c := Credentials{Salt: s, Iter: 4096}
	if c.SHA1, err = DeriveKeys(sha1.New, "pencil", s, 4096); err != nil {
		t.Fatal(err)
	}
	if c.SHA256, err = DeriveKeys(sha256.New, "pencil", s, 4096); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSCRAMVectors(t *testing.T) {
	for _, tc := range []struct {
		mech, salt, snonce, first, serverFirst, final, verifier string
	}{{
		// RFC 5802 §5
		mech:        SCRAMSHA1,
		salt:        "QSXCR+Q6sek8bf92",
		snonce:      "3rfcNHYJY1ZVvWVs7j",
		first:       "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
		serverFirst: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
		final:       "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		verifier:    "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
	}, {
		// RFC 7677 §3
		mech:        SCRAMSHA256,
		salt:        "W22ZaJ0SNY7soEsUEjb6gQ==",
		snonce:      "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
		first:       "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
		serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		final:       "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		verifier:    "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
	}} {
		t.Run(tc.mech, func(t *testing.T) {
			c := vectorCreds(t, tc.salt)
			s, err := NewServer(tc.mech, Config{
				Lookup: func(u string) (Credentials, bool, error) { return c, u == "user", nil },
				Nonce:  func() string { return tc.snonce },
			})
			if err != nil {
				t.Fatal(err)
			}
			out, done, err := s.Step([]byte(tc.first))
			if err != nil || done || string(out) != tc.serverFirst {
				t.Fatalf("first: %q %v %v, want %q", out, done, err, tc.serverFirst)
			}
			out, done, err = s.Step([]byte(tc.final))
			if err != nil || !done || string(out) != tc.verifier {
				t.Fatalf("final: %q %v %v, want %q", out, done, err, tc.verifier)
			}
			if s.Username() != "user" {
				t.Fatalf("username %q", s.Username())
			}
			// A wrong proof fails.
			s, _ = NewServer(tc.mech, Config{
				Lookup: func(u string) (Credentials, bool, error) { return c, true, nil },
				Nonce:  func() string { return tc.snonce },
			})
			s.Step([]byte(tc.first))
			bad := tc.final[:len(tc.final)-6] + "AAAAA="
			if _, _, err := s.Step([]byte(bad)); !errors.Is(err, ErrNotAuthorized) {
				t.Fatalf("bad proof: %v", err)
			}
		})
	}
}

func TestSCRAMUnknownUserLooksAlike(t *testing.T) {
	cfg := Config{
		Lookup: func(string) (Credentials, bool, error) { return Credentials{}, false, nil },
		Secret: []byte("secret"),
	}
	s, _ := NewServer(SCRAMSHA256, cfg)
	out, _, err := s.Step([]byte("n,,n=nobody,r=abc"))
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no server-first for an unknown user")
	}
	nonce := strings.Split(strings.TrimPrefix(string(out), "r="), ",")[0]
	if _, _, err := s.Step([]byte("c=biws,r=" + nonce + ",p=AAAA")); !errors.Is(err, ErrNotAuthorized) {
		t.Fatalf("unknown user: %v", err)
	}
}

func TestChannelBindingRules(t *testing.T) {
	c := vectorCreds(t, "QSXCR+Q6sek8bf92")
	lookup := func(string) (Credentials, bool, error) { return c, true, nil }
	binds := map[string][]byte{"tls-exporter": []byte("ekm"), "tls-server-end-point": []byte("cert")}
	for _, tc := range []struct {
		name  string
		mech  string
		binds map[string][]byte
		first string
		want  error
	}{
		{"plus without p", SCRAMSHA256Plus, binds, "n,,n=user,r=x", ErrChannelBinding},
		{"plus unknown type", SCRAMSHA256Plus, binds, "p=tls-unique,,n=user,r=x", ErrChannelBinding},
		{"plus ok", SCRAMSHA256Plus, binds, "p=tls-exporter,,n=user,r=x", nil},
		{"downgrade", SCRAMSHA256, binds, "y,,n=user,r=x", ErrDowngrade},
		{"y without plus offered", SCRAMSHA256, nil, "y,,n=user,r=x", nil},
		{"p on plain mech", SCRAMSHA1, binds, "p=tls-exporter,,n=user,r=x", ErrChannelBinding},
		{"mandatory ext", SCRAMSHA1, nil, "n,,m=foo,n=user,r=x", ErrMalformed},
		{"bad escape", SCRAMSHA1, nil, "n,,n=us=er,r=x", ErrMalformed},
		{"no nonce", SCRAMSHA1, nil, "n,,n=user", ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewServer(tc.mech, Config{Lookup: lookup, Bindings: tc.binds})
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = s.Step([]byte(tc.first))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSCRAMPlusBindingChecked(t *testing.T) {
	c := vectorCreds(t, "QSXCR+Q6sek8bf92")
	s, _ := NewServer(SCRAMSHA1Plus, Config{
		Lookup:   func(string) (Credentials, bool, error) { return c, true, nil },
		Bindings: map[string][]byte{"tls-exporter": []byte("real")},
		Nonce:    func() string { return "S" },
	})
	if _, _, err := s.Step([]byte("p=tls-exporter,,n=user,r=C")); err != nil {
		t.Fatal(err)
	}
	// The client saw different binding data (a man in the middle).
	cb := base64.StdEncoding.EncodeToString([]byte("p=tls-exporter,,fake"))
	if _, _, err := s.Step([]byte("c=" + cb + ",r=CS,p=AAAA")); !errors.Is(err, ErrChannelBinding) {
		t.Fatalf("got %v", err)
	}
}

func TestPlain(t *testing.T) {
	c, err := NewCredentials("pencil", 4096)
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(u string) (Credentials, bool, error) { return c, u == "user", nil }
	for _, tc := range []struct {
		in   string
		want error
	}{
		{"\x00user\x00pencil", nil},
		{"\x00User\x00pencil", nil}, // case-mapped username
		{"\x00user\x00Pencil", ErrNotAuthorized},
		{"\x00bob\x00pencil", ErrNotAuthorized},
		{"user\x00pencil", ErrMalformed},
		{"\x00\x00pencil", ErrMalformed},
	} {
		s, _ := NewServer(Plain, Config{Lookup: lookup})
		_, done, err := s.Step([]byte(tc.in))
		if !errors.Is(err, tc.want) || (err == nil) != done {
			t.Errorf("%q: %v %v, want %v", tc.in, done, err, tc.want)
		}
	}
}

func TestNewCredentialsRefusesFewIterations(t *testing.T) {
	if _, err := NewCredentials("x", 1000); err == nil {
		t.Fatal("accepted 1000 iterations")
	}
}
