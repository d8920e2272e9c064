package tpmtest

import (
	"sync"
	"testing"

	"github.com/google/go-tpm-tools/simulator"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/google/go-tpm/tpmutil"
)

// Sim is a started TPM 2.0 simulator. There is only one simulator per
// process: a second NewSim blocks until the first is closed, so tests that
// use it must not run in parallel.
type Sim struct {
	mu  sync.Mutex
	sim *simulator.Simulator
}

// Simulator opens a freshly manufactured, started simulator and closes it
// when the test ends.
func Simulator(t testing.TB) transport.TPMCloser {
	t.Helper()
	return NewSim(t)
}

// NewSim is Simulator with the simulator's power controls (Reboot, Clear).
func NewSim(t testing.TB) *Sim {
	t.Helper()
	sim, err := simulator.Get()
	if err != nil {
		t.Fatalf("tpmtest: start simulator: %v", err)
	}
	s := &Sim{sim: sim}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("tpmtest: close simulator: %v", err)
		}
	})
	return s
}

// Send implements transport.TPM.
func (s *Sim) Send(cmd []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sim == nil {
		return nil, simulator.ErrUsingClosedSimulator
	}
	return tpmutil.RunCommandRaw(s.sim, cmd)
}

// Close stops the simulator; closing twice is fine.
func (s *Sim) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sim == nil {
		return nil
	}
	err := s.sim.Close()
	s.sim = nil
	return err
}

// Reboot power-cycles the TPM (Shutdown, Startup(CLEAR)): PCRs return to
// their boot values; persistent objects stay.
func (s *Sim) Reboot() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sim == nil {
		return simulator.ErrUsingClosedSimulator
	}
	return s.sim.Reset()
}

// Clear wipes the TPM as if it were replaced: new seeds, no persistent
// objects.
func (s *Sim) Clear() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sim == nil {
		return simulator.ErrUsingClosedSimulator
	}
	return s.sim.ManufactureReset()
}
