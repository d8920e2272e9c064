package tpm_test

import (
	"log/slog"
	"testing"

	"github.com/google/go-tpm/tpm2/transport"

	"github.com/chatsecure/box/tpm"
	"github.com/chatsecure/box/tpm/tpmtest"
)

// testLogger sends the sealers' logs to the test log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

func newTPM2(t testing.TB, tp transport.TPM) *tpm.TPM2 {
	t.Helper()
	s, err := tpm.NewTPM2(tp, tpm.TPM2Options{LockPCR: 15, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("NewTPM2: %v", err)
	}
	return s
}

func TestTPM2Sealer(t *testing.T) {
	tpmtest.TestSealer(t, func(t *testing.T) tpm.Sealer {
		return newTPM2(t, tpmtest.Simulator(t))
	})
}

func TestSoftwareSealer(t *testing.T) {
	tpmtest.TestSealer(t, func(t *testing.T) tpm.Sealer {
		s, err := tpm.NewSoftware(t.TempDir(), testLogger(t))
		if err != nil {
			t.Fatalf("NewSoftware: %v", err)
		}
		return s
	})
}
