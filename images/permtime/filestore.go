package permtime

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/chatsecure/box/config/atomicfile"
)

// FileStore keeps the time as one RFC 3339 line in the file Path, written
// atomically so a power cut leaves the old or the new time, never neither.
type FileStore struct{ Path string }

// Load reads the stored time.
func (f FileStore) Load() (time.Time, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, ErrNoTime
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("permtime: load: %w", err)
	}
	t, err := ParseStamp(b)
	if err != nil {
		return time.Time{}, fmt.Errorf("permtime: load %s: %w", f.Path, err)
	}
	return t, nil
}

// Save writes t.
func (f FileStore) Save(t time.Time) error {
	if err := atomicfile.WriteFile(f.Path, FormatStamp(t), 0o644); err != nil {
		return fmt.Errorf("permtime: save: %w", err)
	}
	return nil
}

// minStamp rejects stamps older than this tree: such a file is corrupt.
var minStamp = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// FormatStamp is the file format: RFC 3339 in UTC and a newline.
func FormatStamp(t time.Time) []byte {
	return []byte(t.UTC().Format(time.RFC3339Nano) + "\n")
}

// ParseStamp parses FormatStamp's output.
func ParseStamp(b []byte) (time.Time, error) {
	s := strings.TrimSuffix(string(b), "\n")
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("permtime: bad stamp %q: %w", s, err)
	}
	if t.Before(minStamp) {
		return time.Time{}, fmt.Errorf("permtime: stamp %s is before %s", s, minStamp.Format(time.DateOnly))
	}
	return t.UTC(), nil
}
