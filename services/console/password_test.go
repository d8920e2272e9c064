package console_test

import (
	"strings"
	"testing"

	"github.com/chatsecure/box/services/console"
	"github.com/chatsecure/box/services/console/consoletest"
)

func TestPasswordHash(t *testing.T) {
	h, err := consoletest.CheapArgon2.Hash("a fine password")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := console.VerifyPassword(h, "a fine password"); !ok || err != nil {
		t.Fatalf("right password: %v %v", ok, err)
	}
	if ok, _ := console.VerifyPassword(h, "a fine passworD"); ok {
		t.Fatal("wrong password accepted")
	}
	h2, _ := consoletest.CheapArgon2.Hash("a fine password")
	if h == h2 {
		t.Fatal("no salt")
	}
}

func TestParsePHCRefusesCostlyOrBrokenHashes(t *testing.T) {
	for _, bad := range []string{
		"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=1048576,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=99,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1,x=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$",
	} {
		if console.ParsePHC(bad) == nil {
			t.Errorf("accepted %q", bad)
		}
		if ok, _ := console.VerifyPassword(bad, "pw"); ok {
			t.Errorf("verified against %q", bad)
		}
	}
}

// FuzzParsePHC: the stored-hash parser never panics, and whatever it
// accepts has bounded costs.
func FuzzParsePHC(f *testing.F) {
	h, _ := consoletest.CheapArgon2.Hash("pw")
	for _, s := range []string{h, "", "$argon2id$v=19$m=64,t=1,p=1$$", "$argon2id$v=19$m=99999999,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if console.ParsePHC(s) != nil {
			return
		}
		// Accepted: verifying against it must terminate with bounded cost
		// (maxMemKiB, maxTime), and never accept an empty password by accident.
		if strings.Count(s, "$") != 5 {
			t.Fatalf("accepted %q", s)
		}
	})
}

// BenchmarkDefaultArgon2 is what one sign-in costs the box in CPU (and
// DefaultArgon2.MemKiB of RAM): the number behind the two-at-a-time bound.
func BenchmarkDefaultArgon2(b *testing.B) {
	h, err := console.DefaultArgon2.Hash("a fine password")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		console.VerifyPassword(h, "a fine password")
	}
}
