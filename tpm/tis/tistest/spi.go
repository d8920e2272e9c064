package tistest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
)

// SPIDevice is a byte-level model of a TIS SPI TPM (an SLB9670) on a bus
// whose chip select the host drives itself. It implements tis.SPIBus and
// turns frames into register accesses on a Model:
//
//	header: [R/W | size-1] [0xD4] [locality<<4 | off>>8] [off]
//
// During the last header byte the TPM drives MISO bit 0: 0 inserts a wait
// state, and the host clocks single bytes (CS held) until one ends in 1;
// data follows in the next byte. Header bytes 0..2 read 0xFF so a host that
// looks at the wrong byte misses the wait.
type SPIDevice struct {
	mu   sync.Mutex
	regs *Model

	// WaitStates is the number of wait-state bytes inserted after each
	// header; WaitForever holds MISO low for good (a TPM that never answers).
	WaitStates  int
	WaitForever bool

	selected  bool
	hdr       []byte
	inWait    bool
	waitLeft  int
	inData    bool
	done      bool // the frame's data phase is complete
	read      bool
	size      int
	loc, off  int
	rdata     []byte
	wdata     []byte
	frames    int
	waitPolls int
	bad       []string
}

// NewSPIDevice puts an SPI front end on m.
func NewSPIDevice(m *Model) *SPIDevice { return &SPIDevice{regs: m} }

// Frames is the number of complete frames seen.
func (d *SPIDevice) Frames() int { d.mu.Lock(); defer d.mu.Unlock(); return d.frames }

// WaitPolls is the number of wait-state bytes clocked.
func (d *SPIDevice) WaitPolls() int { d.mu.Lock(); defer d.mu.Unlock(); return d.waitPolls }

// Violations lists framing errors by the host.
func (d *SPIDevice) Violations() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.bad...)
}

// Select implements tis.SPIBus: true asserts CS (low), false releases it.
func (d *SPIDevice) Select(on bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if on == d.selected {
		d.bad = append(d.bad, fmt.Sprintf("CS set to %v twice", on))
	}
	if !on && d.selected && len(d.hdr) > 0 && !d.done {
		d.bad = append(d.bad, fmt.Sprintf("CS released mid-frame (header % x)", d.hdr))
	}
	d.selected = on
	d.hdr, d.inWait, d.inData, d.done, d.rdata, d.wdata = nil, false, false, false, nil, nil
	return nil
}

// Tx implements tis.SPIBus: a full-duplex transfer with CS asserted.
func (d *SPIDevice) Tx(w, r []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.selected {
		return errors.New("tistest: SPI transfer without chip select")
	}
	if r != nil && len(r) != len(w) {
		return fmt.Errorf("tistest: SPI transfer with %d bytes out, %d in", len(w), len(r))
	}
	for i, b := range w {
		out, err := d.clock(b)
		if err != nil {
			return err
		}
		if r != nil {
			r[i] = out
		}
	}
	return nil
}

func (d *SPIDevice) clock(b byte) (byte, error) {
	switch {
	case d.inWait:
		d.waitPolls++
		if d.WaitForever {
			return 0x00, nil
		}
		d.waitLeft--
		if d.waitLeft > 0 {
			return 0x00, nil
		}
		d.inWait = false
		return 0x01, d.startData()
	case d.inData:
		return d.data(b)
	}
	if d.done {
		d.bad = append(d.bad, "byte clocked after the frame ended, CS still asserted")
		return 0xFF, nil
	}
	d.hdr = append(d.hdr, b)
	if len(d.hdr) < 4 {
		return 0xFF, nil
	}
	h := d.hdr
	d.read = h[0]&0x80 != 0
	d.size = int(h[0]&0x3F) + 1
	if h[0]&0x40 != 0 || h[1] != 0xD4 {
		d.bad = append(d.bad, fmt.Sprintf("bad header % x", h))
	}
	d.loc = int(h[2] >> 4)
	d.off = int(h[2]&0x0F)<<8 | int(h[3])
	if d.WaitForever || d.WaitStates > 0 {
		d.inWait = true
		d.waitLeft = d.WaitStates
		return 0x00, nil
	}
	return 0x01, d.startData()
}

func (d *SPIDevice) startData() error {
	d.inData = true
	if !d.read {
		return nil
	}
	// The TPM fetches register contents as the data phase starts.
	switch {
	case d.off == offFIFO:
		for range d.size {
			v, err := d.regs.Read8(d.loc, d.off)
			if err != nil {
				return err
			}
			d.rdata = append(d.rdata, v)
		}
	case d.size == 4 && d.off%4 == 0:
		v, err := d.regs.Read32(d.loc, d.off)
		if err != nil {
			return err
		}
		d.rdata = binary.LittleEndian.AppendUint32(nil, v)
	default:
		for i := range d.size {
			v, err := d.regs.Read8(d.loc, d.off+i)
			if err != nil {
				return err
			}
			d.rdata = append(d.rdata, v)
		}
	}
	return nil
}

func (d *SPIDevice) data(b byte) (byte, error) {
	if d.read {
		if len(d.rdata) == 0 {
			d.bad = append(d.bad, "byte clocked beyond the frame size")
			return 0xFF, nil
		}
		out := d.rdata[0]
		d.rdata = d.rdata[1:]
		if len(d.rdata) == 0 {
			d.frames++
			d.size = 0
			d.done = true
		}
		return out, nil
	}
	if d.size == 0 {
		d.bad = append(d.bad, "byte clocked beyond the frame size")
		return 0xFF, nil
	}
	d.wdata = append(d.wdata, b)
	if len(d.wdata) < d.size {
		return 0x00, nil
	}
	w := d.wdata
	d.wdata, d.size = nil, 0
	d.frames++
	d.done = true
	return 0x00, d.applyWrite(w)
}

func (d *SPIDevice) applyWrite(w []byte) error {
	switch {
	case d.off == offFIFO:
		for _, b := range w {
			if err := d.regs.Write8(d.loc, d.off, b); err != nil {
				return err
			}
		}
		return nil
	case len(w) == 4 && d.off%4 == 0:
		return d.regs.Write32(d.loc, d.off, binary.LittleEndian.Uint32(w))
	}
	for i, b := range w {
		if err := d.regs.Write8(d.loc, d.off+i, b); err != nil {
			return err
		}
	}
	return nil
}
