package tryboot

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/chatsecure/box/images"
)

// A Mounter makes the boot FAT available as a directory, read-only or for
// one change; unmount flushes it. tryboottest.Dir is a plain directory for
// tests. (Linux marks a FAT dirty in its boot sector while it is mounted
// read-write, so reads mount read-only.)
type Mounter interface {
	Mount(rw bool) (root string, unmount func() error, err error)
}

// VFAT mounts the boot partition with the kernel's vfat driver.
type VFAT struct {
	Device string // e.g. /dev/mmcblk0p1
	Dir    string // mount point, e.g. /tmp/box-bootfs
}

// Mount mounts Device at Dir, after unmounting what a crashed boxd may
// have left there.
func (v VFAT) Mount(rw bool) (string, func() error, error) {
	if err := os.MkdirAll(v.Dir, 0o700); err != nil {
		return "", nil, fmt.Errorf("tryboot: mount point: %w", err)
	}
	flags := uintptr(unix.MS_NOATIME | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOSUID)
	if !rw {
		flags |= unix.MS_RDONLY
	}
	// A boxd killed while the FAT was mounted leaves the mount behind
	// (possibly read-write, possibly stacked); drop those first.
	for range 8 {
		if unix.Unmount(v.Dir, 0) != nil {
			break
		}
	}
	if err := unix.Mount(v.Device, v.Dir, "vfat", flags, ""); err != nil {
		return "", nil, fmt.Errorf("tryboot: mount %s (vfat) on %s: %w", v.Device, v.Dir, err)
	}
	return v.Dir, func() error {
		if err := unix.Unmount(v.Dir, 0); err != nil {
			return fmt.Errorf("tryboot: unmount %s: %w", v.Dir, err)
		}
		return nil
	}, nil
}

// Names on the boot FAT.
const (
	configTxt  = "config.txt"
	trybootTxt = "tryboot.txt"
	trybootTmp = "tryboot.tmp"
	configTmp  = "config.tmp"
	cmdlineTxt = "cmdline.txt"
)

// writeFileSync writes a whole file and fsyncs it.
func writeFileSync(p string, data []byte) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir fsyncs a directory so its entries reach the medium.
func syncDir(p string) error {
	d, err := os.Open(p)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, unix.EINVAL) {
		return err
	}
	return nil
}

// removeSynced removes a file if it is there and syncs its directory.
func removeSynced(p string) error {
	if err := os.Remove(p); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	return syncDir(filepath.Dir(p))
}

// payloadFile is one file of a slot directory in a boot payload.
type payloadFile struct {
	rel  string // path below the slot directory, slash-separated
	size int64
}

// slotFiles lists the slot directory dir (e.g. "/a") of a boot payload,
// recursively, files only.
func slotFiles(fs *images.FAT16, dir string) ([]payloadFile, error) {
	var out []payloadFile
	var walk func(rel string, depth int) error
	walk = func(rel string, depth int) error {
		if depth > 8 {
			return fmt.Errorf("%s: directories nested too deep", rel)
		}
		ents, err := fs.ReadDir(path.Join(dir, rel))
		if err != nil {
			return err
		}
		for _, e := range ents {
			if e.Name == "" || e.Name == "." || e.Name == ".." || path.Base(e.Name) != e.Name {
				return fmt.Errorf("%s: bad name %q", rel, e.Name)
			}
			p := path.Join(rel, e.Name)
			if e.Dir {
				if err := walk(p, depth+1); err != nil {
					return err
				}
				continue
			}
			out = append(out, payloadFile{rel: p, size: e.Size})
		}
		return nil
	}
	if err := walk("", 0); err != nil {
		return nil, err
	}
	return out, nil
}

// copyTo writes r's content to p (creating parent directories) and fsyncs.
func copyTo(p string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
