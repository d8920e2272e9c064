package bundle

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Magic starts every bundle.
const Magic = "CSBOXUPD"

// Format is the layout version this package reads and writes.
const Format = 1

// Bounds on the sections, checked from the header before reading.
const (
	HeaderSize        = 32
	MaxManifestSize   = 64 << 10
	SigRecordSize     = 8 + 64
	MaxSignaturesSize = 16 * SigRecordSize
	MaxRotationsSize  = 256 << 10
	MaxPayloadSize    = 16 << 30
)

// Errors a parse can end in; each is wrapped with detail.
var (
	ErrNotBundle        = errors.New("not a .boxupdate bundle")
	ErrFormat           = errors.New("unsupported bundle format")
	ErrManifestTooLarge = errors.New("manifest too large")
	ErrTruncated        = errors.New("bundle truncated")
	ErrTrailing         = errors.New("trailing data after payloads")
	ErrMalformed        = errors.New("malformed bundle")
)

// A Header is the fixed first 32 bytes.
type Header struct {
	Format       uint16
	ManifestLen  uint32
	SigsLen      uint32
	RotationsLen uint32
	PayloadLen   uint64
}

// Size is the file size the header promises.
func (h Header) Size() int64 {
	return HeaderSize + int64(h.ManifestLen) + int64(h.SigsLen) + int64(h.RotationsLen) + int64(h.PayloadLen)
}

// PayloadOffset is where the first payload starts.
func (h Header) PayloadOffset() int64 {
	return HeaderSize + int64(h.ManifestLen) + int64(h.SigsLen) + int64(h.RotationsLen)
}

// ParseHeader checks the magic, the format and every bound.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, fmt.Errorf("bundle: header: %w: %d bytes, want %d", ErrTruncated, len(b), HeaderSize)
	}
	if string(b[:8]) != Magic {
		return Header{}, fmt.Errorf("bundle: %w: bad magic", ErrNotBundle)
	}
	h := Header{
		Format:       binary.BigEndian.Uint16(b[8:]),
		ManifestLen:  binary.BigEndian.Uint32(b[12:]),
		SigsLen:      binary.BigEndian.Uint32(b[16:]),
		RotationsLen: binary.BigEndian.Uint32(b[20:]),
		PayloadLen:   binary.BigEndian.Uint64(b[24:]),
	}
	if h.Format != Format {
		return Header{}, fmt.Errorf("bundle: %w: version %d, this box reads %d", ErrFormat, h.Format, Format)
	}
	if flags := binary.BigEndian.Uint16(b[10:]); flags != 0 {
		return Header{}, fmt.Errorf("bundle: %w: flags %#x", ErrFormat, flags)
	}
	if h.ManifestLen == 0 {
		return Header{}, fmt.Errorf("bundle: %w: empty manifest", ErrMalformed)
	}
	if h.ManifestLen > MaxManifestSize {
		return Header{}, fmt.Errorf("bundle: %w: %d bytes, at most %d", ErrManifestTooLarge, h.ManifestLen, MaxManifestSize)
	}
	if h.SigsLen > MaxSignaturesSize || h.SigsLen%SigRecordSize != 0 {
		return Header{}, fmt.Errorf("bundle: %w: signatures block of %d bytes", ErrMalformed, h.SigsLen)
	}
	if h.RotationsLen > MaxRotationsSize {
		return Header{}, fmt.Errorf("bundle: %w: rotation chain of %d bytes, at most %d", ErrMalformed, h.RotationsLen, MaxRotationsSize)
	}
	if h.PayloadLen > MaxPayloads*MaxPayloadSize {
		return Header{}, fmt.Errorf("bundle: %w: payloads of %d bytes", ErrMalformed, h.PayloadLen)
	}
	return h, nil
}

// Marshal returns the 32 header bytes.
func (h Header) Marshal() []byte {
	b := make([]byte, HeaderSize)
	copy(b, Magic)
	binary.BigEndian.PutUint16(b[8:], h.Format)
	binary.BigEndian.PutUint32(b[12:], h.ManifestLen)
	binary.BigEndian.PutUint32(b[16:], h.SigsLen)
	binary.BigEndian.PutUint32(b[20:], h.RotationsLen)
	binary.BigEndian.PutUint64(b[24:], h.PayloadLen)
	return b
}
