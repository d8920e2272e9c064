package bundle

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatsecure/box/updates/trust"
)

var created = time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)

// writeBundle makes a bundle with a root and a boot payload in a temp dir.
func writeBundle(t testing.TB) (path string, root, boot []byte) {
	t.Helper()
	dir := t.TempDir()
	root = bytes.Repeat([]byte("root-v2 "), 1000)
	boot = []byte("boot files v2")
	os.WriteFile(filepath.Join(dir, "root.img"), root, 0o644)
	os.WriteFile(filepath.Join(dir, "boot.img"), boot, 0o644)
	path = filepath.Join(dir, "v2.boxupdate")
	err := WriteUnsigned(path, Spec{Target: "amd64", Version: "2.0.0", Build: 20, MinVersion: "1.0.0", Created: created},
		[]PayloadFile{{"root", filepath.Join(dir, "root.img")}, {"boot", filepath.Join(dir, "boot.img")}})
	if err != nil {
		t.Fatal(err)
	}
	return path, root, boot
}

func TestWriteSignParse(t *testing.T) {
	path, root, boot := writeBundle(t)
	k, _ := trust.Generate("rel", rand.Reader)
	if err := AddSignature(path, k); err != nil {
		t.Fatal(err)
	}
	// Signing twice with one key keeps one signature.
	if err := AddSignature(path, k); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := f.Manifest
	if m.Product != Product || m.Target != "amd64" || m.Version != "2.0.0" || m.Build != 20 || m.MinVersion != "1.0.0" || !m.Created.Equal(created) {
		t.Fatalf("manifest = %+v", m)
	}
	if len(f.Signatures) != 1 || f.Signatures[0].KeyID != k.Public().ID() {
		t.Fatalf("signatures = %v", f.Signatures)
	}
	set, _ := trust.NewSet(0, 1, []ed25519.PublicKey{k.Public().Key})
	if _, err := set.Verify(trust.DomainManifest, f.ManifestBytes, f.Signatures); err != nil {
		t.Fatal(err)
	}
	for i, want := range [][]byte{root, boot} {
		got := make([]byte, f.Manifest.Payloads[i].Size)
		if _, err := f.Payload(i).ReadAt(got, 0); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("payload %d differs (%v)", i, err)
		}
	}
}

func TestAttachRotation(t *testing.T) {
	path, _, _ := writeBundle(t)
	k, _ := trust.Generate("new", rand.Reader)
	for _, seq := range []uint64{2, 1} {
		set, _ := trust.NewSet(seq, 1, []ed25519.PublicKey{k.Public().Key})
		r, _ := trust.NewRotation(set)
		if err := AttachRotation(path, r); err != nil {
			t.Fatal(err)
		}
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if len(f.Rotations) != 2 || f.Rotations[0].Statement.Seq != 1 || f.Rotations[1].Statement.Seq != 2 {
		t.Fatalf("rotations = %+v", f.Rotations)
	}
}

func TestParseRefuses(t *testing.T) {
	path, _, _ := writeBundle(t)
	good, _ := os.ReadFile(path)
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	cases := map[string]struct {
		b    []byte
		want error
	}{
		"empty":         {nil, ErrTruncated},
		"magic":         {mutate(func(b []byte) []byte { b[0] = 'X'; return b }), ErrNotBundle},
		"format":        {mutate(func(b []byte) []byte { b[9] = 2; return b }), ErrFormat},
		"flags":         {mutate(func(b []byte) []byte { b[11] = 1; return b }), ErrFormat},
		"truncated":     {good[:len(good)-1], ErrTruncated},
		"trailing":      {append(bytes.Clone(good), 0), ErrTrailing},
		"huge manifest": {mutate(func(b []byte) []byte { binary.BigEndian.PutUint32(b[12:], 1<<30); return b }), ErrManifestTooLarge},
		"odd sig block": {mutate(func(b []byte) []byte { binary.BigEndian.PutUint32(b[16:], 5); return b }), ErrMalformed},
		"payload length": {mutate(func(b []byte) []byte {
			binary.BigEndian.PutUint64(b[24:], 1)
			return b[:HeaderSize+binary.BigEndian.Uint32(b[12:])+1]
		}), ErrMalformed},
		"not canonical": {mutate(func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"product":"chatsecure-box","target":"amd64"`), []byte(`"target":"amd64","product":"chatsecure-box"`), 1)
		}), ErrMalformed},
	}
	for name, c := range cases {
		_, err := Parse(bytes.NewReader(c.b), int64(len(c.b)))
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", name, err, c.want)
		}
	}
}

func TestManifestCanonical(t *testing.T) {
	m := &Manifest{Product: Product, Target: "pi", Version: "1.2.3", Build: 7, Created: created,
		Payloads: []Payload{{Name: "root", Size: 3, SHA256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}}}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseManifest(b); err != nil {
		t.Fatal(err)
	}
	bad := map[string][]byte{
		"duplicate key": bytes.Replace(b, []byte(`"build":7`), []byte(`"build":7,"build":9`), 1),
		"spaces":        bytes.Replace(b, []byte(`,`), []byte(`, `), 1),
		"upper hex":     bytes.Replace(b, []byte("ba7816bf"), []byte("BA7816BF"), 1),
		"unknown field": bytes.Replace(b, []byte(`"build"`), []byte(`"x":1,"build"`), 1),
		"bad version":   bytes.Replace(b, []byte(`1.2.3`), []byte(`1.2`), 1),
		"build 0":       bytes.Replace(b, []byte(`"build":7`), []byte(`"build":0`), 1),
		"name":          bytes.Replace(b, []byte(`"root"`), []byte(`"../x"`), 1),
		"size":          bytes.Replace(b, []byte(`"size":3`), []byte(`"size":-3`), 1),
	}
	for name, c := range bad {
		if _, err := ParseManifest(c); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestVersionOrder(t *testing.T) {
	order := []string{"0.9.9", "1.0.0-beta.1", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.10.0", "2.0.0"}
	for i := range order {
		for j := range order {
			a, err1 := ParseVersion(order[i])
			b, err2 := ParseVersion(order[j])
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := a.Compare(b); got != want {
				t.Errorf("%s vs %s = %d, want %d", order[i], order[j], got, want)
			}
		}
	}
	for _, bad := range []string{"", "1", "1.2", "1.2.3.4", "01.2.3", "1.2.x", "1.2.3-", "1.2.3-a b"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q) accepted", bad)
		}
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add(Header{Format: Format, ManifestLen: 100, SigsLen: 72, PayloadLen: 5}.Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err != nil {
			return
		}
		if h.ManifestLen > MaxManifestSize || h.SigsLen > MaxSignaturesSize || h.RotationsLen > MaxRotationsSize || h.Size() < HeaderSize {
			t.Fatalf("bounds not enforced: %+v", h)
		}
		if !bytes.Equal(h.Marshal(), b[:HeaderSize]) {
			t.Fatal("header does not round-trip")
		}
	})
}

func FuzzParseManifest(f *testing.F) {
	m := &Manifest{Product: Product, Target: "pi", Version: "1.2.3-rc.1", Build: 7, MinVersion: "1.0.0", Created: created,
		Payloads: []Payload{{Name: "root", Size: 3, SHA256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}}}
	b, _ := m.Marshal()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseManifest(b)
		if err != nil {
			return
		}
		again, err := m.Marshal()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("accepted non-canonical manifest %q", b)
		}
	})
}

func FuzzParse(f *testing.F) {
	path, _, _ := writeBundle(f)
	good, _ := os.ReadFile(path)
	f.Add(good)
	f.Fuzz(func(t *testing.T, b []byte) {
		bd, err := Parse(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		if bd.Header.Size() != int64(len(b)) {
			t.Fatalf("accepted %d bytes for header size %d", len(b), bd.Header.Size())
		}
		for i := range bd.Manifest.Payloads {
			if n, err := bd.Payload(i).Read(make([]byte, 1)); n != 1 || err != nil {
				t.Fatalf("payload %d unreadable: %v", i, err)
			}
		}
	})
}

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"1.2.3", "v0.0.1-rc.1", "01.2.3", "1.2.3-", "4294967296.0.0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err != nil {
			return
		}
		w, err := ParseVersion(v.String())
		if err != nil || w.Compare(v) != 0 || w != v {
			t.Fatalf("%q -> %v -> %v (%v)", s, v, w, err)
		}
	})
}
