package tis

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// DefaultACPITable is where Linux exposes the firmware's ACPI TPM2 table.
const DefaultACPITable = "/sys/firmware/acpi/tables/TPM2"

// StartMethodTIS is the TPM2 table's start method for the memory-mapped
// FIFO (TIS) interface at 0xFED40000; the other methods are CRB variants.
const StartMethodTIS = 6

// ACPITable is the part of the ACPI TPM2 table (TCG ACPI Specification)
// that says how to reach the TPM.
type ACPITable struct {
	Revision      uint8
	OEMID         string
	PlatformClass uint16 // 0 client, 1 server
	ControlArea   uint64 // CRB control area; 0 for TIS
	StartMethod   uint32
}

const acpiTPM2MinLen = 52 // 36-byte ACPI header + class, reserved, control area, start method

// ParseACPITable decodes a TPM2 table. It checks the signature, the
// length field and the checksum, so a truncated or foreign file fails.
func ParseACPITable(b []byte) (ACPITable, error) {
	if len(b) < acpiTPM2MinLen {
		return ACPITable{}, fmt.Errorf("tis: ACPI TPM2 table: %d bytes, want at least %d", len(b), acpiTPM2MinLen)
	}
	if string(b[0:4]) != "TPM2" {
		return ACPITable{}, fmt.Errorf("tis: ACPI TPM2 table: signature %q", b[0:4])
	}
	n := binary.LittleEndian.Uint32(b[4:8])
	if n < acpiTPM2MinLen || uint64(n) > uint64(len(b)) {
		return ACPITable{}, fmt.Errorf("tis: ACPI TPM2 table: length field %d, have %d bytes", n, len(b))
	}
	b = b[:n]
	var sum byte
	for _, c := range b {
		sum += c
	}
	if sum != 0 {
		return ACPITable{}, fmt.Errorf("tis: ACPI TPM2 table: checksum off by %#04x", sum)
	}
	return ACPITable{
		Revision:      b[8],
		OEMID:         string(trimNUL(b[10:16])),
		PlatformClass: binary.LittleEndian.Uint16(b[36:38]),
		ControlArea:   binary.LittleEndian.Uint64(b[40:48]),
		StartMethod:   binary.LittleEndian.Uint32(b[48:52]),
	}, nil
}

func trimNUL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == 0 || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}

// StartMethodName names a TPM2 table start method for error messages.
func StartMethodName(m uint32) string {
	switch m {
	case 2:
		return "ACPI start"
	case StartMethodTIS:
		return "TIS (memory-mapped FIFO)"
	case 7:
		return "CRB"
	case 8:
		return "CRB with ACPI start"
	case 11:
		return "CRB with Arm SMC"
	case 13:
		return "CRB with Pluton"
	case 15:
		return "CRB with Arm FF-A"
	}
	return fmt.Sprintf("reserved start method %d", m)
}

// CheckTIS reads the ACPI TPM2 table at path and reports whether firmware
// describes a TIS TPM. No table means no TPM 2.0 (ErrNoDevice); a CRB or
// other interface gives ErrNotTIS.
func CheckTIS(path string) (ACPITable, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ACPITable{}, fmt.Errorf("%w: no ACPI TPM2 table at %s, firmware advertises no TPM 2.0", ErrNoDevice, path)
	}
	if err != nil {
		return ACPITable{}, fmt.Errorf("tis: read ACPI TPM2 table: %w", err)
	}
	t, err := ParseACPITable(b)
	if err != nil {
		return ACPITable{}, err
	}
	if t.StartMethod != StartMethodTIS {
		return t, fmt.Errorf("%w: ACPI TPM2 start method %d is %s", ErrNotTIS, t.StartMethod, StartMethodName(t.StartMethod))
	}
	return t, nil
}
