package tis_test

import (
	"testing"

	"github.com/google/go-tpm-tools/simulator"
	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"

	"github.com/chatsecure/box/tpm/tis"
	"github.com/chatsecure/box/tpm/tis/tistest"
)

func benchGetRandom(b *testing.B, tpm transport.TPM) {
	for b.Loop() {
		if _, err := (tpm2.GetRandom{BytesRequested: 32}).Execute(tpm); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetRandom compares the simulator alone with the same simulator
// behind the TIS register model, reached directly (MMIO-like) and over the
// SPI byte model with one wait state per frame.
func BenchmarkGetRandom(b *testing.B) {
	b.Run("simulator", func(b *testing.B) {
		sim, err := simulator.Get()
		if err != nil {
			b.Fatal(err)
		}
		defer sim.Close()
		benchGetRandom(b, transport.FromReadWriter(sim))
	})
	b.Run("tis", func(b *testing.B) {
		r := newRig(b, tistest.Knobs{}, -1)
		benchGetRandom(b, r.tpm)
		accesses := 0
		for _, n := range r.model.Stats() {
			accesses += n
		}
		b.ReportMetric(float64(accesses)/float64(b.N), "regaccess/op")
	})
	b.Run("tis-spi", func(b *testing.B) {
		r := newRig(b, tistest.Knobs{}, 1)
		benchGetRandom(b, r.tpm)
		b.ReportMetric(float64(r.spi.Frames())/float64(b.N), "frames/op")
	})
}

// BenchmarkRoundTrip measures the driver and register model alone: the
// backend answers every command with a fixed 42-byte response.
func BenchmarkRoundTrip(b *testing.B) {
	resp := make([]byte, 42)
	copy(resp, []byte{0x80, 0x01, 0, 0, 0, 42, 0, 0, 0, 0, 0, 32})
	cmd := []byte{0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7b, 0, 32}
	for _, tc := range []struct {
		name  string
		k     tistest.Knobs
		spi   bool
		burst int
	}{
		{"regs", tistest.Knobs{}, false, 0},
		{"regs-burst4", tistest.Knobs{Burst: 4}, false, 0},
		{"spi", tistest.Knobs{}, true, 0},
	} {
		b.Run(tc.name, func(b *testing.B) {
			m := tistest.NewModel(tc.k, func([]byte) ([]byte, error) { return resp, nil })
			var regs tis.Regs = m
			var dev *tistest.SPIDevice
			if tc.spi {
				dev = tistest.NewSPIDevice(m)
				regs = tis.NewSPI(dev)
			}
			tpm, err := tis.New(regs, nil, tis.Config{Clock: tistest.NewClock()})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := tpm.Send(cmd); err != nil {
					b.Fatal(err)
				}
			}
			if v := m.Violations(); len(v) > 0 {
				b.Fatal(v)
			}
			accesses := 0
			for _, n := range m.Stats() {
				accesses += n
			}
			b.ReportMetric(float64(accesses)/float64(b.N), "regaccess/op")
		})
	}
}
