//go:build !linux

package tis

import (
	"errors"
	"fmt"
)

// TISBase is the fixed physical address of the PC TIS register window.
const TISBase = 0xFED40000

// MMIO exists only on Linux (/dev/mem).
type MMIO struct{}

// OpenMMIO is not supported off Linux.
func OpenMMIO(devMem string, base int64) (*MMIO, error) {
	return nil, fmt.Errorf("%w: /dev/mem access needs Linux", ErrNoDevice)
}

// Close implements io.Closer.
func (*MMIO) Close() error { return nil }

func (*MMIO) Read8(loc, off int) (uint8, error)   { return 0, errors.ErrUnsupported }
func (*MMIO) Read32(loc, off int) (uint32, error) { return 0, errors.ErrUnsupported }
func (*MMIO) Write8(loc, off int, v uint8) error  { return errors.ErrUnsupported }
func (*MMIO) Write32(loc, off int, v uint32) error {
	return errors.ErrUnsupported
}
