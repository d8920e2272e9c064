package tis

import (
	"fmt"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"
)

// periphBus is an SPIBus on a periph.io connection opened with spi.NoCS,
// with chip select driven as a GPIO (active low): the kernel's spidev
// would drop CS between transfers, but TIS flow control must keep it
// asserted while the host polls wait states.
type periphBus struct {
	conn    spi.Conn
	cs      gpio.PinOut
	scratch []byte
}

// Select implements SPIBus.
func (b *periphBus) Select(on bool) error {
	lvl := gpio.High
	if on {
		lvl = gpio.Low
	}
	if err := b.cs.Out(lvl); err != nil {
		return fmt.Errorf("chip select %s: %w", b.cs, err)
	}
	return nil
}

// Tx implements SPIBus.
func (b *periphBus) Tx(w, r []byte) error {
	if r == nil {
		if cap(b.scratch) < len(w) {
			b.scratch = make([]byte, len(w))
		}
		r = b.scratch[:len(w)]
	}
	return b.conn.Tx(w, r)
}
