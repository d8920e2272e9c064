package tis

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spireg"
	"periph.io/x/host/v3"
)

// Options select and tune a backend for Open; zero fields take defaults.
type Options struct {
	Config

	// KernelDevice is the kernel's TPM resource manager. If it exists, a
	// kernel driver owns the TPM and Open refuses with ErrKernelDriver.
	KernelDevice string // default /dev/tpmrm0

	// MMIO.
	ACPITable string // default DefaultACPITable
	DevMem    string // default /dev/mem

	// SPI. The defaults fit an SLB9670 on the Pi's SPI0 CE1 (GPIO7). If the
	// kernel claims GPIO7 as a chip select (cs-gpios of dtparam=spi=on),
	// use dtoverlay=spi0-1cs with SPIPort "SPI0.0": the driver opens the
	// bus with NoCS and drives SPICS itself.
	SPIPort string // default "SPI0.1" (/dev/spidev0.1)
	SPICS   string // default "GPIO7"
	SPIHz   int64  // default 1 MHz; the SLB9670 allows up to 43 MHz
}

func (o *Options) defaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.KernelDevice, "/dev/tpmrm0")
	def(&o.ACPITable, DefaultACPITable)
	def(&o.DevMem, "/dev/mem")
	def(&o.SPIPort, "SPI0.1")
	def(&o.SPICS, "GPIO7")
	if o.SPIHz <= 0 {
		o.SPIHz = 1_000_000
	}
}

// Open finds a TIS TPM by mode: "mmio" (PC or qemu -device tpm-tis) or
// "spi" (Raspberry Pi). Errors say why nothing answered and wrap
// ErrNoDevice, ErrKernelDriver or ErrNotTIS.
func Open(mode string, o Options) (*TPM, error) {
	o.defaults()
	if _, err := os.Stat(o.KernelDevice); err == nil {
		return nil, fmt.Errorf("%w (%s exists)", ErrKernelDriver, o.KernelDevice)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("tis: check %s: %w", o.KernelDevice, err)
	}
	switch mode {
	case "mmio":
		return openMMIO(o)
	case "spi":
		return openSPI(o)
	}
	return nil, fmt.Errorf("tis: unknown mode %q, want mmio or spi", mode)
}

func openMMIO(o Options) (*TPM, error) {
	if _, err := CheckTIS(o.ACPITable); err != nil {
		return nil, err
	}
	m, err := OpenMMIO(o.DevMem, TISBase)
	if err != nil {
		return nil, err
	}
	t, err := New(m, m, o.Config)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("tis: mmio at %#x: %w", TISBase, err)
	}
	return t, nil
}

func openSPI(o Options) (*TPM, error) {
	if _, err := host.Init(); err != nil {
		return nil, fmt.Errorf("tis: periph host init: %w", err)
	}
	port, err := spireg.Open(o.SPIPort)
	if err != nil {
		return nil, fmt.Errorf("%w: SPI port %s: %v", ErrNoDevice, o.SPIPort, err)
	}
	closers := closeAll{port}
	fail := func(err error) (*TPM, error) {
		closers.Close()
		return nil, err
	}
	if node := spidevNode(o.SPIPort); node != "" {
		lock, err := lockDevice(node)
		if err != nil {
			return fail(err)
		}
		if lock != nil {
			closers = append(closers, lock)
		}
	}
	conn, err := port.Connect(physic.Frequency(o.SPIHz)*physic.Hertz, spi.Mode0|spi.NoCS, 8)
	if err != nil {
		return fail(fmt.Errorf("tis: SPI %s: connect without CS: %w", o.SPIPort, err))
	}
	cs := gpioreg.ByName(o.SPICS)
	if cs == nil {
		return fail(fmt.Errorf("%w: no GPIO %q for chip select", ErrNoDevice, o.SPICS))
	}
	if err := cs.Out(gpio.High); err != nil {
		return fail(fmt.Errorf("tis: chip select %s: %w", o.SPICS, err))
	}
	t, err := New(NewSPI(&periphBus{conn: conn, cs: cs}), closers, o.Config)
	if err != nil {
		return fail(fmt.Errorf("tis: SPI %s, CS %s: %w", o.SPIPort, o.SPICS, err))
	}
	return t, nil
}

// spidevNode maps a periph port name ("SPI0.1" or "/dev/spidev0.1") to its
// device node, for the owner lock.
func spidevNode(port string) string {
	if strings.HasPrefix(port, "/dev/") {
		return port
	}
	var bus, cs int
	if _, err := fmt.Sscanf(port, "SPI%d.%d", &bus, &cs); err != nil {
		return ""
	}
	return fmt.Sprintf("/dev/spidev%d.%d", bus, cs)
}

type closeAll []io.Closer

func (c closeAll) Close() error {
	var errs []error
	for i := len(c) - 1; i >= 0; i-- {
		errs = append(errs, c[i].Close())
	}
	return errors.Join(errs...)
}
