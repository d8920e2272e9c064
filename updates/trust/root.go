package trust

import (
	"crypto/ed25519"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// root holds the image's root set: one .pub file per key and a file
// "threshold" with k. Release images replace these files with the vendor's
// keys; the checked-in ones are the development set.
//
//go:embed root/*.pub root/threshold
var root embed.FS

// Root returns the embedded root set (sequence 0).
func Root() (Set, error) { return LoadSet(root, "root") }

// LoadSet reads a set in the root layout (*.pub and threshold) from dir.
func LoadSet(fsys fs.FS, dir string) (Set, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.pub"))
	if err != nil {
		return Set{}, fmt.Errorf("trust: root: %w", err)
	}
	var keys []ed25519.PublicKey
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return Set{}, fmt.Errorf("trust: root: %w", err)
		}
		k, err := ParsePublic(b)
		if err != nil {
			return Set{}, fmt.Errorf("trust: root %s: %w", n, err)
		}
		keys = append(keys, k.Key)
	}
	tb, err := fs.ReadFile(fsys, path.Join(dir, "threshold"))
	if err != nil {
		return Set{}, fmt.Errorf("trust: root: %w", err)
	}
	t, err := strconv.Atoi(strings.TrimSpace(string(tb)))
	if err != nil {
		return Set{}, fmt.Errorf("trust: root threshold: %w", err)
	}
	s, err := NewSet(0, t, keys)
	if err != nil {
		return Set{}, fmt.Errorf("trust: root: %w", err)
	}
	return s, nil
}
