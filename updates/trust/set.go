package trust

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
)

// Limits keep a hostile statement or bundle from making verification costly.
const (
	MaxKeys       = 16 // keys in one set
	MaxSignatures = 16 // signatures on one manifest or statement
)

// Errors a verification can end in; wrapped with the key id or counts.
var (
	ErrBadSignature = errors.New("bad signature")
	ErrUnknownKey   = errors.New("signature by a key not in the trusted set")
	ErrTooFew       = errors.New("too few valid signatures")
)

// A Signature is one key's ed25519 signature.
type Signature struct {
	KeyID KeyID  `json:"key_id"`
	Sig   []byte `json:"sig"`
}

// A Set is the k-of-n key set trusted at one point of the rotation chain.
// Seq 0 is the root set shipped in the image.
type Set struct {
	Seq       uint64
	Threshold int
	Keys      []ed25519.PublicKey
}

// NewSet checks that threshold and keys make a usable set.
func NewSet(seq uint64, threshold int, keys []ed25519.PublicKey) (Set, error) {
	s := Set{Seq: seq, Threshold: threshold, Keys: keys}
	if err := s.Validate(); err != nil {
		return Set{}, err
	}
	return s, nil
}

// Validate reports why a set cannot be used, if it cannot.
func (s Set) Validate() error {
	if len(s.Keys) == 0 || len(s.Keys) > MaxKeys {
		return fmt.Errorf("trust: set has %d keys, want 1..%d", len(s.Keys), MaxKeys)
	}
	if s.Threshold < 1 || s.Threshold > len(s.Keys) {
		return fmt.Errorf("trust: threshold %d of %d keys, want 1..%d", s.Threshold, len(s.Keys), len(s.Keys))
	}
	seen := map[KeyID]bool{}
	for _, k := range s.Keys {
		if len(k) != ed25519.PublicKeySize {
			return fmt.Errorf("trust: key of %d bytes, want %d", len(k), ed25519.PublicKeySize)
		}
		id := IDOf(k)
		if seen[id] {
			return fmt.Errorf("trust: key %s listed twice", id)
		}
		seen[id] = true
	}
	return nil
}

// IDs lists the set's key ids in set order.
func (s Set) IDs() []KeyID {
	ids := make([]KeyID, len(s.Keys))
	for i, k := range s.Keys {
		ids[i] = IDOf(k)
	}
	return ids
}

func (s Set) key(id KeyID) (ed25519.PublicKey, bool) {
	for _, k := range s.Keys {
		if IDOf(k) == id {
			return k, true
		}
	}
	return nil, false
}

// Verify checks sigs over msg in domain and returns the ids of the distinct
// trusted keys that signed validly. It succeeds when they reach the
// threshold; otherwise the error says why (a bad signature first, then an
// unknown key, then the count), so an operator sees the real cause.
func (s Set) Verify(domain string, msg []byte, sigs []Signature) ([]KeyID, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if len(sigs) > MaxSignatures {
		return nil, fmt.Errorf("trust: %d signatures, at most %d", len(sigs), MaxSignatures)
	}
	data := signedBytes(domain, msg)
	var good []KeyID
	var bad, unknown error
	for _, sg := range sigs {
		k, ok := s.key(sg.KeyID)
		if !ok {
			if unknown == nil {
				unknown = fmt.Errorf("%w: %s", ErrUnknownKey, sg.KeyID)
			}
			continue
		}
		if len(sg.Sig) != ed25519.SignatureSize || !ed25519.Verify(k, data, sg.Sig) {
			if bad == nil {
				bad = fmt.Errorf("%w from key %s", ErrBadSignature, sg.KeyID)
			}
			continue
		}
		if !slices.Contains(good, sg.KeyID) {
			good = append(good, sg.KeyID)
		}
	}
	if len(good) >= s.Threshold {
		return good, nil
	}
	count := fmt.Errorf("%w: %d valid of threshold %d (set %d)", ErrTooFew, len(good), s.Threshold, s.Seq)
	switch {
	case bad != nil:
		return good, fmt.Errorf("trust: %w; %w", bad, count)
	case unknown != nil:
		return good, fmt.Errorf("trust: %w; %w", unknown, count)
	}
	return good, fmt.Errorf("trust: %w", count)
}
