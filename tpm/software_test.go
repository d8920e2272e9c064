package tpm_test

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatsecure/box/tpm"
	"github.com/chatsecure/box/tpm/tpmtest"
)

const devWarning = "software key sealer: dev mode only, the key is NOT protected by a TPM"

func newSoftware(t *testing.T, dir string, log *slog.Logger) *tpm.Software {
	t.Helper()
	s, err := tpm.NewSoftware(dir, log)
	if err != nil {
		t.Fatalf("NewSoftware: %v", err)
	}
	return s
}

// TestSoftwareWarnsEveryStart: each construction (each boxd -dev start)
// logs the warning at WARN level.
func TestSoftwareWarnsEveryStart(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	dir := t.TempDir()
	for range 3 {
		newSoftware(t, dir, log)
	}
	if n := strings.Count(buf.String(), "level=WARN msg=\""+devWarning+"\""); n != 3 {
		t.Fatalf("warning logged %d times in 3 starts; log:\n%s", n, buf.String())
	}
	if _, err := tpm.NewSoftware(dir, nil); err == nil {
		t.Fatal("NewSoftware without a logger succeeded")
	}
}

// TestSoftwareRestart: a new sealer on the same directory (boxd restarted)
// opens what the old one sealed; the key file is 0600.
func TestSoftwareRestart(t *testing.T) {
	dir := t.TempDir()
	secret := tpmtest.Secret(t)
	blob, err := newSoftware(t, dir, testLogger(t)).Seal(secret)
	if err != nil {
		t.Fatal(err)
	}
	got, err := newSoftware(t, dir, testLogger(t)).Unseal(blob)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Unseal after restart = %x, %v", got, err)
	}
	fi, err := os.Stat(filepath.Join(dir, tpm.SoftwareKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
}

// TestSoftwareDestroyAcrossInstances: Destroy through one sealer leaves the
// blob unopenable through another on the same directory.
func TestSoftwareDestroyAcrossInstances(t *testing.T) {
	dir := t.TempDir()
	a, b := newSoftware(t, dir, testLogger(t)), newSoftware(t, dir, testLogger(t))
	blob, err := a.Seal(tpmtest.Secret(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Unseal(blob); err != nil {
		t.Fatalf("Unseal before Destroy: %v", err)
	}
	if err := a.Destroy(blob); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Unseal(blob); !errors.Is(err, tpm.ErrUnseal) {
		t.Fatalf("Unseal after Destroy elsewhere: %v, want ErrUnseal", err)
	}
}

// TestSoftwareKeyFileProblems: a damaged key file is refused and left as it
// is (never replaced, which would lose the key for good); a key file others
// can read is tightened; a deleted key file makes Unseal fail with ErrUnseal.
func TestSoftwareKeyFileProblems(t *testing.T) {
	t.Run("Damaged", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, tpm.SoftwareKeyFile)
		if err := os.WriteFile(path, []byte("short"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := tpm.NewSoftware(dir, testLogger(t)); err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("NewSoftware with a 5-byte key file: %v, want an error naming the file", err)
		}
		if b, _ := os.ReadFile(path); string(b) != "short" {
			t.Fatalf("damaged key file was changed to %q", b)
		}
	})
	t.Run("Readable", func(t *testing.T) {
		dir := t.TempDir()
		newSoftware(t, dir, testLogger(t))
		path := filepath.Join(dir, tpm.SoftwareKeyFile)
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		newSoftware(t, dir, testLogger(t))
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file mode %v after restart, want 0600", fi.Mode().Perm())
		}
	})
	t.Run("Deleted", func(t *testing.T) {
		dir := t.TempDir()
		s := newSoftware(t, dir, testLogger(t))
		blob, err := s.Seal(tpmtest.Secret(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(dir, tpm.SoftwareKeyFile)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Unseal(blob); !errors.Is(err, tpm.ErrUnseal) {
			t.Fatalf("Unseal without key file: %v, want ErrUnseal", err)
		}
	})
}

// TestSoftwareLockIsPerProcess: Lock stops Unseal in this sealer only; a
// restarted boxd (new sealer) unseals again, as after a reboot with a TPM.
func TestSoftwareLockIsPerProcess(t *testing.T) {
	dir := t.TempDir()
	s := newSoftware(t, dir, testLogger(t))
	secret := tpmtest.Secret(t)
	blob, err := s.Seal(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Lock(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Unseal(blob); !errors.Is(err, tpm.ErrUnseal) {
		t.Fatalf("Unseal after Lock: %v, want ErrUnseal", err)
	}
	got, err := newSoftware(t, dir, testLogger(t)).Unseal(blob)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Unseal after restart = %x, %v", got, err)
	}
}

func BenchmarkSoftwareUnseal(b *testing.B) {
	s, err := tpm.NewSoftware(b.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	blob, err := s.Seal(tpmtest.Secret(b))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.Unseal(blob); err != nil {
			b.Fatal(err)
		}
	}
}
