package tis

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TISBase is the fixed physical address of the PC TIS register window.
const TISBase = 0xFED40000

// MMIO is the register backend for a memory-mapped TIS TPM, through a
// MAP_SHARED mapping of /dev/mem. Only the mapping works there: pread and
// pwrite on /dev/mem return EFAULT for the TPM's range.
type MMIO struct {
	f   *os.File
	mem []byte
}

// OpenMMIO maps the five-locality TIS window at base from devMem (normally
// /dev/mem at TISBase) and takes an exclusive lock on it, so that a second
// process of ours fails instead of interleaving commands.
func OpenMMIO(devMem string, base int64) (*MMIO, error) {
	f, err := os.OpenFile(devMem, os.O_RDWR|os.O_SYNC, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%w: no %s (kernel without CONFIG_DEVMEM)", ErrNoDevice, devMem)
	case err != nil:
		return nil, fmt.Errorf("tis: open %s (needs root/CAP_SYS_RAWIO): %w", devMem, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("tis: %s is locked by another process driving the TPM: %w", devMem, err)
	}
	mem, err := unix.Mmap(int(f.Fd()), base, numLocality*localitySize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		f.Close()
		if errors.Is(err, unix.EPERM) {
			// STRICT_DEVMEM refuses ranges a driver has claimed.
			return nil, fmt.Errorf("%w: mmap of %s at %#x: %v", ErrKernelDriver, devMem, base, err)
		}
		return nil, fmt.Errorf("tis: mmap %s at %#x: %w", devMem, base, err)
	}
	return &MMIO{f: f, mem: mem}, nil
}

// Close unmaps the window and drops the lock.
func (m *MMIO) Close() error {
	err := unix.Munmap(m.mem)
	if cerr := m.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("tis: close mmio: %w", err)
	}
	return nil
}

func (m *MMIO) addr(loc, off, width int) (unsafe.Pointer, error) {
	if loc < 0 || loc >= numLocality || off < 0 || off+width > localitySize || off%width != 0 {
		return nil, fmt.Errorf("tis: mmio: bad %d-byte access at locality %d offset %#x", width, loc, off)
	}
	return unsafe.Pointer(&m.mem[loc*localitySize+off]), nil
}

// Read8 implements Regs.
func (m *MMIO) Read8(loc, off int) (uint8, error) {
	p, err := m.addr(loc, off, 1)
	if err != nil {
		return 0, err
	}
	return load8((*uint8)(p)), nil
}

// Read32 implements Regs.
func (m *MMIO) Read32(loc, off int) (uint32, error) {
	p, err := m.addr(loc, off, 4)
	if err != nil {
		return 0, err
	}
	return atomic.LoadUint32((*uint32)(p)), nil
}

// Write8 implements Regs.
func (m *MMIO) Write8(loc, off int, v uint8) error {
	p, err := m.addr(loc, off, 1)
	if err != nil {
		return err
	}
	store8((*uint8)(p), v)
	return nil
}

// Write32 implements Regs.
func (m *MMIO) Write32(loc, off int, v uint32) error {
	p, err := m.addr(loc, off, 4)
	if err != nil {
		return err
	}
	store32((*uint32)(p), v)
	return nil
}

// Device registers need one load or store of exactly the register's width,
// every time it is called. Go has no volatile: these are kept out of line
// so the compiler cannot merge, hoist or drop them, and each compiles to a
// single MOVB/MOVL (amd64) or LDRB/STRB/STRW (arm64). 32-bit loads use
// sync/atomic, a plain aligned MOVL on amd64. Stores avoid atomic.Store,
// which is XCHG on amd64: a locked read-modify-write.

//go:noinline
func load8(p *uint8) uint8 { return *p }

//go:noinline
func store8(p *uint8, v uint8) { *p = v }

//go:noinline
func store32(p *uint32, v uint32) { *p = v }
