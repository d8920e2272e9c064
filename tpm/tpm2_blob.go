package tpm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// tpm2Blob is what the TPM 2.0 sealer hands out as the "sealed blob". It holds
// no key material at all: the sealed object lives only inside the TPM, at a
// persistent handle, so evicting that handle is a real crypto-erase (see
// tpm2.go). The blob only says where the object is and which object and SRK
// it must be, so that a different object at the same handle, or a different
// (cleared or replaced) TPM, is refused instead of being trusted.
//
// Wire format, version 1, big endian, no trailing bytes:
//
//	"CSBT" | version=1 | pcr (1 byte) | handle (4) | u16 len | SRK name | u16 len | object name
type tpm2Blob struct {
	pcr     uint8
	handle  uint32
	srkName []byte
	objName []byte
}

const (
	tpm2BlobMagic   = "CSBT"
	tpm2BlobVersion = 1
	// A SHA-256 TPM2B_NAME: the 2-byte algorithm id (TPM_ALG_SHA256 = 0x000B)
	// and the 32-byte digest. The sealer only ever makes SHA-256 names, so
	// anything else is damage.
	nameSize = 2 + 32
	// Owner persistent handles: TPM 2.0 Part 2, 7.5.
	ownerPersistentFirst = 0x81000000
	ownerPersistentLast  = 0x817FFFFF
	maxPCR               = 23
)

var errBlob = errors.New("malformed sealed blob")

func (b *tpm2Blob) marshal() []byte {
	var buf bytes.Buffer
	buf.WriteString(tpm2BlobMagic)
	buf.WriteByte(tpm2BlobVersion)
	buf.WriteByte(b.pcr)
	binary.Write(&buf, binary.BigEndian, b.handle)
	binary.Write(&buf, binary.BigEndian, uint16(len(b.srkName)))
	buf.Write(b.srkName)
	binary.Write(&buf, binary.BigEndian, uint16(len(b.objName)))
	buf.Write(b.objName)
	return buf.Bytes()
}

// unmarshalTPM2Blob decodes a blob strictly: every field is checked, so a
// damaged blob fails here with errBlob rather than later in the TPM.
func unmarshalTPM2Blob(data []byte) (*tpm2Blob, error) {
	r := bytes.NewReader(data)
	hdr := make([]byte, len(tpm2BlobMagic)+1)
	if _, err := r.Read(hdr); err != nil || len(data) < len(hdr) {
		return nil, fmt.Errorf("%w: too short (%d bytes)", errBlob, len(data))
	}
	if string(hdr[:4]) != tpm2BlobMagic {
		return nil, fmt.Errorf("%w: not a TPM 2.0 sealed blob", errBlob)
	}
	if hdr[4] != tpm2BlobVersion {
		return nil, fmt.Errorf("%w: unknown version %d", errBlob, hdr[4])
	}
	var b tpm2Blob
	var err error
	if b.pcr, err = r.ReadByte(); err != nil {
		return nil, fmt.Errorf("%w: truncated at PCR", errBlob)
	}
	if b.pcr > maxPCR {
		return nil, fmt.Errorf("%w: PCR %d out of range", errBlob, b.pcr)
	}
	if err := binary.Read(r, binary.BigEndian, &b.handle); err != nil {
		return nil, fmt.Errorf("%w: truncated at handle", errBlob)
	}
	if b.handle < ownerPersistentFirst || b.handle > ownerPersistentLast {
		return nil, fmt.Errorf("%w: handle 0x%08x is not an owner persistent handle", errBlob, b.handle)
	}
	if b.srkName, err = readName(r); err != nil {
		return nil, fmt.Errorf("%w: SRK name: %w", errBlob, err)
	}
	if b.objName, err = readName(r); err != nil {
		return nil, fmt.Errorf("%w: object name: %w", errBlob, err)
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errBlob, r.Len())
	}
	return &b, nil
}

func readName(r *bytes.Reader) ([]byte, error) {
	var n uint16
	if err := binary.Read(r, binary.BigEndian, &n); err != nil {
		return nil, errors.New("truncated length")
	}
	if n != nameSize {
		return nil, fmt.Errorf("length %d, want %d", n, nameSize)
	}
	name := make([]byte, n)
	if k, _ := r.Read(name); k != int(n) {
		return nil, errors.New("truncated")
	}
	if name[0] != 0x00 || name[1] != 0x0B {
		return nil, fmt.Errorf("hash algorithm 0x%02x%02x, want SHA-256", name[0], name[1])
	}
	return name, nil
}
