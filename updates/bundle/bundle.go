package bundle

import (
	"fmt"
	"io"
	"os"

	"github.com/chatsecure/box/updates/trust"
)

// A Bundle is a parsed .boxupdate: every section but the payloads is in
// memory; payloads are read from the source on demand. Parse checks the
// structure only: signatures, product, target and payload hashes are for
// the verifier.
type Bundle struct {
	Header        Header
	ManifestBytes []byte
	Manifest      *Manifest
	Signatures    []trust.Signature
	Rotations     []trust.SignedRotation
	src           io.ReaderAt
}

// Parse reads the header, checks every bound and the file size, then the
// manifest, signatures and rotation chain.
func Parse(r io.ReaderAt, size int64) (*Bundle, error) {
	if size < HeaderSize {
		return nil, fmt.Errorf("bundle: %w: %d bytes, shorter than the header", ErrTruncated, size)
	}
	hb := make([]byte, HeaderSize)
	if err := readAt(r, hb, 0); err != nil {
		return nil, fmt.Errorf("bundle: read header: %w", err)
	}
	h, err := ParseHeader(hb)
	if err != nil {
		return nil, err
	}
	if size < h.Size() {
		return nil, fmt.Errorf("bundle: %w: %d bytes, header promises %d", ErrTruncated, size, h.Size())
	}
	if size > h.Size() {
		return nil, fmt.Errorf("bundle: %w: %d bytes, header promises %d", ErrTrailing, size, h.Size())
	}
	section := func(off int64, n uint32, what string) ([]byte, error) {
		b := make([]byte, n)
		if err := readAt(r, b, off); err != nil {
			return nil, fmt.Errorf("bundle: read %s: %w", what, err)
		}
		return b, nil
	}
	b := &Bundle{Header: h, src: r}
	off := int64(HeaderSize)
	if b.ManifestBytes, err = section(off, h.ManifestLen, "manifest"); err != nil {
		return nil, err
	}
	if b.Manifest, err = ParseManifest(b.ManifestBytes); err != nil {
		return nil, err
	}
	if got := b.Manifest.PayloadTotal(); uint64(got) != h.PayloadLen {
		return nil, fmt.Errorf("bundle: %w: header says %d payload bytes, manifest %d", ErrMalformed, h.PayloadLen, got)
	}
	off += int64(h.ManifestLen)
	sb, err := section(off, h.SigsLen, "signatures")
	if err != nil {
		return nil, err
	}
	b.Signatures = DecodeSignatures(sb)
	off += int64(h.SigsLen)
	if h.RotationsLen > 0 {
		rb, err := section(off, h.RotationsLen, "rotation chain")
		if err != nil {
			return nil, err
		}
		if b.Rotations, err = trust.ParseChain(rb, MaxRotationsSize); err != nil {
			return nil, fmt.Errorf("bundle: %w: %w", ErrMalformed, err)
		}
	}
	return b, nil
}

// Payload returns a reader over payload i's bytes in the bundle.
func (b *Bundle) Payload(i int) *io.SectionReader {
	off := b.Header.PayloadOffset()
	for _, p := range b.Manifest.Payloads[:i] {
		off += p.Size
	}
	return io.NewSectionReader(b.src, off, b.Manifest.Payloads[i].Size)
}

// A File is a bundle parsed from an open file.
type File struct {
	*Bundle
	f *os.File
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// Open opens and parses a bundle file.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("bundle: %w", err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("bundle: %s: %w: not a regular file", path, ErrNotBundle)
	}
	b, err := Parse(f, st.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &File{Bundle: b, f: f}, nil
}

// EncodeSignatures returns the binary signatures block.
func EncodeSignatures(sigs []trust.Signature) []byte {
	out := make([]byte, 0, len(sigs)*SigRecordSize)
	for _, s := range sigs {
		out = append(out, s.KeyID[:]...)
		sig := make([]byte, SigRecordSize-8)
		copy(sig, s.Sig)
		out = append(out, sig...)
	}
	return out
}

// DecodeSignatures splits a signatures block (its length is checked by
// ParseHeader to be a whole number of records).
func DecodeSignatures(b []byte) []trust.Signature {
	var sigs []trust.Signature
	for len(b) >= SigRecordSize {
		var s trust.Signature
		copy(s.KeyID[:], b[:8])
		s.Sig = append([]byte(nil), b[8:SigRecordSize]...)
		sigs = append(sigs, s)
		b = b[SigRecordSize:]
	}
	return sigs
}

// readAt fills b from off; io.EOF with a full buffer is success, as
// io.ReaderAt allows.
func readAt(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}
