package sourcetest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// Mounter is source.Mounter over directories: "mounting" a device copies
// the directory registered for it into the mount point; unmounting
// empties the mount point again. It records every call.
type Mounter struct {
	mu      sync.Mutex
	devices map[string]string // device path → content dir
	mounted map[string]bool
	Calls   []string // "mount DEV DIR", "unmount DIR"
}

// Add makes dev mountable with the content of dir ("" makes it a device
// whose filesystem is not understood: Mount fails).
func (m *Mounter) Add(dev, dir string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.devices == nil {
		m.devices = map[string]string{}
	}
	m.devices[dev] = dir
}

// Mounted lists mount points not unmounted yet.
func (m *Mounter) Mounted() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for d, ok := range m.mounted {
		if ok {
			out = append(out, d)
		}
	}
	return out
}

func (m *Mounter) Mount(dev, dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Calls = append(m.Calls, "mount "+dev+" "+dir)
	src, ok := m.devices[dev]
	if !ok || src == "" {
		return fmt.Errorf("sourcetest: mount %s: no vfat or exfat filesystem", dev)
	}
	if m.mounted == nil {
		m.mounted = map[string]bool{}
	}
	if m.mounted[dir] {
		return fmt.Errorf("sourcetest: %s already mounted", dir)
	}
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		return fmt.Errorf("sourcetest: mount %s: %w", dev, err)
	}
	m.mounted[dir] = true
	return nil
}

func (m *Mounter) Unmount(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Calls = append(m.Calls, "unmount "+dir)
	if !m.mounted[dir] {
		return errors.New("sourcetest: unmount " + dir + ": not mounted")
	}
	m.mounted[dir] = false
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}
