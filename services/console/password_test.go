package console_test

import (
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

func FuzzVerifyPassword(f *testing.F) {
	h, _ := consoletest.CheapArgon2.Hash("pw")
	for _, s := range []string{h, "", "$argon2id$v=19$m=64,t=1,p=1$$", "$argon2id$v=19$m=99999999,t=1,p=1$AAAA$AAAA", "$argon2i$v=19$m=64,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=64,t=1,p=0$AAAA$AAAA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, phc string) {
		// Must never panic nor burn unbounded memory on a bad stored hash.
		console.VerifyPassword(phc, "pw")
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
