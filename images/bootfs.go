package images

import (
	"fmt"
	"io"
	"os"
	"path"
	"sort"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/fat16"
)

// BootFile is one file of the boot partition: Name is its absolute path in
// the FAT, the content comes from Data or, if Data is nil, from the host file
// Src.
type BootFile struct {
	Name string
	Data []byte
	Src  string
}

// WriteBootFS writes a FAT16 file system of size bytes holding files to path.
//
// FAT16 rather than FAT32: gokrazy's init reads and edits cmdline.txt with its
// own minimal FAT16B reader (fixed root directory, 16-bit FAT size field), so
// a FAT32 boot partition would break its A/B switch and test boot. The Pi
// firmware reads FAT16 too. cmdline.txt is written first so it sits in the
// first root directory slot and in one contiguous run of clusters, which that
// reader relies on.
func WriteBootFS(dst string, size int64, files []BootFile) error {
	files = append([]BootFile(nil), files...)
	sort.SliceStable(files, func(i, j int) bool {
		ci, cj := files[i].Name == "/cmdline.txt", files[j].Name == "/cmdline.txt"
		if ci != cj {
			return ci
		}
		return files[i].Name < files[j].Name
	})
	f, err := os.OpenFile(dst, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("images: boot fs: %w", err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("images: boot fs: %w", err)
	}
	fs, err := fat16.Create(file.New(f, false), size, 0, SectorSize, "GOKRAZY", true)
	if err != nil {
		return fmt.Errorf("images: boot fs: create fat16: %w", err)
	}
	dirs := map[string]bool{"/": true}
	for _, bf := range files {
		if !path.IsAbs(bf.Name) || path.Clean(bf.Name) != bf.Name {
			return fmt.Errorf("images: boot fs: bad name %q", bf.Name)
		}
		if d := path.Dir(bf.Name); !dirs[d] {
			if err := fs.Mkdir(d); err != nil {
				return fmt.Errorf("images: boot fs: mkdir %s: %w", d, err)
			}
			for p := d; p != "/"; p = path.Dir(p) {
				dirs[p] = true
			}
		}
		if err := writeBootFile(fs, bf); err != nil {
			return err
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("images: boot fs: %w", err)
	}
	return f.Close()
}

func writeBootFile(fs *fat16.FileSystem, bf BootFile) error {
	data := bf.Data
	if data == nil {
		var err error
		if data, err = os.ReadFile(bf.Src); err != nil {
			return fmt.Errorf("images: boot fs: %w", err)
		}
	}
	w, err := fs.OpenFile(bf.Name, os.O_CREATE|os.O_RDWR)
	if err != nil {
		return fmt.Errorf("images: boot fs: create %s: %w", bf.Name, err)
	}
	// One Write call keeps the file's clusters contiguous.
	if _, err := w.Write(data); err != nil {
		w.Close()
		return fmt.Errorf("images: boot fs: write %s: %w", bf.Name, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("images: boot fs: close %s: %w", bf.Name, err)
	}
	return nil
}

// ReadBootFile reads name from the boot FAT at byte offset off (size bytes)
// in the disk image img. The qemu harness uses it as its bootloader.
func ReadBootFile(img string, off, size int64, name string) ([]byte, error) {
	f, err := os.Open(img)
	if err != nil {
		return nil, fmt.Errorf("images: read boot file: %w", err)
	}
	defer f.Close()
	fs, err := fat16.Read(file.New(f, true), size, off, SectorSize)
	if err != nil {
		return nil, fmt.Errorf("images: read boot file: open fat16: %w", err)
	}
	r, err := fs.OpenFile(name, os.O_RDONLY)
	if err != nil {
		return nil, fmt.Errorf("images: read boot file %s: %w", name, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("images: read boot file %s: %w", name, err)
	}
	return b, nil
}
