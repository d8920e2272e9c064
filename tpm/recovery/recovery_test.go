package recovery

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

var cheap = Params{Time: 1, Memory: 64, Threads: 1}

func TestWrapUnwrap(t *testing.T) {
	code, err := NewCode()
	if err != nil {
		t.Fatal(err)
	}
	if len(code) != 39 || strings.Count(code, "-") != 7 {
		t.Fatalf("code %q is not 8 groups of 4", code)
	}
	secret := bytes.Repeat([]byte{0xAB}, 32)
	env, err := Wrap(secret, code, cheap)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(env, secret[:8]) {
		t.Fatal("secret visible in envelope")
	}
	// As a person might type it back.
	typed := strings.ToLower(strings.ReplaceAll(code, "-", " "))
	got, err := Unwrap(env, typed)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Unwrap: %x, %v", got, err)
	}
}

func TestWrongCodeAndDamage(t *testing.T) {
	code, _ := NewCode()
	other, _ := NewCode()
	env, _ := Wrap(make([]byte, 32), code, cheap)
	if _, err := Unwrap(env, other); !errors.Is(err, ErrWrongCode) {
		t.Fatalf("other code: %v", err)
	}
	if _, err := Unwrap(env, "too-short"); err == nil || !strings.Contains(err.Error(), "32 letters") {
		t.Fatalf("short code: %v", err)
	}
	for i := range env {
		d := bytes.Clone(env)
		d[i] ^= 1
		if _, err := Unwrap(d, code); err == nil {
			t.Fatalf("flipped byte %d accepted", i)
		}
	}
	if _, err := Unwrap(env[:len(env)-1], code); err == nil {
		t.Fatal("truncated envelope accepted")
	}
}

func FuzzUnwrap(f *testing.F) {
	code := "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH"
	env, _ := Wrap(make([]byte, 32), code, cheap)
	f.Add(env)
	f.Add([]byte("CSBR\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		Unwrap(data, code) // must not panic or allocate unboundedly
	})
}
