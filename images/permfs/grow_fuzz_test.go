package permfs_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"testing"

	"github.com/chatsecure/box/images/permfs"
	"github.com/chatsecure/box/images/permfs/permfstest"
)

// memDisk is a sparse in-memory disk: head over base (shared, never
// written), zeros behind them up to size, and the sectors written since
// (kept apart so tests see them).
type memDisk struct {
	head, base []byte
	size       int64
	written    map[int64][]byte
}

func (d *memDisk) sector(lba int64) []byte {
	if s, ok := d.written[lba]; ok {
		return s
	}
	s := make([]byte, 512)
	if off := lba * 512; off < int64(len(d.base)) {
		copy(s, d.base[off:])
	}
	if off := lba * 512; off < int64(len(d.head)) {
		copy(s, d.head[off:])
	}
	return s
}

func (d *memDisk) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		if off+int64(n) >= d.size {
			return n, io.EOF
		}
		pos := off + int64(n)
		n += copy(p[n:], d.sector(pos / 512)[pos%512:])
	}
	return n, nil
}

func (d *memDisk) WriteAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > d.size {
		return 0, io.ErrShortWrite
	}
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		s := append([]byte(nil), d.sector(pos/512)...)
		n += copy(s[pos%512:], p[n:])
		d.written[pos/512] = s
	}
	return n, nil
}

// validHeader reports whether the GPT header at lba and its entries check out.
func validHeader(d *memDisk, lba int64) bool {
	h := d.sector(lba)
	if string(h[:8]) != "EFI PART" || binary.LittleEndian.Uint64(h[24:]) != uint64(lba) {
		return false
	}
	hc := append([]byte(nil), h[:92]...)
	copy(hc[16:20], make([]byte, 4))
	if crc32.ChecksumIEEE(hc) != binary.LittleEndian.Uint32(h[16:]) {
		return false
	}
	e := make([]byte, binary.LittleEndian.Uint32(h[80:])*binary.LittleEndian.Uint32(h[84:]))
	if _, err := d.ReadAt(e, int64(binary.LittleEndian.Uint64(h[72:]))*512); err != nil {
		return false
	}
	return crc32.ChecksumIEEE(e) == binary.LittleEndian.Uint32(h[88:])
}

// fixCRCs recomputes the primary GPT's entry and header CRCs in head, so
// the fuzzer reaches what lies behind them.
func fixCRCs(head []byte) {
	if len(head) < 2*512+92 {
		return
	}
	h := head[512:]
	n := int(binary.LittleEndian.Uint32(h[80:])) * int(binary.LittleEndian.Uint32(h[84:]))
	if lba := binary.LittleEndian.Uint64(h[72:]); lba == 2 && n >= 0 && 1024+n <= len(head) {
		binary.LittleEndian.PutUint32(h[88:], crc32.ChecksumIEEE(head[1024:1024+n]))
	}
	copy(h[16:20], make([]byte, 4))
	binary.LittleEndian.PutUint32(h[16:], crc32.ChecksumIEEE(h[:92]))
}

// FuzzGrow feeds Grow arbitrary bytes as the start of a disk (MBR, primary
// GPT and its entries; CRCs made valid if fix is set) with an image's
// backup GPT at its old end. Grow must not panic, must leave a disk it does
// not grow unchanged, and a disk it grows must carry valid primary and
// backup GPTs, the backup at its end, and an untouched MBR.
func FuzzGrow(f *testing.F) {
	img := makeImage(f, 0)
	imgSize := testLayout.DiskSectors() * 512
	base := make([]byte, imgSize)
	if _, err := img.ReadAt(base, 0); err != nil {
		f.Fatal(err)
	}
	head := base[:34*512]
	edit := func(off int, v uint64, n int) []byte {
		b := append([]byte(nil), head...)
		for i := range n {
			b[off+i] = byte(v >> (8 * i))
		}
		return b
	}
	p4 := 1024 + 3*128
	f.Add(head, uint32(4096), false)
	f.Add(head, uint32(100), false)
	f.Add(head[:600], uint32(1<<20), false)
	f.Add(edit(512+80, 5, 4), uint32(4096), true)            // 5 entries: not whole sectors
	f.Add(edit(512+80, 1024, 4), uint32(4096), true)         // 1024 entries overlap partition 1
	f.Add(edit(512+72, 3, 8), uint32(4096), true)            // entries not at LBA 2
	f.Add(edit(1024+2*128+40, 1<<40, 8), uint32(4096), true) // partition 3 runs past partition 4
	f.Add(edit(p4+40, 1<<40, 8), uint32(4096), true)         // partition 4 past the last usable LBA
	f.Add(edit(p4+32, 1<<40, 8), uint32(4096), true)         // partition 4 ends before it starts
	slack := uint64(testLayout.Partitions()[3].LastLBA - 2048)
	f.Add(edit(p4+40, slack, 8), uint32(0), true)                   // room in the table only
	f.Add(edit(p4+40, slack, 8), uint32(16), true)                  // old backup inside the new one
	f.Add(edit(p4, 0, 16), uint32(4096), true)                      // no partition 4
	f.Add(edit(512+32, uint64(imgSize/512+10), 8), uint32(0), true) // backup beyond the disk
	f.Fuzz(func(t *testing.T, start []byte, extraSectors uint32, fix bool) {
		if fix {
			start = append([]byte(nil), start...)
			fixCRCs(start)
		}
		d := &memDisk{head: start, base: base, size: imgSize + int64(extraSectors), written: map[int64][]byte{}}
		mbr := d.sector(0)
		r := &permfstest.Resizer{}
		g, err := permfs.Grow(d, d.size, 4, r)
		if !g.Grown() {
			if len(d.written) != 0 || len(r.Calls) != 0 {
				t.Fatalf("Grow = %+v, %v: wrote %d sectors, told the kernel %v without growing", g, err, len(d.written), r.Calls)
			}
			return
		}
		if err != nil {
			t.Fatalf("Grow = %+v, %v", g, err)
		}
		last := d.size/512 - 1
		if !validHeader(d, 1) || !validHeader(d, last) {
			t.Fatalf("grown disk has an invalid GPT (primary %v, backup %v)", validHeader(d, 1), validHeader(d, last))
		}
		if alt := binary.LittleEndian.Uint64(d.sector(1)[32:]); alt != uint64(last) {
			t.Fatalf("primary names the backup at %d, want %d", alt, last)
		}
		if len(r.Calls) != 1 || r.Calls[0].Length != g.NewBytes || (r.Calls[0].Start+g.NewBytes)%(1<<20) != 0 {
			t.Fatalf("kernel told %v for %+v: partition must end on a MiB boundary", r.Calls, g)
		}
		if !bytes.Equal(d.sector(0), mbr) {
			t.Fatalf("Grow rewrote the MBR")
		}
	})
}
