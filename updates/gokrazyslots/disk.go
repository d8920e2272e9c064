package gokrazyslots

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// A File is one partition opened for reading and writing.
type File interface {
	io.ReaderAt
	io.WriterAt
	Sync() error
	Close() error
}

// A Disk opens the partitions of the boot disk by number (1 boot, 2 and 3
// root, 4 perm) and knows their sizes.
type Disk interface {
	Open(part int) (File, error)
	Size(part int) (int64, error)
}

// DevDisk is a real disk: one device node per partition, such as
// /dev/sda3 or /dev/mmcblk0p3. Partitions are opened on their own nodes,
// not at offsets of the whole disk, so reads and writes share the page
// cache with gokrazy's init, which edits cmdline.txt through /dev/…1.
type DevDisk map[int]string

// Open opens the partition's device node.
func (d DevDisk) Open(part int) (File, error) {
	p, ok := d[part]
	if !ok {
		return nil, fmt.Errorf("gokrazyslots: disk has no partition %d", part)
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("gokrazyslots: %w", err)
	}
	return f, nil
}

// Size is the device's length.
func (d DevDisk) Size(part int) (int64, error) {
	p, ok := d[part]
	if !ok {
		return 0, fmt.Errorf("gokrazyslots: disk has no partition %d", part)
	}
	f, err := os.Open(p)
	if err != nil {
		return 0, fmt.Errorf("gokrazyslots: %w", err)
	}
	defer f.Close()
	n, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, fmt.Errorf("gokrazyslots: size of %s: %w", p, err)
	}
	return n, nil
}

// Extent is where a partition lies in an image file, in bytes.
type Extent struct{ Offset, Size int64 }

// ImageDisk is a disk image file (tests, and a box image before flashing).
type ImageDisk struct {
	Path  string
	Parts map[int]Extent
}

// Open opens the image and bounds I/O to the partition.
func (d ImageDisk) Open(part int) (File, error) {
	e, ok := d.Parts[part]
	if !ok {
		return nil, fmt.Errorf("gokrazyslots: image has no partition %d", part)
	}
	f, err := os.OpenFile(d.Path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("gokrazyslots: %w", err)
	}
	return &section{f: f, e: e}, nil
}

// Size is the partition's length.
func (d ImageDisk) Size(part int) (int64, error) {
	e, ok := d.Parts[part]
	if !ok {
		return 0, fmt.Errorf("gokrazyslots: image has no partition %d", part)
	}
	return e.Size, nil
}

// errBounds is I/O past a partition's end.
var errBounds = errors.New("gokrazyslots: beyond the partition's end")

type section struct {
	f *os.File
	e Extent
}

func (s *section) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 || off >= s.e.Size {
		return 0, io.EOF
	}
	short := false
	if rest := s.e.Size - off; int64(len(b)) > rest {
		b, short = b[:rest], true
	}
	n, err := s.f.ReadAt(b, s.e.Offset+off)
	if err == nil && short {
		err = io.EOF
	}
	return n, err
}

func (s *section) WriteAt(b []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(b)) > s.e.Size {
		return 0, fmt.Errorf("%w: %d bytes at %d, size %d", errBounds, len(b), off, s.e.Size)
	}
	return s.f.WriteAt(b, s.e.Offset+off)
}

func (s *section) Sync() error  { return s.f.Sync() }
func (s *section) Close() error { return s.f.Close() }
