package tis

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// acpiTable builds a TPM2 table the way qemu does for -device tpm-tis:
// revision 4, start method 6, control area 0, with log area trailer.
func acpiTable(method uint32, control uint64) []byte {
	b := make([]byte, 76)
	copy(b, "TPM2")
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)))
	b[8] = 4
	copy(b[10:], "BOCHS ")
	copy(b[16:], "BXPC    ")
	binary.LittleEndian.PutUint64(b[40:], control)
	binary.LittleEndian.PutUint32(b[48:], method)
	binary.LittleEndian.PutUint32(b[64:], 0x10000)
	var sum byte
	for _, c := range b {
		sum += c
	}
	b[9] = -sum
	return b
}

func TestParseACPITable(t *testing.T) {
	got, err := ParseACPITable(acpiTable(6, 0))
	if err != nil {
		t.Fatal(err)
	}
	want := ACPITable{Revision: 4, OEMID: "BOCHS", StartMethod: 6}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	crb, err := ParseACPITable(acpiTable(7, 0xFED40040))
	if err != nil || crb.StartMethod != 7 || crb.ControlArea != 0xFED40040 {
		t.Errorf("CRB table: %+v, %v", crb, err)
	}

	bad := acpiTable(6, 0)
	bad[20]++
	for name, b := range map[string][]byte{
		"checksum":  bad,
		"short":     acpiTable(6, 0)[:51],
		"signature": append([]byte("APIC"), acpiTable(6, 0)[4:]...),
		"length":    append(acpiTable(6, 0)[:4], append([]byte{200, 0, 0, 0}, acpiTable(6, 0)[8:]...)...),
	} {
		if _, err := ParseACPITable(b); err == nil {
			t.Errorf("%s: bad table accepted", name)
		}
	}
}

func TestCheckTIS(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := CheckTIS(write("tis", acpiTable(6, 0))); err != nil {
		t.Errorf("TIS table: %v", err)
	}
	_, err := CheckTIS(write("crb", acpiTable(7, 0xFED40040)))
	if !errors.Is(err, ErrNotTIS) || !strings.Contains(err.Error(), "CRB") {
		t.Errorf("CRB table: %v, want ErrNotTIS naming CRB", err)
	}
	if _, err := CheckTIS(filepath.Join(dir, "absent")); !errors.Is(err, ErrNoDevice) {
		t.Errorf("no table: %v, want ErrNoDevice", err)
	}
}

func FuzzParseACPITable(f *testing.F) {
	f.Add(acpiTable(6, 0))
	f.Add(acpiTable(7, 0xFED40040))
	f.Add(acpiTable(6, 0)[:52])
	f.Fuzz(func(t *testing.T, b []byte) {
		tab, err := ParseACPITable(b)
		if err != nil {
			return
		}
		// Whatever parses is a well-formed TPM2 table whose fields come
		// from where the spec puts them.
		n := binary.LittleEndian.Uint32(b[4:8])
		if !bytes.HasPrefix(b, []byte("TPM2")) || n < 52 || int(n) > len(b) {
			t.Fatalf("accepted a table with signature %q length %d of %d bytes", b[:4], n, len(b))
		}
		if tab.StartMethod != binary.LittleEndian.Uint32(b[48:52]) || tab.Revision != b[8] {
			t.Fatalf("fields %+v do not match the bytes", tab)
		}
		_ = StartMethodName(tab.StartMethod)
	})
}
