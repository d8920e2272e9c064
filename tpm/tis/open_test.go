package tis

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenSaysWhyNothingAnswers(t *testing.T) {
	dir := t.TempDir()
	file := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	absent := filepath.Join(dir, "absent")
	// A sparse stand-in for /dev/mem whose TIS window reads zero, like a
	// PC whose firmware lists a TPM that is not there.
	mem := filepath.Join(dir, "mem")
	f, err := os.Create(mem)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(TISBase + numLocality*localitySize); err != nil {
		t.Fatal(err)
	}
	f.Close()

	for _, tc := range []struct {
		name string
		mode string
		o    Options
		want error
		say  string
	}{
		{"unknown mode", "crb", Options{KernelDevice: absent}, nil, `unknown mode "crb"`},
		{"kernel driver", "mmio", Options{KernelDevice: file("tpmrm0", nil)}, ErrKernelDriver, "/dev/tpmrm0"},
		{"no ACPI table", "mmio", Options{KernelDevice: absent, ACPITable: absent}, ErrNoDevice, "no ACPI TPM2 table"},
		{"CRB firmware TPM", "mmio", Options{KernelDevice: absent, ACPITable: file("crb", acpiTable(7, 0xFED40040))}, ErrNotTIS, "CRB"},
		{"no /dev/mem", "mmio", Options{KernelDevice: absent, ACPITable: file("tis", acpiTable(6, 0)), DevMem: absent}, ErrNoDevice, "CONFIG_DEVMEM"},
		{"TIS window reads zero", "mmio", Options{KernelDevice: absent, ACPITable: file("tis2", acpiTable(6, 0)), DevMem: mem}, ErrNoDevice, "DID_VID reads 0x00000000"},
		{"no SPI port", "spi", Options{KernelDevice: absent, SPIPort: "SPI9.9"}, ErrNoDevice, "SPI port SPI9.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tpm, err := Open(tc.mode, tc.o)
			if err == nil {
				tpm.Close()
				t.Fatal("Open succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.say) {
				t.Errorf("error %q does not say %q", err, tc.say)
			}
		})
	}
}
