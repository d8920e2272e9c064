package images

import "fmt"

// SectorSize is the logical sector size every offset here is counted in.
const SectorSize = 512

const mib = 1 << 20

// firstPartitionLBA leaves the first 4 MiB free like gokrazy does (room for
// the MBR, the GPT and aligned partitions on SD cards).
const firstPartitionLBA = 8192

// gptEntriesSectors is the size of one copy of the partition entry array
// (128 entries of 128 bytes), which the backup GPT keeps at the disk's end.
const gptEntriesSectors = 32

// Layout gives the partition sizes in bytes. Boot and root sizes match gokrazy
// (100 MiB, 2×500 MiB) so that images and update payloads stay compatible with
// its update handlers, except the Pi's boot partition (DefaultLayoutFor);
// Perm is what the image file reserves for /perm.
type Layout struct {
	BootBytes int64
	RootBytes int64
	PermBytes int64
}

// DefaultLayout is gokrazy's layout with a 256 MiB /perm in the image file.
func DefaultLayout() Layout {
	return Layout{BootBytes: 100 * mib, RootBytes: 500 * mib, PermBytes: 256 * mib}
}

// piBootBytes is the Pi's boot partition: the firmware, the kernel set at
// the root (Pi 3) and two slot directories a/ and b/ (Pi 4 and 5, see
// slots.go) of about 50 MiB each.
const piBootBytes = 256 * mib

// DefaultLayoutFor is DefaultLayout with the boot partition target t needs.
func DefaultLayoutFor(t Target) Layout {
	l := DefaultLayout()
	if t.FirmwareModule != "" {
		l.BootBytes = piBootBytes
	}
	return l
}

// Partition is one partition's extent, in sectors, inclusive.
type Partition struct {
	Number   int
	FirstLBA int64
	LastLBA  int64
}

// Offset is the partition's start in bytes.
func (p Partition) Offset() int64 { return p.FirstLBA * SectorSize }

// Size is the partition's length in bytes.
func (p Partition) Size() int64 { return (p.LastLBA - p.FirstLBA + 1) * SectorSize }

// Validate rejects sizes that are not whole MiB or too small to hold a FAT16.
func (l Layout) Validate() error {
	for _, s := range []struct {
		name string
		n    int64
	}{{"boot", l.BootBytes}, {"root", l.RootBytes}, {"perm", l.PermBytes}} {
		if s.n <= 0 || s.n%mib != 0 {
			return fmt.Errorf("images: layout: %s size %d is not a positive multiple of 1 MiB", s.name, s.n)
		}
	}
	if l.BootBytes < 16*mib {
		return fmt.Errorf("images: layout: boot size %d below 16 MiB", l.BootBytes)
	}
	return nil
}

// Partitions returns boot, root A, root B and perm in disk order.
func (l Layout) Partitions() [4]Partition {
	var ps [4]Partition
	first := int64(firstPartitionLBA)
	for i, n := range []int64{l.BootBytes, l.RootBytes, l.RootBytes, l.PermBytes} {
		ps[i] = Partition{Number: i + 1, FirstLBA: first, LastLBA: first + n/SectorSize - 1}
		first += n / SectorSize
	}
	return ps
}

// DiskSectors is the image length in sectors: the partitions plus the backup
// GPT (entries and header) behind them.
func (l Layout) DiskSectors() int64 {
	ps := l.Partitions()
	return ps[3].LastLBA + 1 + gptEntriesSectors + 1
}
