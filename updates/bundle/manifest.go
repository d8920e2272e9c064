package bundle

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Product is what every manifest must name.
const Product = "chatsecure-box"

// Targets are the boards a bundle can be for.
var Targets = []string{"pi", "amd64"}

// MaxPayloads bounds the payload list.
const MaxPayloads = 8

// A Manifest says what a bundle is and holds. Field order is the canonical
// JSON order.
type Manifest struct {
	Product string `json:"product"`
	Target  string `json:"target"`
	Version string `json:"version"`
	// Build is the monotonic build number the anti-rollback floor compares.
	Build uint64 `json:"build"`
	// MinVersion is the oldest running version this bundle may update.
	MinVersion string    `json:"min_version,omitempty"`
	Created    time.Time `json:"created"`
	Payloads   []Payload `json:"payloads"`
}

// A Payload is one partition image in the bundle.
type Payload struct {
	// Name is the partition it is for: "root" or "boot" on the box.
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Marshal returns the canonical bytes.
func (m *Manifest) Marshal() ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("bundle: manifest: %w", err)
	}
	return b, nil
}

// ParseManifest reads canonical manifest bytes strictly and checks every
// field's syntax. Product and target are checked by the verifier, which
// knows what box it is on.
func ParseManifest(b []byte) (*Manifest, error) {
	if len(b) > MaxManifestSize {
		return nil, fmt.Errorf("bundle: %w: %d bytes", ErrManifestTooLarge, len(b))
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("bundle: %w: manifest: %w", ErrMalformed, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("bundle: %w: manifest: trailing data", ErrMalformed)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	canon, err := m.Marshal()
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(canon, b) {
		return nil, fmt.Errorf("bundle: %w: manifest is not in canonical form", ErrMalformed)
	}
	return &m, nil
}

// Validate checks field syntax and bounds.
func (m *Manifest) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("bundle: %w: manifest: %s", ErrMalformed, fmt.Sprintf(format, a...))
	}
	if m.Product == "" || m.Target == "" {
		return bad("product and target are required")
	}
	if _, err := ParseVersion(m.Version); err != nil {
		return bad("%v", err)
	}
	if m.MinVersion != "" {
		if _, err := ParseVersion(m.MinVersion); err != nil {
			return bad("min_version: %v", err)
		}
	}
	if m.Build == 0 {
		return bad("build number must be at least 1")
	}
	if m.Created.IsZero() {
		return bad("created time is required")
	}
	if len(m.Payloads) == 0 || len(m.Payloads) > MaxPayloads {
		return bad("%d payloads, want 1..%d", len(m.Payloads), MaxPayloads)
	}
	seen := map[string]bool{}
	for _, p := range m.Payloads {
		if err := checkPayloadName(p.Name); err != nil {
			return bad("%v", err)
		}
		if seen[p.Name] {
			return bad("payload %q listed twice", p.Name)
		}
		seen[p.Name] = true
		if p.Size <= 0 || p.Size > MaxPayloadSize {
			return bad("payload %q: size %d, want 1..%d", p.Name, p.Size, int64(MaxPayloadSize))
		}
		if len(p.SHA256) != 64 || p.SHA256 != hex.EncodeToString(mustHex(p.SHA256)) {
			return bad("payload %q: sha256 must be 64 lower-case hex digits", p.Name)
		}
	}
	return nil
}

// PayloadTotal is the sum of the payload sizes.
func (m *Manifest) PayloadTotal() int64 {
	var n int64
	for _, p := range m.Payloads {
		n += p.Size
	}
	return n
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil
	}
	return b
}

func checkPayloadName(n string) error {
	if n == "" || len(n) > 32 {
		return errors.New("payload name must be 1..32 characters")
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return fmt.Errorf("payload name %q: only a-z, 0-9 and '-'", n)
		}
	}
	return nil
}
