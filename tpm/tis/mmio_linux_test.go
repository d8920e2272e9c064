package tis

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// A regular file stands in for /dev/mem: the mapping, offsets, widths and
// the owner lock behave the same; only the device side effects are absent.
func TestMMIOAddressingAndLock(t *testing.T) {
	const base = 0x3000
	path := filepath.Join(t.TempDir(), "mem")
	if err := os.WriteFile(path, make([]byte, base+numLocality*localitySize), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := OpenMMIO(path, base)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Write32(2, regDIDVID, 0x001B15D1); err != nil {
		t.Fatal(err)
	}
	if err := m.Write8(4, regSts, stsReady); err != nil {
		t.Fatal(err)
	}
	if v, err := m.Read32(2, regDIDVID); err != nil || v != 0x001B15D1 {
		t.Errorf("Read32 = %#x, %v", v, err)
	}
	if v, err := m.Read8(2, regDIDVID+2); err != nil || v != 0x1B {
		t.Errorf("Read8 of DID low byte = %#x, %v", v, err)
	}
	for _, bad := range [][2]int{{5, 0}, {0, localitySize}, {0, regSts + 1}} {
		if _, err := m.Read32(bad[0], bad[1]); err == nil {
			t.Errorf("Read32(%d, %#x) accepted", bad[0], bad[1])
		}
	}

	if _, err := OpenMMIO(path, base); err == nil {
		t.Error("second owner got the TIS window")
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := binary.LittleEndian.Uint32(b[base+2*localitySize+regDIDVID:]); got != 0x001B15D1 {
		t.Errorf("locality 2 DID_VID in file = %#x", got)
	}
	if got := b[base+4*localitySize+regSts]; got != stsReady {
		t.Errorf("locality 4 STS in file = %#x", got)
	}
	m2, err := OpenMMIO(path, base)
	if err != nil {
		t.Fatalf("reopen after Close: %v", err)
	}
	m2.Close()
}

func TestMMIONoDevMem(t *testing.T) {
	_, err := OpenMMIO(filepath.Join(t.TempDir(), "absent"), TISBase)
	if !errors.Is(err, ErrNoDevice) {
		t.Errorf("missing /dev/mem: %v, want ErrNoDevice", err)
	}
}
