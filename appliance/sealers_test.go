package appliance

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatsecure/box/tpm"
	"github.com/chatsecure/box/tpm/tpmtest"
)

// A sealerKind makes the sealer a boxd process would get at each start
// (boot). The appliance's key journeys run against every kind, like the
// shared suite in tpmtest does for the sealers themselves.
type sealerKind struct {
	name string
	// setup returns the per-boot constructor and a "new TPM" swap.
	setup func(t *testing.T, dir string) (boot func() tpm.Sealer, replaceTPM func())
}

var sealerKinds = []sealerKind{
	{"fake", func(t *testing.T, dir string) (func() tpm.Sealer, func()) {
		s := newFakeSealer()
		return func() tpm.Sealer { return s }, func() { s = newFakeSealer() }
	}},
	{"software", func(t *testing.T, dir string) (func() tpm.Sealer, func()) {
		keyDir := filepath.Join(dir, dirSoftKey)
		boot := func() tpm.Sealer {
			s, err := tpm.NewSoftware(keyDir, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		replace := func() {
			// Another machine's sealer: a fresh key directory.
			keyDir = filepath.Join(t.TempDir(), "other")
		}
		return boot, replace
	}},
	{"tpm2-simulator", func(t *testing.T, dir string) (func() tpm.Sealer, func()) {
		sim := tpmtest.NewSim(t)
		first := true
		boot := func() tpm.Sealer {
			if !first {
				// A new boxd process means a new boot: PCRs reset.
				if err := sim.Reboot(); err != nil {
					t.Fatal(err)
				}
			}
			first = false
			s, err := tpm.NewTPM2(sim, tpm.TPM2Options{LockPCR: 15, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		replace := func() {
			if err := sim.Clear(); err != nil {
				t.Fatal(err)
			}
		}
		return boot, replace
	}},
}

// TestKeyJourneysOnEverySealer: first start, restart without a prompt, TPM
// replaced → locked → recovery unlock re-seals → restart without a prompt.
func TestKeyJourneysOnEverySealer(t *testing.T) {
	for _, kind := range sealerKinds {
		t.Run(kind.name, func(t *testing.T) {
			dir := t.TempDir()
			boot, replace := kind.setup(t, dir)
			b := start(t, dir, boot(), nil)
			first := b.status()
			if first.State != "unclaimed" {
				t.Fatalf("first start: %+v", first)
			}
			code, err := b.sys.PendingRecoveryCode(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			b.stop()

			b = start(t, dir, boot(), nil)
			if st := b.status(); st.State != "unclaimed" || st.SetupCode != first.SetupCode {
				t.Fatalf("restart: %+v", st)
			}
			b.stop()

			replace()
			b = start(t, dir, boot(), nil)
			if st := b.status(); st.State != "locked" {
				t.Fatalf("after TPM replaced: %+v", st)
			}
			if err := b.sys.Unlock(context.Background(), code); err != nil {
				t.Fatalf("unlock: %v", err)
			}
			if st := b.status(); st.State != "unclaimed" || st.SetupCode != first.SetupCode {
				t.Fatalf("after unlock: %+v", st)
			}
			b.stop()

			b = start(t, dir, boot(), nil)
			if st := b.status(); st.State != "unclaimed" {
				t.Fatalf("restart after re-seal: %+v", st)
			}
			// Factory reset on this boot (after Lock), then the next
			// boot must open the new key without a code.
			if err := b.sys.FactoryReset(context.Background(), "test", "local"); err != nil {
				t.Fatal(err)
			}
			reset := b.status()
			b.stop()
			b = start(t, dir, boot(), nil)
			if st := b.status(); st.State != "unclaimed" || st.SetupCode != reset.SetupCode {
				t.Fatalf("boot after factory reset: %+v (reset gave %+v)", st, reset)
			}
		})
	}
}

// TestRestartOnSameBootSaysReboot: gokrazy restarts a crashed boxd without a
// reboot; the lock PCR is then extended, and the box must say "reboot", not
// claim the TPM was replaced.
func TestRestartOnSameBootSaysReboot(t *testing.T) {
	dir := t.TempDir()
	sim := tpmtest.NewSim(t)
	newSealer := func() tpm.Sealer {
		s, err := tpm.NewTPM2(sim, tpm.TPM2Options{LockPCR: 15, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	b := start(t, dir, newSealer(), nil)
	b.stop()
	b = start(t, dir, newSealer(), nil) // no sim.Reboot(): same boot
	st := b.status()
	if st.State != "locked" || !strings.Contains(st.Reason, "reboot the box") {
		t.Fatalf("same-boot restart: %+v", st)
	}
	b.stop()
	if err := sim.Reboot(); err != nil {
		t.Fatal(err)
	}
	b = start(t, dir, newSealer(), nil)
	if st := b.status(); st.State != "unclaimed" {
		t.Fatalf("after reboot: %+v", st)
	}
}
