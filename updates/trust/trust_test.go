package trust

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"strings"
	"testing"
)

func devKey(t testing.TB, name string) PrivateKey {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name + ".key")
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParsePrivate(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func genKeys(t testing.TB, n int) []PrivateKey {
	t.Helper()
	var ks []PrivateKey
	for i := range n {
		k, err := Generate("k"+string(rune('a'+i)), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		ks = append(ks, k)
	}
	return ks
}

func pubs(ks ...PrivateKey) []ed25519.PublicKey {
	var p []ed25519.PublicKey
	for _, k := range ks {
		p = append(p, k.Public().Key)
	}
	return p
}

func TestRootIsDevSet(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	if root.Seq != 0 || root.Threshold != 2 || len(root.Keys) != 3 {
		t.Fatalf("root = seq %d threshold %d keys %d", root.Seq, root.Threshold, len(root.Keys))
	}
	msg := []byte("hello")
	one := []Signature{devKey(t, "dev1").Sign(DomainManifest, msg)}
	if _, err := root.Verify(DomainManifest, msg, one); !errors.Is(err, ErrTooFew) {
		t.Fatalf("one dev signature: err = %v, want ErrTooFew", err)
	}
	two := append(one, devKey(t, "dev3").Sign(DomainManifest, msg))
	ids, err := root.Verify(DomainManifest, msg, two)
	if err != nil || len(ids) != 2 {
		t.Fatalf("two dev signatures: ids %v err %v", ids, err)
	}
}

func TestKeyFilesRoundTrip(t *testing.T) {
	k := genKeys(t, 1)[0]
	k2, err := ParsePrivate(k.Marshal())
	if err != nil || !k2.Key.Equal(k.Key) || k2.Name != k.Name {
		t.Fatalf("private round trip: %v", err)
	}
	p, err := ParsePublic(k.Public().Marshal())
	if err != nil || !p.Key.Equal(k.Public().Key) {
		t.Fatalf("public round trip: %v", err)
	}
	for _, bad := range []string{"", "boxsign-ed25519-pub", "boxsign-ed25519-key AAAA", "boxsign-ed25519-pub !!!", "other " + strings.Fields(string(k.Public().Marshal()))[1]} {
		if _, err := ParsePublic([]byte(bad)); err == nil {
			t.Errorf("ParsePublic(%q) accepted", bad)
		}
	}
	// A private key file is not a public key file and vice versa.
	if _, err := ParsePublic(k.Marshal()); err == nil {
		t.Error("private key parsed as public")
	}
	if _, err := Generate("bad name", rand.Reader); err == nil {
		t.Error("name with a space accepted")
	}
}

func TestVerifyReasons(t *testing.T) {
	ks := genKeys(t, 4)
	set, err := NewSet(0, 2, pubs(ks[0], ks[1], ks[2]))
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("manifest")
	good := func(i int) Signature { return ks[i].Sign(DomainManifest, msg) }
	flipped := good(1)
	flipped.Sig = bytes.Clone(flipped.Sig)
	flipped.Sig[3] ^= 1
	cases := []struct {
		name string
		sigs []Signature
		want error
	}{
		{"none", nil, ErrTooFew},
		{"one", []Signature{good(0)}, ErrTooFew},
		{"same key twice", []Signature{good(0), good(0)}, ErrTooFew},
		{"unknown", []Signature{good(0), good(3)}, ErrUnknownKey},
		{"bad", []Signature{good(0), flipped}, ErrBadSignature},
		{"other domain", []Signature{good(0), ks[1].Sign(DomainRotation, msg)}, ErrBadSignature},
	}
	for _, c := range cases {
		if _, err := set.Verify(DomainManifest, msg, c.sigs); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := set.Verify(DomainManifest, msg, []Signature{good(0), flipped, good(2)}); err != nil {
		t.Errorf("threshold met despite one bad: %v", err)
	}
	if _, err := NewSet(0, 3, pubs(ks[0], ks[1])); err == nil {
		t.Error("threshold above key count accepted")
	}
	if _, err := NewSet(0, 1, pubs(ks[0], ks[0])); err == nil {
		t.Error("duplicate key accepted")
	}
}

func TestRotationRetiresOldKey(t *testing.T) {
	ks := genKeys(t, 4)
	root, _ := NewSet(0, 2, pubs(ks[0], ks[1], ks[2]))
	// ks[2] leaked: the others hand trust to {0,1,3}.
	next, _ := NewSet(1, 2, pubs(ks[0], ks[1], ks[3]))
	r, err := NewRotation(next)
	if err != nil {
		t.Fatal(err)
	}
	r.Sign(ks[0])
	if _, err := root.Rotate(r); !errors.Is(err, ErrTooFew) {
		t.Fatalf("one signature rotated: %v", err)
	}
	r.Sign(ks[1])
	parsed, err := ParseRotation(r.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	got, err := root.Rotate(parsed)
	if err != nil {
		t.Fatal(err)
	}
	if got.Seq != 1 || len(got.Keys) != 3 || !got.Keys[2].Equal(ks[3].Public().Key) {
		t.Fatalf("rotated set = %+v", got)
	}
	msg := []byte("m")
	if _, err := got.Verify(DomainManifest, msg, []Signature{ks[2].Sign(DomainManifest, msg), ks[0].Sign(DomainManifest, msg)}); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("retired key still counted: %v", err)
	}
	if _, err := got.Verify(DomainManifest, msg, []Signature{ks[3].Sign(DomainManifest, msg), ks[0].Sign(DomainManifest, msg)}); err != nil {
		t.Fatalf("new key refused: %v", err)
	}
	// Replaying the statement against the new set, or skipping one, fails.
	if _, err := got.Rotate(parsed); !errors.Is(err, ErrRotationGap) {
		t.Fatalf("replay: %v", err)
	}
	// Advance skips what is already applied.
	adv, err := got.Advance([]SignedRotation{parsed})
	if err != nil || adv.Seq != 1 {
		t.Fatalf("advance over applied: %v %d", err, adv.Seq)
	}
	// Tampering with the statement after signing breaks it.
	tampered := parsed
	tampered.Statement.Threshold = 1
	if _, err := root.Rotate(tampered); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("tampered threshold: %v", err)
	}
}

func TestParseRotationStrict(t *testing.T) {
	ks := genKeys(t, 1)
	set, _ := NewSet(1, 1, pubs(ks[0]))
	r, _ := NewRotation(set)
	good := r.Marshal()
	if _, err := ParseRotation(good); err != nil {
		t.Fatal(err)
	}
	bad := map[string][]byte{
		"trailing":      append(bytes.Clone(good), []byte("{}")...),
		"unknown field": bytes.Replace(good, []byte(`"seq"`), []byte(`"extra": 1, "seq"`), 1),
		"product":       bytes.Replace(good, []byte(Product), []byte("other"), 1),
		"seq 0":         bytes.Replace(good, []byte(`"seq": 1`), []byte(`"seq": 0`), 1),
		"threshold":     bytes.Replace(good, []byte(`"threshold": 1`), []byte(`"threshold": 2`), 1),
		"huge":          make([]byte, MaxRotationSize+1),
	}
	for name, b := range bad {
		if _, err := ParseRotation(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParseRotation(f *testing.F) {
	ks := genKeys(f, 2)
	set, _ := NewSet(1, 1, pubs(ks[0], ks[1]))
	r, _ := NewRotation(set)
	r.Sign(ks[0])
	f.Add(r.Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRotation(b)
		if err != nil {
			return
		}
		// Whatever parses must round-trip and describe a usable set.
		if _, err := r.Statement.Set(); err != nil {
			t.Fatalf("parsed statement with unusable set: %v", err)
		}
		r2, err := ParseRotation(r.Marshal())
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if !bytes.Equal(r2.Statement.signedBytes(), r.Statement.signedBytes()) {
			t.Fatal("round trip changed the signed bytes")
		}
	})
}

func FuzzParseKeys(f *testing.F) {
	k := devKey(f, "dev1")
	f.Add(k.Marshal())
	f.Add(k.Public().Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, err := ParsePublic(b); err == nil {
			if q, err := ParsePublic(p.Marshal()); err != nil || !q.Key.Equal(p.Key) {
				t.Fatalf("public key does not round-trip: %v", err)
			}
		}
		if p, err := ParsePrivate(b); err == nil {
			if q, err := ParsePrivate(p.Marshal()); err != nil || !q.Key.Equal(p.Key) {
				t.Fatalf("private key does not round-trip: %v", err)
			}
		}
	})
}
