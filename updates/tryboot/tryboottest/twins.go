package tryboottest

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"sync"
)

// Dir plays the mounted boot FAT: a directory that needs no mount.
type Dir string

// Mount returns the directory; unmount does nothing. (A read-only mount
// is not enforced.)
func (d Dir) Mount(rw bool) (string, func() error, error) {
	return string(d), func() error { return nil }, nil
}

// Restarter records restarts instead of restarting.
type Restarter struct {
	mu   sync.Mutex
	Args []string
}

// Restart records arg.
func (r *Restarter) Restart(arg string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Args = append(r.Args, arg)
	return nil
}

// Last is the argument of the last restart, ok=false if there was none.
func (r *Restarter) Last() (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.Args) == 0 {
		return "", false
	}
	return r.Args[len(r.Args)-1], true
}

// WriteDeviceTree writes the properties package tryboot reads into dir:
// compatible, chosen/os_prefix and chosen/bootloader/tryboot.
func WriteDeviceTree(dir string, compatible []string, osPrefix string, tryboot bool) error {
	var compat []byte
	for _, c := range compatible {
		compat = append(append(compat, c...), 0)
	}
	flag := make([]byte, 4)
	if tryboot {
		binary.BigEndian.PutUint32(flag, 1)
	}
	for name, b := range map[string][]byte{
		"compatible":                compat,
		"chosen/os_prefix":          append([]byte(osPrefix), 0),
		"chosen/bootloader/tryboot": flag,
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Counted is Dir counting read-only and read-write mounts: every
// read-write mount of a real FAT rewrites its boot sector twice.
type Counted struct {
	Dir    Dir
	mu     sync.Mutex
	RO, RW int
}

// Mount counts and mounts Dir.
func (c *Counted) Mount(rw bool) (string, func() error, error) {
	c.mu.Lock()
	if rw {
		c.RW++
	} else {
		c.RO++
	}
	c.mu.Unlock()
	return c.Dir.Mount(rw)
}

// RWMounts is the number of read-write mounts so far.
func (c *Counted) RWMounts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.RW
}
