package bundle

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/chatsecure/box/config/atomicfile"
	"github.com/chatsecure/box/updates/trust"
)

// A PayloadFile names a partition image to put in a bundle.
type PayloadFile struct {
	Name string // partition: "root" or "boot"
	Path string
}

// A Spec is what a release build says about the bundle it makes.
type Spec struct {
	Target     string
	Version    string
	Build      uint64
	MinVersion string
	Created    time.Time // zero means now
}

// WriteUnsigned hashes the payload files and writes an unsigned bundle to
// out atomically. `boxbuild bundle` calls it; `boxsign sign` signs after.
func WriteUnsigned(out string, spec Spec, files []PayloadFile) error {
	created := spec.Created
	if created.IsZero() {
		created = time.Now()
	}
	m := &Manifest{
		Product:    Product,
		Target:     spec.Target,
		Version:    spec.Version,
		Build:      spec.Build,
		MinVersion: spec.MinVersion,
		Created:    created.UTC().Truncate(time.Second),
	}
	if !slices.Contains(Targets, spec.Target) {
		return fmt.Errorf("bundle: target %q, want one of %v", spec.Target, Targets)
	}
	for _, pf := range files {
		size, sum, err := hashFile(pf.Path)
		if err != nil {
			return fmt.Errorf("bundle: payload %s: %w", pf.Name, err)
		}
		m.Payloads = append(m.Payloads, Payload{Name: pf.Name, Size: size, SHA256: sum})
	}
	if err := m.Validate(); err != nil {
		return err
	}
	return writeAtomic(out, func(w io.Writer) error {
		var srcs []io.Reader
		for _, pf := range files {
			f, err := os.Open(pf.Path)
			if err != nil {
				return fmt.Errorf("bundle: %w", err)
			}
			defer f.Close()
			srcs = append(srcs, f)
		}
		return Write(w, m, nil, nil, srcs)
	})
}

// Write writes a whole bundle. Each payload reader must yield exactly the
// manifest's size.
func Write(w io.Writer, m *Manifest, sigs []trust.Signature, chain []trust.SignedRotation, payloads []io.Reader) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if len(payloads) != len(m.Payloads) {
		return fmt.Errorf("bundle: %d payload readers for %d payloads", len(payloads), len(m.Payloads))
	}
	mb, err := m.Marshal()
	if err != nil {
		return err
	}
	if err := writeSections(w, mb, sigs, chain, uint64(m.PayloadTotal())); err != nil {
		return err
	}
	for i, p := range m.Payloads {
		n, err := io.Copy(w, io.LimitReader(payloads[i], p.Size+1))
		if err != nil {
			return fmt.Errorf("bundle: payload %s: %w", p.Name, err)
		}
		if n != p.Size {
			return fmt.Errorf("bundle: payload %s: %d bytes, manifest says %d", p.Name, n, p.Size)
		}
	}
	return nil
}

func writeSections(w io.Writer, manifest []byte, sigs []trust.Signature, chain []trust.SignedRotation, payloadLen uint64) error {
	if len(manifest) > MaxManifestSize {
		return fmt.Errorf("bundle: %w: %d bytes", ErrManifestTooLarge, len(manifest))
	}
	sb := EncodeSignatures(sigs)
	if len(sb) > MaxSignaturesSize {
		return fmt.Errorf("bundle: %d signatures, at most %d", len(sigs), MaxSignaturesSize/SigRecordSize)
	}
	var rb []byte
	if len(chain) > 0 {
		var err error
		if rb, err = json.Marshal(chain); err != nil {
			return fmt.Errorf("bundle: rotation chain: %w", err)
		}
		if len(rb) > MaxRotationsSize {
			return fmt.Errorf("bundle: rotation chain of %d bytes, at most %d", len(rb), MaxRotationsSize)
		}
	}
	h := Header{Format: Format, ManifestLen: uint32(len(manifest)), SigsLen: uint32(len(sb)), RotationsLen: uint32(len(rb)), PayloadLen: payloadLen}
	for _, part := range [][]byte{h.Marshal(), manifest, sb, rb} {
		if _, err := w.Write(part); err != nil {
			return fmt.Errorf("bundle: write: %w", err)
		}
	}
	return nil
}

// Rewrite replaces the signatures and rotation chain of the bundle at path,
// atomically; mutate may change b.Signatures and b.Rotations only. The
// manifest and payload bytes are copied unchanged.
func Rewrite(path string, mutate func(b *Bundle) error) error {
	f, err := Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := mutate(f.Bundle); err != nil {
		return err
	}
	return writeAtomic(path, func(w io.Writer) error {
		if err := writeSections(w, f.ManifestBytes, f.Signatures, f.Rotations, f.Header.PayloadLen); err != nil {
			return err
		}
		src := io.NewSectionReader(f.f, f.Header.PayloadOffset(), int64(f.Header.PayloadLen))
		if _, err := io.Copy(w, src); err != nil {
			return fmt.Errorf("bundle: copy payloads: %w", err)
		}
		return nil
	})
}

// AddSignature signs the bundle's manifest with k, replacing an earlier
// signature by the same key.
func AddSignature(path string, k trust.PrivateKey) error {
	return Rewrite(path, func(b *Bundle) error {
		sg := k.Sign(trust.DomainManifest, b.ManifestBytes)
		for i := range b.Signatures {
			if b.Signatures[i].KeyID == sg.KeyID {
				b.Signatures[i] = sg
				return nil
			}
		}
		if len(b.Signatures) >= MaxSignaturesSize/SigRecordSize {
			return errors.New("bundle: signature block full")
		}
		b.Signatures = append(b.Signatures, sg)
		return nil
	})
}

// AttachRotation adds a rotation statement to the bundle's chain, kept in
// sequence order, so boxes that are behind catch up with this update.
func AttachRotation(path string, r trust.SignedRotation) error {
	return Rewrite(path, func(b *Bundle) error {
		b.Rotations = slices.DeleteFunc(b.Rotations, func(o trust.SignedRotation) bool { return o.Statement.Seq == r.Statement.Seq })
		b.Rotations = append(b.Rotations, r)
		slices.SortFunc(b.Rotations, func(x, y trust.SignedRotation) int {
			return cmp.Compare(x.Statement.Seq, y.Statement.Seq)
		})
		return nil
	})
}

// writeAtomic streams into a temp file beside path, fsyncs and renames it:
// a crash leaves the old file or the new one.
func writeAtomic(path string, fill func(w io.Writer) error) error {
	if err := atomicfile.Stream(path, 0o644, fill); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	return nil
}

func hashFile(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
