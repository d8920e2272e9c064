package tpm

import (
	"bytes"
	"crypto/rand"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func validTPM2Blob() []byte {
	name := func(b byte) []byte {
		n := append([]byte{0x00, 0x0B}, bytes.Repeat([]byte{b}, 32)...)
		return n
	}
	return (&tpm2Blob{pcr: 15, handle: DefaultHandleBase, srkName: name(0xAA), objName: name(0xBB)}).marshal()
}

// FuzzUnmarshalBlob: the TPM 2.0 blob decoder never panics, and whatever it
// accepts re-encodes to exactly the same bytes (no field is ignored, so no
// damage goes unnoticed).
func FuzzUnmarshalBlob(f *testing.F) {
	valid := validTPM2Blob()
	f.Add(valid)
	f.Add(valid[:len(valid)-1])
	f.Add(append(bytes.Clone(valid), 0))
	f.Add([]byte("CSBT"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := unmarshalTPM2Blob(data)
		if err != nil {
			if !errors.Is(err, errBlob) {
				t.Fatalf("error %v does not wrap errBlob", err)
			}
			return
		}
		if got := b.marshal(); !bytes.Equal(got, data) {
			t.Fatalf("accepted %x but re-encodes to %x", data, got)
		}
		if b.pcr > maxPCR || b.handle < ownerPersistentFirst || b.handle > ownerPersistentLast {
			t.Fatalf("accepted out-of-range fields: %+v", b)
		}
	})
}

func TestTPM2BlobRoundTrip(t *testing.T) {
	valid := validTPM2Blob()
	b, err := unmarshalTPM2Blob(valid)
	if err != nil {
		t.Fatal(err)
	}
	if b.pcr != 15 || b.handle != DefaultHandleBase || b.srkName[2] != 0xAA || b.objName[2] != 0xBB {
		t.Fatalf("decoded %+v", b)
	}
}

// FuzzSoftwareUnseal: the software sealer never panics on any blob, fails
// with ErrUnseal on anything it did not seal, and opens only the one blob
// it did seal.
func FuzzSoftwareUnseal(f *testing.F) {
	s, err := NewSoftware(f.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatal(err)
	}
	secret := make([]byte, SecretSize)
	rand.Read(secret)
	valid, err := s.Seal(secret)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)-1])
	f.Add([]byte("CSBS\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := s.Unseal(data)
		if err != nil {
			if !errors.Is(err, ErrUnseal) {
				t.Fatalf("Unseal error %v does not wrap ErrUnseal", err)
			}
			return
		}
		if !bytes.Equal(data, valid) || !bytes.Equal(got, secret) {
			t.Fatalf("Unseal accepted a blob it did not seal: %x", data)
		}
	})
}

// TestUnmarshalBlobCorpus pins the verdict on each kept corpus entry: those
// named valid* decode, every other one is refused.
func TestUnmarshalBlobCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzUnmarshalBlob")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("no corpus entries")
	}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
		if len(lines) != 2 || lines[0] != "go test fuzz v1" || !strings.HasPrefix(lines[1], "[]byte(") {
			t.Fatalf("%s: not a one-value corpus file", e.Name())
		}
		data, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		_, err = unmarshalTPM2Blob([]byte(data))
		if want := strings.HasPrefix(e.Name(), "valid"); (err == nil) != want {
			t.Errorf("%s: decode error = %v, want success %v", e.Name(), err, want)
		}
	}
}
