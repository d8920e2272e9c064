package trust

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MaxRotationSize bounds one signed statement in its JSON form.
const MaxRotationSize = 16 << 10

// Product is the only product a statement may name; a key set of another
// product's boxes must not be usable here.
const Product = "chatsecure-box"

// ErrRotationGap means a statement is missing from the chain.
var ErrRotationGap = errors.New("rotation chain has a gap")

// A Rotation is the statement body: the set that will be trusted from
// sequence Seq on. The signed bytes are its json.Marshal form, so what is
// verified is exactly what is used, however the file was formatted.
type Rotation struct {
	Product   string              `json:"product"`
	Seq       uint64              `json:"seq"`
	Threshold int                 `json:"threshold"`
	Keys      []ed25519.PublicKey `json:"keys"`
}

// A SignedRotation is a statement with the old set's signatures.
type SignedRotation struct {
	Statement  Rotation    `json:"statement"`
	Signatures []Signature `json:"signatures"`
}

// Set returns the key set the statement hands trust to.
func (r Rotation) Set() (Set, error) { return NewSet(r.Seq, r.Threshold, r.Keys) }

func (r Rotation) signedBytes() []byte {
	b, err := json.Marshal(r)
	if err != nil {
		panic("trust: marshal rotation: " + err.Error()) // cannot fail: fixed types
	}
	return b
}

// NewRotation makes an unsigned statement handing trust to set.
func NewRotation(set Set) (SignedRotation, error) {
	if err := set.Validate(); err != nil {
		return SignedRotation{}, err
	}
	if set.Seq == 0 {
		return SignedRotation{}, errors.New("trust: rotation seq must be at least 1 (0 is the root)")
	}
	return SignedRotation{Statement: Rotation{Product: Product, Seq: set.Seq, Threshold: set.Threshold, Keys: set.Keys}}, nil
}

// Sign adds k's signature, replacing an earlier one by the same key.
func (r *SignedRotation) Sign(k PrivateKey) {
	sg := k.Sign(DomainRotation, r.Statement.signedBytes())
	for i := range r.Signatures {
		if r.Signatures[i].KeyID == sg.KeyID {
			r.Signatures[i] = sg
			return
		}
	}
	r.Signatures = append(r.Signatures, sg)
}

// Marshal returns the statement file form (indented JSON).
func (r SignedRotation) Marshal() []byte {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		panic("trust: marshal rotation: " + err.Error())
	}
	return append(b, '\n')
}

// ParseRotation reads one statement strictly: bounded size, no unknown
// fields, no trailing data, a usable set.
func ParseRotation(b []byte) (SignedRotation, error) {
	if len(b) > MaxRotationSize {
		return SignedRotation{}, fmt.Errorf("trust: rotation statement of %d bytes, at most %d", len(b), MaxRotationSize)
	}
	var r SignedRotation
	if err := decodeStrict(b, &r); err != nil {
		return SignedRotation{}, fmt.Errorf("trust: rotation statement: %w", err)
	}
	if err := r.check(); err != nil {
		return SignedRotation{}, err
	}
	return r, nil
}

func (r SignedRotation) check() error {
	if r.Statement.Product != Product {
		return fmt.Errorf("trust: rotation statement for product %q, want %q", r.Statement.Product, Product)
	}
	if r.Statement.Seq == 0 {
		return errors.New("trust: rotation statement with seq 0")
	}
	if _, err := r.Statement.Set(); err != nil {
		return fmt.Errorf("trust: rotation %d: %w", r.Statement.Seq, err)
	}
	if len(r.Signatures) > MaxSignatures {
		return fmt.Errorf("trust: rotation %d: %d signatures, at most %d", r.Statement.Seq, len(r.Signatures), MaxSignatures)
	}
	return nil
}

// Rotate verifies r against s (at s's threshold) and returns the new set.
// r must be exactly the next in the chain.
func (s Set) Rotate(r SignedRotation) (Set, error) {
	if err := r.check(); err != nil {
		return Set{}, err
	}
	if r.Statement.Seq != s.Seq+1 {
		return Set{}, fmt.Errorf("trust: %w: trusted set is %d, statement is %d", ErrRotationGap, s.Seq, r.Statement.Seq)
	}
	if _, err := s.Verify(DomainRotation, r.Statement.signedBytes(), r.Signatures); err != nil {
		return Set{}, fmt.Errorf("trust: rotation %d: %w", r.Statement.Seq, err)
	}
	return r.Statement.Set()
}

// Advance walks a chain of statements from s: statements at or below s.Seq
// are already applied and skipped, the rest must follow one by one.
func (s Set) Advance(chain []SignedRotation) (Set, error) {
	cur := s
	for _, r := range chain {
		if r.Statement.Seq <= cur.Seq {
			continue
		}
		next, err := cur.Rotate(r)
		if err != nil {
			return Set{}, err
		}
		cur = next
	}
	return cur, nil
}

// ParseChain reads a JSON array of statements (the bundle's rotation block).
func ParseChain(b []byte, max int) ([]SignedRotation, error) {
	if len(b) > max {
		return nil, fmt.Errorf("trust: rotation chain of %d bytes, at most %d", len(b), max)
	}
	var chain []SignedRotation
	if err := decodeStrict(b, &chain); err != nil {
		return nil, fmt.Errorf("trust: rotation chain: %w", err)
	}
	for _, r := range chain {
		if err := r.check(); err != nil {
			return nil, err
		}
	}
	return chain, nil
}

// decodeStrict decodes exactly one JSON value with no unknown fields.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after JSON value")
	}
	return nil
}
