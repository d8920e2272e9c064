package tpmtest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/chatsecure/box/tpm"
)

// TestSealer runs the behaviour every tpm.Sealer must have. newSealer is
// called once per subtest and must return a fresh sealer on a fresh store
// (a new simulator, a new directory).
func TestSealer(t *testing.T, newSealer func(t *testing.T) tpm.Sealer) {
	t.Run("RoundTrip", func(t *testing.T) {
		s := newSealer(t)
		a, b := Secret(t), Secret(t)
		blobA := mustSeal(t, s, a)
		blobB := mustSeal(t, s, b)
		if bytes.Contains(blobA, a[:8]) || bytes.Contains(blobB, b[:8]) {
			t.Fatal("the blob holds the secret in clear")
		}
		for _, c := range []struct{ blob, want []byte }{{blobA, a}, {blobB, b}, {blobA, a}} {
			got, err := s.Unseal(c.blob)
			if err != nil {
				t.Fatalf("Unseal: %v", err)
			}
			if !bytes.Equal(got, c.want) {
				t.Fatalf("Unseal = %x, want %x", got, c.want)
			}
		}
	})

	t.Run("SecretLength", func(t *testing.T) {
		s := newSealer(t)
		for _, n := range []int{0, 1, 16, 31, 33, 64} {
			secret := make([]byte, n)
			if blob, err := s.Seal(secret); err == nil {
				t.Errorf("Seal(%d bytes) = %x, want an error", n, blob)
			}
		}
		if blob, err := s.Seal(nil); err == nil {
			t.Errorf("Seal(nil) = %x, want an error", blob)
		}
	})

	t.Run("Garbage", func(t *testing.T) {
		s := newSealer(t)
		mustSeal(t, s, Secret(t)) // a store with something in it
		long := make([]byte, 4096)
		rand.Read(long)
		for name, blob := range map[string][]byte{
			"nil":    nil,
			"empty":  {},
			"text":   []byte("not a sealed blob"),
			"random": long[:80],
			"long":   long,
		} {
			if _, err := s.Unseal(blob); !errors.Is(err, tpm.ErrUnseal) {
				t.Errorf("Unseal(%s) error = %v, want ErrUnseal", name, err)
			}
		}
	})

	t.Run("Damaged", func(t *testing.T) {
		s := newSealer(t)
		secret := Secret(t)
		blob := mustSeal(t, s, secret)
		for i := range blob {
			for _, mask := range []byte{0x01, 0x80} {
				bad := bytes.Clone(blob)
				bad[i] ^= mask
				got, err := s.Unseal(bad)
				if !errors.Is(err, tpm.ErrUnseal) {
					t.Fatalf("Unseal(blob with byte %d ^ %#x) = %x, %v; want ErrUnseal", i, mask, got, err)
				}
			}
		}
		if _, err := s.Unseal(append(bytes.Clone(blob), 0)); !errors.Is(err, tpm.ErrUnseal) {
			t.Errorf("Unseal(blob + trailing byte) error = %v, want ErrUnseal", err)
		}
		// The damage tried above did not hurt the original.
		if got, err := s.Unseal(blob); err != nil || !bytes.Equal(got, secret) {
			t.Fatalf("Unseal(original) = %x, %v", got, err)
		}
	})

	t.Run("Truncated", func(t *testing.T) {
		s := newSealer(t)
		blob := mustSeal(t, s, Secret(t))
		for n := range len(blob) {
			if _, err := s.Unseal(blob[:n]); !errors.Is(err, tpm.ErrUnseal) {
				t.Fatalf("Unseal(first %d of %d bytes) error = %v, want ErrUnseal", n, len(blob), err)
			}
		}
	})

	t.Run("Destroy", func(t *testing.T) {
		s := newSealer(t)
		secret := Secret(t)
		blob := mustSeal(t, s, secret)
		saved := bytes.Clone(blob)
		if err := s.Destroy(blob); err != nil {
			t.Fatalf("Destroy: %v", err)
		}
		if got, err := s.Unseal(saved); !errors.Is(err, tpm.ErrUnseal) {
			t.Fatalf("Unseal(saved copy) after Destroy = %x, %v; want ErrUnseal", got, err)
		}
		// Factory reset then claim: the sealer seals a new key.
		fresh := Secret(t)
		blob2 := mustSeal(t, s, fresh)
		if got, err := s.Unseal(blob2); err != nil || !bytes.Equal(got, fresh) {
			t.Fatalf("Unseal(new blob) after Destroy = %x, %v", got, err)
		}
		if got, err := s.Unseal(saved); !errors.Is(err, tpm.ErrUnseal) {
			t.Fatalf("Unseal(saved copy) after a new Seal = %x, %v; want ErrUnseal", got, err)
		}
		if err := s.Destroy([]byte("not a sealed blob")); err == nil {
			t.Error("Destroy(garbage) = nil, want an error")
		}
	})

	t.Run("Lock", func(t *testing.T) {
		s := newSealer(t)
		l, ok := s.(tpm.Locker)
		if !ok {
			t.Skip("sealer is not a tpm.Locker")
		}
		secret := Secret(t)
		blob := mustSeal(t, s, secret)
		if got, err := s.Unseal(blob); err != nil || !bytes.Equal(got, secret) {
			t.Fatalf("Unseal before Lock = %x, %v", got, err)
		}
		if err := l.Lock(); err != nil {
			t.Fatalf("Lock: %v", err)
		}
		if got, err := s.Unseal(blob); !errors.Is(err, tpm.ErrUnseal) {
			t.Fatalf("Unseal after Lock = %x, %v; want ErrUnseal", got, err)
		}
	})
}

// Secret returns a fresh random 32-byte secret.
func Secret(t testing.TB) []byte {
	t.Helper()
	b := make([]byte, tpm.SecretSize)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func mustSeal(t *testing.T, s tpm.Sealer, secret []byte) []byte {
	t.Helper()
	blob, err := s.Seal(secret)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return blob
}
