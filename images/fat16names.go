package images

import (
	"fmt"
	"strings"
	"unicode/utf16"
)

// longName collects the VFAT long-name entries that precede a short entry:
// each holds 13 UTF-16 units, numbered from 1, the last one flagged 0x40
// and stored first.
type longName struct {
	parts [20][13]uint16
	have  uint32 // bit i: part i+1 seen
	n     int    // number of parts, from the 0x40 entry; 0 = none pending
	sum   byte
}

func (l *longName) add(b []byte) {
	seq := int(b[0] & 0x1f)
	if b[0]&0x40 != 0 {
		*l = longName{n: seq, sum: b[13]}
	}
	if seq < 1 || seq > l.n || seq > len(l.parts) || b[13] != l.sum {
		*l = longName{}
		return
	}
	var u [13]uint16
	for i, off := range []int{1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30} {
		u[i] = uint16(b[off]) | uint16(b[off+1])<<8
	}
	l.parts[seq-1] = u
	l.have |= 1 << (seq - 1)
}

// name returns the long name if all its parts were seen and their checksum
// matches the short entry's 11 name bytes.
func (l *longName) name(short []byte) string {
	if l.n == 0 || l.have != 1<<l.n-1 {
		return ""
	}
	var sum byte
	for _, c := range short {
		sum = (sum&1)<<7 + sum>>1 + c
	}
	if sum != l.sum {
		return ""
	}
	var u []uint16
	for _, p := range l.parts[:l.n] {
		for _, c := range p {
			if c == 0 {
				return string(utf16.Decode(u))
			}
			u = append(u, c)
		}
	}
	return string(utf16.Decode(u))
}

// FATEntry is one entry of a FAT directory.
type FATEntry struct {
	Name string // the long name if there is one, else the 8.3 name
	Dir  bool
	Size int64
}

// ReadDir lists directory p ("/" for the root), skipping "." and "..".
// The tryboot slot driver uses it to copy a slot directory out of a boot
// payload.
func (f *FAT16) ReadDir(p string) ([]FATEntry, error) {
	dirOff, dirLen, cluster := f.base+f.rootStart(), f.rootEntries*32, uint16(0)
	if strings.Trim(p, "/") != "" {
		e, err := f.lookup(p)
		if err != nil {
			return nil, err
		}
		if e.attr&0x10 == 0 || e.cluster < 2 {
			return nil, fmt.Errorf("images: fat16: %s is not a directory", p)
		}
		dirOff, dirLen, cluster = f.base+f.clusterOffset(e.cluster), f.clusterBytes(), e.cluster
	}
	var out []FATEntry
	err := f.eachEntry(dirOff, dirLen, cluster, func(e dirEnt) bool {
		if e.name == "." || e.name == ".." {
			return false
		}
		name := e.long
		if name == "" {
			name = e.caseName()
		}
		out = append(out, FATEntry{Name: name, Dir: e.attr&0x10 != 0, Size: e.size})
		return len(out) > 1<<16
	})
	return out, err
}

// caseName is the 8.3 name with the lower-case flags Windows NT and Linux
// set instead of a long name for names like "config.txt".
func (e dirEnt) caseName() string {
	base, ext, dot := strings.Cut(e.name, ".")
	if e.ntCase&0x08 != 0 {
		base = strings.ToLower(base)
	}
	if e.ntCase&0x10 != 0 {
		ext = strings.ToLower(ext)
	}
	if !dot {
		return base
	}
	return base + "." + ext
}

// End is where the file system's last allocated cluster ends, in bytes
// from its start: a copy of that prefix holds every file. (A boot payload
// trimmed to it copies over a partition like the whole image, since the
// clusters behind it are free in its FAT.)
func (f *FAT16) End() (int64, error) {
	clusters := (f.totalSectors*f.bytesPerSector - f.dataStart()) / f.clusterBytes()
	n := min(clusters+2, f.fatSectors*f.bytesPerSector/2, 0xfff0)
	fat := make([]byte, n*2)
	if _, err := f.r.ReadAt(fat, f.base+f.reservedSectors*f.bytesPerSector); err != nil {
		return 0, fmt.Errorf("images: fat16: fat: %w", err)
	}
	last := int64(0)
	for c := int64(2); c < n; c++ {
		if fat[2*c] != 0 || fat[2*c+1] != 0 {
			last = c
		}
	}
	if last == 0 {
		return f.dataStart(), nil
	}
	return f.clusterOffset(uint16(last)) + f.clusterBytes(), nil
}
