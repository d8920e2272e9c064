package images

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// FAT16 reads files from a FAT16 file system the way gokrazy's init and a
// bootloader look at it: 8.3 names (long name entries are skipped), one
// lookup path from the fixed root directory. Tests use it to prove that
// gokrazy's reader will find cmdline.txt; the qemu harness uses it as its
// bootloader.
type FAT16 struct {
	r                 io.ReaderAt
	base              int64 // byte offset of the file system in r
	bytesPerSector    int64
	sectorsPerCluster int64
	reservedSectors   int64
	numFATs           int64
	rootEntries       int64
	fatSectors        int64
	totalSectors      int64
}

// OpenFAT16 parses the boot sector of the FAT16 file system at byte offset
// base of r.
func OpenFAT16(r io.ReaderAt, base int64) (*FAT16, error) {
	bs := make([]byte, 512)
	if _, err := r.ReadAt(bs, base); err != nil {
		return nil, fmt.Errorf("images: fat16: boot sector: %w", err)
	}
	if bs[510] != 0x55 || bs[511] != 0xaa {
		return nil, fmt.Errorf("images: fat16: no boot sector signature")
	}
	f := &FAT16{
		r: r, base: base,
		bytesPerSector:    int64(binary.LittleEndian.Uint16(bs[11:])),
		sectorsPerCluster: int64(bs[13]),
		reservedSectors:   int64(binary.LittleEndian.Uint16(bs[14:])),
		numFATs:           int64(bs[16]),
		rootEntries:       int64(binary.LittleEndian.Uint16(bs[17:])),
		totalSectors:      int64(binary.LittleEndian.Uint16(bs[19:])),
		fatSectors:        int64(binary.LittleEndian.Uint16(bs[22:])),
	}
	if f.totalSectors == 0 {
		f.totalSectors = int64(binary.LittleEndian.Uint32(bs[32:]))
	}
	switch {
	case f.bytesPerSector != 512 && f.bytesPerSector != 1024 && f.bytesPerSector != 2048 && f.bytesPerSector != 4096:
		return nil, fmt.Errorf("images: fat16: bytes per sector %d", f.bytesPerSector)
	case f.sectorsPerCluster == 0 || f.sectorsPerCluster&(f.sectorsPerCluster-1) != 0:
		return nil, fmt.Errorf("images: fat16: sectors per cluster %d", f.sectorsPerCluster)
	case f.fatSectors == 0 || f.rootEntries == 0:
		return nil, fmt.Errorf("images: fat16: not FAT12/16 (FAT32 has no 16-bit FAT size or fixed root directory)")
	case f.numFATs == 0 || f.reservedSectors == 0:
		return nil, fmt.Errorf("images: fat16: %d FATs, %d reserved sectors", f.numFATs, f.reservedSectors)
	case f.dataStart() >= f.totalSectors*f.bytesPerSector:
		return nil, fmt.Errorf("images: fat16: data area beyond the file system")
	}
	return f, nil
}

// NumFATs is the number of FAT copies; gokrazy's reader needs exactly one.
func (f *FAT16) NumFATs() int { return int(f.numFATs) }

func (f *FAT16) rootStart() int64 {
	return (f.reservedSectors + f.numFATs*f.fatSectors) * f.bytesPerSector
}

func (f *FAT16) dataStart() int64 {
	return f.rootStart() + (f.rootEntries*32+f.bytesPerSector-1)/f.bytesPerSector*f.bytesPerSector
}

func (f *FAT16) clusterBytes() int64 { return f.sectorsPerCluster * f.bytesPerSector }

func (f *FAT16) clusterOffset(c uint16) int64 {
	return f.dataStart() + int64(c-2)*f.clusterBytes()
}

func (f *FAT16) next(c uint16) (uint16, error) {
	var b [2]byte
	if _, err := f.r.ReadAt(b[:], f.base+f.reservedSectors*f.bytesPerSector+int64(c)*2); err != nil {
		return 0, fmt.Errorf("images: fat16: fat: %w", err)
	}
	return binary.LittleEndian.Uint16(b[:]), nil
}

type dirEnt struct {
	name    string // "CMDLINE.TXT"
	long    string // VFAT long name, "" if none (or its checksum does not match)
	ntCase  byte   // 0x08: base name lower case, 0x10: extension lower case
	attr    byte
	cluster uint16
	size    int64
}

// shortName maps "cmdline.txt" to the 8.3 form "CMDLINE.TXT".
func shortName(s string) string { return strings.ToUpper(s) }

func parseDirEnt(b []byte) (dirEnt, bool) {
	if b[0] == 0 || b[0] == 0xe5 || b[11] == 0x0f || b[11]&0x08 != 0 {
		return dirEnt{}, false // free, deleted, long name part, volume label
	}
	name := strings.TrimRight(string(b[0:8]), " ")
	if ext := strings.TrimRight(string(b[8:11]), " "); ext != "" {
		name += "." + ext
	}
	return dirEnt{name: name, ntCase: b[12], attr: b[11], cluster: binary.LittleEndian.Uint16(b[26:]), size: int64(binary.LittleEndian.Uint32(b[28:]))}, true
}

// matches reports whether a path element names e: its 8.3 name, or its
// long name compared without case, as FAT does.
func (e dirEnt) matches(part string) bool {
	return e.name == shortName(part) || e.long != "" && strings.EqualFold(e.long, part)
}

// eachEntry calls fn for every entry of the directory that starts at
// dirOff (dirLen bytes; cluster 0 for the fixed root directory) until fn
// returns true.
func (f *FAT16) eachEntry(dirOff, dirLen int64, cluster uint16, fn func(dirEnt) bool) error {
	var lfn longName
	for steps := 0; ; steps++ {
		buf := make([]byte, dirLen)
		if _, err := f.r.ReadAt(buf, dirOff); err != nil {
			return fmt.Errorf("images: fat16: directory: %w", err)
		}
		for o := 0; o+32 <= len(buf); o += 32 {
			b := buf[o : o+32]
			if b[0] == 0 {
				return nil
			}
			if b[11] == 0x0f && b[0] != 0xe5 {
				lfn.add(b)
				continue
			}
			e, ok := parseDirEnt(b)
			if ok {
				e.long = lfn.name(b[0:11])
			}
			lfn = longName{}
			if ok && fn(e) {
				return nil
			}
		}
		if cluster == 0 || steps > 65536 {
			return nil
		}
		c, err := f.next(cluster)
		if err != nil {
			return err
		}
		if c < 2 || c >= 0xfff8 {
			return nil
		}
		cluster, dirOff = c, f.base+f.clusterOffset(c)
	}
}

func (f *FAT16) lookup(p string) (dirEnt, error) {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	// The root directory is a fixed region; subdirectories are cluster chains.
	dirOff, dirLen := f.base+f.rootStart(), f.rootEntries*32
	var cluster uint16
	for i, part := range parts {
		var found *dirEnt
		err := f.eachEntry(dirOff, dirLen, cluster, func(e dirEnt) bool {
			if e.matches(part) {
				found = &e
			}
			return found != nil
		})
		if err != nil {
			return dirEnt{}, err
		}
		if found == nil {
			return dirEnt{}, fmt.Errorf("images: fat16: %s not found", p)
		}
		if i == len(parts)-1 {
			return *found, nil
		}
		if found.attr&0x10 == 0 || found.cluster < 2 {
			return dirEnt{}, fmt.Errorf("images: fat16: %s is not a directory", part)
		}
		cluster, dirOff, dirLen = found.cluster, f.base+f.clusterOffset(found.cluster), f.clusterBytes()
	}
	return dirEnt{}, fmt.Errorf("images: fat16: %s not found", p)
}

// chain returns the clusters of a file of size bytes starting at first.
func (f *FAT16) chain(first uint16, size int64) ([]uint16, error) {
	n := (size + f.clusterBytes() - 1) / f.clusterBytes()
	maxClusters := f.totalSectors / f.sectorsPerCluster
	if n > maxClusters {
		return nil, fmt.Errorf("images: fat16: file of %d bytes exceeds the file system", size)
	}
	var cs []uint16
	for c := first; int64(len(cs)) < n; {
		if c < 2 || c >= 0xfff0 {
			return nil, fmt.Errorf("images: fat16: cluster chain ends early at %#x", c)
		}
		cs = append(cs, c)
		var err error
		if c, err = f.next(c); err != nil {
			return nil, err
		}
	}
	return cs, nil
}

// Extent returns where file p's data starts (relative to the file system),
// its size, and whether its clusters are contiguous — which gokrazy's in-place
// cmdline.txt edit assumes.
func (f *FAT16) Extent(p string) (off, size int64, contiguous bool, err error) {
	e, err := f.lookup(p)
	if err != nil {
		return 0, 0, false, err
	}
	cs, err := f.chain(e.cluster, e.size)
	if err != nil {
		return 0, 0, false, err
	}
	contiguous = true
	for i := 1; i < len(cs); i++ {
		contiguous = contiguous && cs[i] == cs[i-1]+1
	}
	return f.clusterOffset(e.cluster), e.size, contiguous, nil
}

// ReadFile reads file p, following its cluster chain.
func (f *FAT16) ReadFile(p string) ([]byte, error) {
	e, err := f.lookup(p)
	if err != nil {
		return nil, err
	}
	if e.attr&0x10 != 0 {
		return nil, fmt.Errorf("images: fat16: %s is a directory", p)
	}
	cs, err := f.chain(e.cluster, e.size)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, min(e.size, 1<<20))
	for _, c := range cs {
		n := min(f.clusterBytes(), e.size-int64(len(out)))
		buf := make([]byte, n)
		if _, err := f.r.ReadAt(buf, f.base+f.clusterOffset(c)); err != nil {
			return nil, fmt.Errorf("images: fat16: read %s: %w", p, err)
		}
		out = append(out, buf...)
	}
	return out, nil
}
