package permfs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/diskfs/go-diskfs/partition/gpt"
)

// sectorSize is the logical sector size of every disk the image is written
// to (SD cards, USB sticks, virtio, NVMe formatted 512e); package images
// lays out the GPT in 512-byte sectors too.
const sectorSize = 512

// alignSectors is the partition alignment of the image (1 MiB): a grown
// partition ends just before a MiB boundary, so it stays whole MiB.
const alignSectors = (1 << 20) / sectorSize

// Disk is a whole disk: the MBR, both GPT copies and the partitions.
type Disk interface {
	io.ReaderAt
	io.WriterAt
}

// Resizer tells the kernel a partition's new extent, in bytes, without
// rereading the whole table (which it refuses while a partition of the disk
// is mounted).
type Resizer interface {
	ResizePartition(number int, start, length int64) error
}

// Growth is what Grow did: the partition's size before and after.
type Growth struct {
	OldBytes, NewBytes int64
}

// Grown reports whether the partition got bigger.
func (g Growth) Grown() bool { return g.NewBytes > g.OldBytes }

// Grow extends partition number, which must be the last partition on the
// disk and blank (see Blank), to the end of a disk of size bytes, aligned
// down to 1 MiB. It moves the backup GPT to the disk's real end, rewrites
// the primary GPT to match and then tells the kernel through r. A disk with
// no room to grow into is left untouched (Growth with equal sizes), which
// makes a second run a no-op. A partition that holds data is never grown:
// the result is ErrNotBlank.
//
// The hybrid MBR of the image is not rewritten: its 0xee entry covers only
// the GPT, which does not move.
func Grow(d Disk, size int64, number int, r Resizer) (Growth, error) {
	f := &diskFile{d: d, size: size}
	if err := checkRawHeader(d); err != nil {
		return Growth{}, err
	}
	t, err := gpt.Read(f, sectorSize, sectorSize)
	if err != nil {
		return Growth{}, fmt.Errorf("permfs: grow: read gpt: %w", err)
	}
	if t.RecoveredFromBackup {
		return Growth{}, fmt.Errorf("permfs: grow: the primary GPT is damaged; not rewriting the table")
	}
	oldBackup := t.TotalSize()/sectorSize - 1 // TotalSize ends with the backup header
	if int64(oldBackup) >= size/sectorSize {
		return Growth{}, fmt.Errorf("permfs: grow: backup GPT at LBA %d lies beyond the disk's %d sectors", oldBackup, size/sectorSize)
	}
	var p *gpt.Partition
	for _, q := range t.Partitions {
		if q.Index == number {
			p = q
		}
	}
	if p == nil {
		return Growth{}, fmt.Errorf("permfs: grow: no partition %d", number)
	}
	for _, q := range t.Partitions {
		if q != p && q.End >= p.Start {
			return Growth{}, fmt.Errorf("permfs: grow: partition %d is not the last on the disk (partition %d ends at LBA %d)", number, q.Index, q.End)
		}
	}
	if p.End < p.Start || p.End > t.LastDataSector() {
		return Growth{}, fmt.Errorf("permfs: grow: partition %d spans LBA %d-%d outside the usable %d", number, p.Start, p.End, t.LastDataSector())
	}
	old := Growth{OldBytes: int64(p.End-p.Start+1) * sectorSize}
	old.NewBytes = old.OldBytes

	blank, err := Blank(io.NewSectionReader(d, int64(p.Start)*sectorSize, old.OldBytes))
	if err != nil {
		return old, err
	}
	if !blank {
		return old, ErrNotBlank
	}

	t.Resize(uint64(size / sectorSize * sectorSize))
	end := (t.LastDataSector()+1)/alignSectors*alignSectors - 1
	if end <= p.End {
		return old, nil // no whole MiB to gain: leave the table as it is
	}
	p.End = end
	p.Size = (p.End - p.Start + 1) * sectorSize
	// Write puts the backup entries and header at the new end first, then
	// the primary, syncing in between: a crash leaves either the old table
	// or a valid new backup the kernel falls back to.
	if err := t.Write(f, size); err != nil {
		return old, fmt.Errorf("permfs: grow: write gpt: %w", err)
	}
	// The old backup header now lies in the usable area, usually inside
	// the grown partition: clear it so no tool mistakes it for a table. On
	// a disk that barely grew it may be part of the new backup: keep that.
	if oldBackup <= t.LastDataSector() {
		if _, err := d.WriteAt(make([]byte, sectorSize), int64(oldBackup)*sectorSize); err != nil {
			return old, fmt.Errorf("permfs: grow: clear old backup header: %w", err)
		}
	}
	if err := f.Sync(); err != nil {
		return old, fmt.Errorf("permfs: grow: sync: %w", err)
	}
	g := Growth{OldBytes: old.OldBytes, NewBytes: int64(p.Size)}
	if err := r.ResizePartition(number, int64(p.Start)*sectorSize, g.NewBytes); err != nil {
		return g, fmt.Errorf("permfs: grow: the table is grown but the kernel was not told: %w", err)
	}
	return g, nil
}

// checkRawHeader rejects primary headers go-diskfs would parse but rewrite
// differently: entries not at LBA 2 (Write always puts them there) or not
// 128 bytes each (Write always writes 128-byte entries).
func checkRawHeader(d Disk) error {
	h := make([]byte, 92)
	if _, err := d.ReadAt(h, sectorSize); err != nil {
		return fmt.Errorf("permfs: grow: read gpt header: %w", err)
	}
	if string(h[:8]) != "EFI PART" {
		return fmt.Errorf("permfs: grow: no GPT on the disk")
	}
	if lba := binary.LittleEndian.Uint64(h[72:80]); lba != 2 {
		return fmt.Errorf("permfs: grow: GPT entries at LBA %d, want 2", lba)
	}
	n, sz := binary.LittleEndian.Uint32(h[80:84]), binary.LittleEndian.Uint32(h[84:88])
	if sz != 128 || n == 0 || n > 1024 || n%4 != 0 {
		return fmt.Errorf("permfs: grow: GPT has %d entries of %d bytes, want whole sectors (up to 1024) of 128-byte entries", n, sz)
	}
	if first := binary.LittleEndian.Uint64(h[40:48]); first < 2+uint64(n/4) {
		return fmt.Errorf("permfs: grow: GPT's first usable LBA %d overlaps its %d entries", first, n)
	}
	return nil
}

// diskFile adapts a Disk of a known size to the file interface go-diskfs's
// GPT code takes; it only ever reads, writes at offsets and asks the size.
type diskFile struct {
	d    Disk
	size int64
}

func (f *diskFile) ReadAt(p []byte, off int64) (int, error)  { return f.d.ReadAt(p, off) }
func (f *diskFile) WriteAt(p []byte, off int64) (int, error) { return f.d.WriteAt(p, off) }
func (f *diskFile) Read([]byte) (int, error) {
	return 0, errors.New("permfs: sequential read unsupported")
}
func (f *diskFile) Stat() (fs.FileInfo, error) { return nil, errors.New("permfs: stat unsupported") }
func (f *diskFile) Close() error               { return nil }

// Seek only answers the size (go-diskfs seeks to the end to find it).
func (f *diskFile) Seek(off int64, whence int) (int64, error) {
	if whence == io.SeekEnd && off == 0 {
		return f.size, nil
	}
	return 0, errors.New("permfs: seek unsupported")
}

// Sync flushes the disk if it can be flushed (an *os.File can).
func (f *diskFile) Sync() error {
	if s, ok := f.d.(interface{ Sync() error }); ok {
		return s.Sync()
	}
	return nil
}
