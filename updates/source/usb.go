package source

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/chatsecure/box/updates/bundle"
)

// A Found is a .boxupdate file on a stick. Manifest is nil and Err says
// why when the file does not even parse (it is listed so the console can
// say so rather than ignore it). Nothing here is verified.
type Found struct {
	Path     string
	Size     int64
	Manifest *bundle.Manifest
	Err      error
}

// ScanDir lists *.boxupdate regular files in dir and its immediate
// subdirectories (sticks are often organised one level deep), newest build
// first. It does not follow symlinks.
func ScanDir(dir string) ([]Found, error) {
	var found []Found
	top, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("source: scan %s: %w", dir, err)
	}
	look := func(d string, ents []os.DirEntry) {
		for _, e := range ents {
			if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".boxupdate") || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			p := filepath.Join(d, e.Name())
			fd := Found{Path: p}
			if info, err := e.Info(); err == nil {
				fd.Size = info.Size()
			}
			if f, err := bundle.Open(p); err != nil {
				fd.Err = err
			} else {
				fd.Manifest = f.Manifest
				f.Close()
			}
			found = append(found, fd)
		}
	}
	look(dir, top)
	for _, e := range top {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			sub := filepath.Join(dir, e.Name())
			if ents, err := os.ReadDir(sub); err == nil {
				look(sub, ents)
			}
		}
	}
	slices.SortFunc(found, func(a, b Found) int {
		var ab, bb uint64
		if a.Manifest != nil {
			ab = a.Manifest.Build
		}
		if b.Manifest != nil {
			bb = b.Manifest.Build
		}
		if c := cmp.Compare(bb, ab); c != 0 {
			return c
		}
		return cmp.Compare(a.Path, b.Path)
	})
	return found, nil
}
