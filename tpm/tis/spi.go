package tis

import (
	"encoding/binary"
	"fmt"
)

// SPIBus is an SPI bus whose chip select the driver controls, because TIS
// flow control needs CS held while it decides, byte by byte, whether the
// TPM is still inserting wait states.
type SPIBus interface {
	Select(on bool) error // true: assert CS (drive it low)
	Tx(w, r []byte) error // full duplex, len(r) == len(w) or r == nil
}

const (
	spiMaxFrame = 64  // TIS SPI transfers carry 1..64 data bytes
	spiMaxWait  = 100 // wait-state bytes before giving up (Linux: 50)
)

// SPI is the TIS SPI register backend: each register access is one frame
// of the access's width, DATA_FIFO bursts are frames of up to 64 bytes.
type SPI struct {
	bus SPIBus
}

// NewSPI returns register access over bus.
func NewSPI(bus SPIBus) *SPI { return &SPI{bus: bus} }

// Read8 implements Regs.
func (s *SPI) Read8(loc, off int) (uint8, error) {
	var b [1]byte
	err := s.frame(true, loc, off, b[:])
	return b[0], err
}

// Read32 implements Regs; registers are little-endian on the wire.
func (s *SPI) Read32(loc, off int) (uint32, error) {
	var b [4]byte
	err := s.frame(true, loc, off, b[:])
	return binary.LittleEndian.Uint32(b[:]), err
}

// Write8 implements Regs.
func (s *SPI) Write8(loc, off int, v uint8) error {
	return s.frame(false, loc, off, []byte{v})
}

// Write32 implements Regs.
func (s *SPI) Write32(loc, off int, v uint32) error {
	return s.frame(false, loc, off, binary.LittleEndian.AppendUint32(nil, v))
}

// ReadFIFO implements FIFOBurster.
func (s *SPI) ReadFIFO(loc int, p []byte) error {
	for len(p) > 0 {
		n := min(len(p), spiMaxFrame)
		if err := s.frame(true, loc, regFIFO, p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// WriteFIFO implements FIFOBurster.
func (s *SPI) WriteFIFO(loc int, p []byte) error {
	for len(p) > 0 {
		n := min(len(p), spiMaxFrame)
		if err := s.frame(false, loc, regFIFO, p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// frame runs one transaction: header, wait states, data; CS held throughout.
func (s *SPI) frame(read bool, loc, off int, p []byte) (err error) {
	if len(p) < 1 || len(p) > spiMaxFrame {
		return fmt.Errorf("tis: spi: frame of %d bytes", len(p))
	}
	if loc < 0 || loc >= numLocality || off < 0 || off >= localitySize {
		return fmt.Errorf("tis: spi: address outside the TIS window: locality %d offset %#x", loc, off)
	}
	hdr := []byte{byte(len(p) - 1), 0xD4, byte(loc<<4 | off>>8), byte(off)}
	if read {
		hdr[0] |= 0x80
	}
	if err := s.bus.Select(true); err != nil {
		return fmt.Errorf("tis: spi: assert CS: %w", err)
	}
	defer func() {
		if e := s.bus.Select(false); e != nil && err == nil {
			err = fmt.Errorf("tis: spi: release CS: %w", e)
		}
	}()
	var in [4]byte
	if err := s.bus.Tx(hdr, in[:]); err != nil {
		return fmt.Errorf("tis: spi: header: %w", err)
	}
	// MISO bit 0 of the last header byte low: the TPM inserts wait states
	// until a byte ends in 1; data starts with the next byte.
	if in[3]&1 == 0 {
		if err := s.waitStates(); err != nil {
			return err
		}
	}
	if read {
		clear(p)
		if err := s.bus.Tx(p, p); err != nil {
			return fmt.Errorf("tis: spi: read %d bytes at %#x: %w", len(p), off, err)
		}
		return nil
	}
	if err := s.bus.Tx(p, nil); err != nil {
		return fmt.Errorf("tis: spi: write %d bytes at %#x: %w", len(p), off, err)
	}
	return nil
}

func (s *SPI) waitStates() error {
	var b [1]byte
	for range spiMaxWait {
		b[0] = 0
		if err := s.bus.Tx(b[:], b[:]); err != nil {
			return fmt.Errorf("tis: spi: wait state: %w", err)
		}
		if b[0]&1 != 0 {
			return nil
		}
	}
	return fmt.Errorf("%w: spi: TPM held flow control for %d wait states", ErrNoDevice, spiMaxWait)
}
