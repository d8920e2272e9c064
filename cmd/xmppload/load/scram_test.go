package load

import (
	"encoding/base64"
	"strings"
	"testing"
)

// RFC 5802 §5 and RFC 7677 §3 example exchanges (user "user", password
// "pencil"), with the client nonce fixed to the RFC's.
func TestScramRFCVectors(t *testing.T) {
	for _, v := range []struct {
		mech, cnonce, serverFirst, clientFinal, serverFinal string
	}{
		{"SCRAM-SHA-1", "fyko+d2lbbFgONRv9qkxdawL",
			"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
			"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
			"v=rmF9pqV8S7suAoZWja4dJRkFsKQ="},
		{"SCRAM-SHA-256", "rOprNGfwEbeRWgbNEkqO",
			"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
			"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
			"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="},
	} {
		cache := NewScramCache()
		for round := 0; round < 2; round++ { // the second round uses the cache
			s, err := newScramClient(v.mech, "user", "pencil", cache)
			if err != nil {
				t.Fatal(err)
			}
			s.nonce = v.cnonce
			s.clientFirst = "n=user,r=" + v.cnonce
			if got := string(s.First()); got != "n,,n=user,r="+v.cnonce {
				t.Fatalf("%s first = %q", v.mech, got)
			}
			final, err := s.Final([]byte(v.serverFirst))
			if err != nil {
				t.Fatal(err)
			}
			if string(final) != v.clientFinal {
				t.Fatalf("%s round %d final:\n got %s\nwant %s", v.mech, round, final, v.clientFinal)
			}
			if err := s.Verify([]byte(v.serverFinal)); err != nil {
				t.Fatalf("%s verify: %v", v.mech, err)
			}
			bad := []byte(v.serverFinal)
			bad[3] ^= 1
			if err := s.Verify(bad); err == nil {
				t.Fatalf("%s: a wrong server signature verified", v.mech)
			}
		}
		if cache.Len() != 1 {
			t.Fatalf("cache holds %d keys, want 1", cache.Len())
		}
	}
}

func TestScramCacheSaveLoad(t *testing.T) {
	c := NewScramCache()
	h, _ := scramHash("SCRAM-SHA-1")
	k1, err := c.keys("SCRAM-SHA-1", h, []byte("salt"), 4096, "pw")
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/cache"
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	d := NewScramCache()
	if err := d.Load(path); err != nil {
		t.Fatal(err)
	}
	k2, _ := d.keys("SCRAM-SHA-1", h, []byte("salt"), 4096, "pw")
	if d.Len() != 1 || string(k1.ClientKey) != string(k2.ClientKey) || string(k1.ServerKey) != string(k2.ServerKey) {
		t.Fatal("loaded cache differs")
	}
	if _, _ = d.keys("SCRAM-SHA-1", h, []byte("salt"), 4096, "other"); d.Len() != 2 {
		t.Fatal("another password hit the same cache entry")
	}
	if err := NewScramCache().Load(t.TempDir() + "/missing"); err != nil {
		t.Fatalf("missing cache file: %v", err)
	}
}

func TestParseServerFirstRejects(t *testing.T) {
	salt := base64.StdEncoding.EncodeToString([]byte("salt"))
	for _, msg := range []string{
		"",
		"m=ext,r=abcX,s=" + salt + ",i=4096",
		"r=abc,s=" + salt + ",i=4096",      // nonce not extended
		"r=zzzX,s=" + salt + ",i=4096",     // nonce not ours
		"r=abcX,s=!!!,i=4096",              // bad base64
		"r=abcX,s=,i=4096",                 // empty salt
		"r=abcX,s=" + salt + ",i=0",        // no iterations
		"r=abcX,s=" + salt + ",i=99999999", // too many
		"r=abcX,i=4096,s=" + salt,          // wrong order
	} {
		if _, err := parseServerFirst(msg, "abc"); err == nil {
			t.Errorf("parseServerFirst(%q) accepted", msg)
		}
	}
	sf, err := parseServerFirst("r=abcX,s="+salt+",i=4096,ext=1", "abc")
	if err != nil || sf.Iter != 4096 || string(sf.Salt) != "salt" || sf.Nonce != "abcX" {
		t.Fatalf("valid server-first: %+v %v", sf, err)
	}
}

func TestSaslName(t *testing.T) {
	if got := saslName("a=b,c"); got != "a=3Db=2Cc" {
		t.Fatalf("saslName = %q", got)
	}
}

func FuzzParseServerFirst(f *testing.F) {
	f.Add("r=abcX,s=c2FsdA==,i=4096")
	f.Add("r=abc,s=c2FsdA==,i=-1")
	f.Add("m=x")
	f.Add("r=abcX,s=c2FsdA==,i=4096,,,")
	f.Fuzz(func(t *testing.T, msg string) {
		sf, err := parseServerFirst(msg, "abc")
		if err != nil {
			return
		}
		if !strings.HasPrefix(sf.Nonce, "abc") || len(sf.Nonce) <= 3 || len(sf.Salt) == 0 ||
			sf.Iter < 1 || sf.Iter > maxIterations {
			t.Fatalf("accepted bad server-first %q: %+v", msg, sf)
		}
	})
}
