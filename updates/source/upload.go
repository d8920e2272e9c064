package source

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/chatsecure/box/config/atomicfile"
)

// ErrOffset means a chunk did not start where the upload stands; the
// client asks Status and resumes from Received.
var ErrOffset = errors.New("chunk offset does not match the bytes received")

// Staging holds uploads in progress under a directory. An upload survives
// restarts: its progress is the length of its .part file.
type Staging struct {
	dir string
	max int64
}

// An Upload is one upload's progress.
type Upload struct {
	ID       string `json:"id"`
	Size     int64  `json:"size"`
	Received int64  `json:"received"`
}

// NewStaging uses dir (created if missing); max bounds an upload's size.
func NewStaging(dir string, max int64) (*Staging, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("source: staging: %w", err)
	}
	return &Staging{dir: dir, max: max}, nil
}

func (s *Staging) path(id, ext string) (string, error) {
	if b, err := hex.DecodeString(id); err != nil || len(b) != 16 {
		return "", fmt.Errorf("source: upload id %q is not 32 hex digits", id)
	}
	return filepath.Join(s.dir, id+ext), nil
}

// Begin starts an upload of size bytes.
func (s *Staging) Begin(size int64) (Upload, error) {
	if size <= 0 || size > s.max {
		return Upload{}, fmt.Errorf("source: upload of %d bytes, want 1..%d", size, s.max)
	}
	var b [16]byte
	rand.Read(b[:])
	u := Upload{ID: hex.EncodeToString(b[:]), Size: size}
	part, _ := s.path(u.ID, ".part")
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return Upload{}, fmt.Errorf("source: begin upload: %w", err)
	}
	f.Close()
	meta, _ := json.Marshal(u)
	jp, _ := s.path(u.ID, ".json")
	if err := atomicfile.WriteFile(jp, meta, 0o600); err != nil {
		os.Remove(part)
		return Upload{}, fmt.Errorf("source: begin upload: %w", err)
	}
	return u, nil
}

// Status reports how far an upload is.
func (s *Staging) Status(id string) (Upload, error) {
	jp, err := s.path(id, ".json")
	if err != nil {
		return Upload{}, err
	}
	b, err := os.ReadFile(jp)
	if err != nil {
		return Upload{}, fmt.Errorf("source: upload %s: %w", id, err)
	}
	var u Upload
	if err := json.Unmarshal(b, &u); err != nil {
		return Upload{}, fmt.Errorf("source: upload %s: %w", id, err)
	}
	part, _ := s.path(id, ".part")
	st, err := os.Stat(part)
	if err != nil {
		return Upload{}, fmt.Errorf("source: upload %s: %w", id, err)
	}
	u.Received = st.Size()
	return u, nil
}

// Write appends the chunk read from r, which must start at offset ==
// Received and must not go past Size. The chunk is fsynced before Write
// returns, so what Status reports afterwards is durable.
func (s *Staging) Write(id string, offset int64, r io.Reader) (Upload, error) {
	u, err := s.Status(id)
	if err != nil {
		return Upload{}, err
	}
	if offset != u.Received {
		return u, fmt.Errorf("source: upload %s: %w: got %d, resume at %d", id, ErrOffset, offset, u.Received)
	}
	part, _ := s.path(id, ".part")
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return u, fmt.Errorf("source: upload %s: %w", id, err)
	}
	defer f.Close()
	room := u.Size - u.Received
	n, err := io.Copy(f, io.LimitReader(r, room))
	u.Received += n
	if err != nil {
		return u, fmt.Errorf("source: upload %s: %w", id, err)
	}
	if err := f.Sync(); err != nil {
		return u, fmt.Errorf("source: upload %s: %w", id, err)
	}
	if extra, _ := r.Read(make([]byte, 1)); extra > 0 {
		return u, fmt.Errorf("source: upload %s: chunk goes past the declared size %d", id, u.Size)
	}
	return u, nil
}

// Finish checks the upload is complete and returns the staged file's path
// (ID.boxupdate), ready for Apply. The caller removes it when done.
func (s *Staging) Finish(id string) (string, error) {
	u, err := s.Status(id)
	if err != nil {
		return "", err
	}
	if u.Received != u.Size {
		return "", fmt.Errorf("source: upload %s incomplete: %d of %d bytes", id, u.Received, u.Size)
	}
	part, _ := s.path(id, ".part")
	final, _ := s.path(id, ".boxupdate")
	if err := os.Rename(part, final); err != nil {
		return "", fmt.Errorf("source: upload %s: %w", id, err)
	}
	jp, _ := s.path(id, ".json")
	os.Remove(jp)
	if err := atomicfile.SyncDir(s.dir); err != nil {
		return "", err
	}
	return final, nil
}

// Remove drops an upload in any state.
func (s *Staging) Remove(id string) error {
	for _, ext := range []string{".part", ".json", ".boxupdate"} {
		p, err := s.path(id, ext)
		if err != nil {
			return err
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("source: remove upload: %w", err)
		}
	}
	return nil
}
