package tistest

import (
	"fmt"

	"github.com/google/go-tpm-tools/simulator"
)

// NewSimulated returns a model in front of the go-tpm-tools simulator (the
// Microsoft reference TPM, already started). Only one simulator exists per
// process: a second NewSimulated blocks until the first model is Closed.
func NewSimulated(k Knobs) (*Model, error) {
	sim, err := simulator.Get()
	if err != nil {
		return nil, fmt.Errorf("tistest: start simulator: %w", err)
	}
	buf := make([]byte, 8192)
	m := NewModel(k, func(cmd []byte) ([]byte, error) {
		if _, err := sim.Write(cmd); err != nil {
			return nil, fmt.Errorf("tistest: simulator: %w", err)
		}
		n, err := sim.Read(buf)
		if err != nil {
			return nil, fmt.Errorf("tistest: simulator: %w", err)
		}
		return append([]byte(nil), buf[:n]...), nil
	})
	m.closeFn = sim.Close
	return m, nil
}
