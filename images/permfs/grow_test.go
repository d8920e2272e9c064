package permfs_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatsecure/box/images"
	"github.com/chatsecure/box/images/permfs"
	"github.com/chatsecure/box/images/permfs/permfstest"
)

const mib = 1 << 20

// testLayout is the smallest layout images accepts, with room for data.
var testLayout = images.Layout{BootBytes: 16 * mib, RootBytes: 2 * mib, PermBytes: 4 * mib}

// makeImage writes an image like boxbuild's (hybrid MBR, both GPT copies,
// random bytes in partitions 1-3, a blank /perm) and then extends the file
// by extra bytes, as flashing onto a bigger disk does.
func makeImage(t testing.TB, extra int64) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "disk.img"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := f.Truncate(testLayout.DiskSectors() * images.SectorSize); err != nil {
		t.Fatal(err)
	}
	if err := images.WritePartitionTable(f, testLayout, images.DiskIDForHost("box"), "0FC63DAF-8483-4772-8E79-3D69D8477DE4"); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(1))
	ps := testLayout.Partitions()
	for _, p := range ps[:3] {
		b := make([]byte, p.Size())
		rng.Read(b)
		if _, err := f.WriteAt(b, p.Offset()); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Truncate(testLayout.DiskSectors()*images.SectorSize + extra); err != nil {
		t.Fatal(err)
	}
	return f
}

func size(t testing.TB, f *os.File) int64 {
	t.Helper()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func digest(t testing.TB, r io.ReaderAt, off, n int64) [32]byte {
	t.Helper()
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(r, off, n)); err != nil {
		t.Fatal(err)
	}
	var d [32]byte
	copy(d[:], h.Sum(nil))
	return d
}

// gptCopy is one header and its entries as read from the disk, checked
// independently of go-diskfs (which Grow writes with).
type gptCopy struct {
	current, alternate, firstUsable, lastUsable, entriesLBA uint64
	entries                                                 []byte
}

func readCopy(t *testing.T, r io.ReaderAt, lba int64) gptCopy {
	t.Helper()
	h := make([]byte, 512)
	if _, err := r.ReadAt(h, lba*512); err != nil {
		t.Fatalf("header at LBA %d: %v", lba, err)
	}
	if string(h[:8]) != "EFI PART" {
		t.Fatalf("no GPT header at LBA %d", lba)
	}
	want := binary.LittleEndian.Uint32(h[16:20])
	hc := append([]byte(nil), h[:92]...)
	copy(hc[16:20], make([]byte, 4))
	if crc32.ChecksumIEEE(hc) != want {
		t.Fatalf("header at LBA %d: bad CRC", lba)
	}
	c := gptCopy{
		current: binary.LittleEndian.Uint64(h[24:]), alternate: binary.LittleEndian.Uint64(h[32:]),
		firstUsable: binary.LittleEndian.Uint64(h[40:]), lastUsable: binary.LittleEndian.Uint64(h[48:]),
		entriesLBA: binary.LittleEndian.Uint64(h[72:]),
	}
	n, sz := binary.LittleEndian.Uint32(h[80:]), binary.LittleEndian.Uint32(h[84:])
	c.entries = make([]byte, n*sz)
	if _, err := r.ReadAt(c.entries, int64(c.entriesLBA)*512); err != nil {
		t.Fatal(err)
	}
	if crc32.ChecksumIEEE(c.entries) != binary.LittleEndian.Uint32(h[88:]) {
		t.Fatalf("entries of header at LBA %d: bad CRC", lba)
	}
	if c.current != uint64(lba) {
		t.Fatalf("header at LBA %d says it is at %d", lba, c.current)
	}
	return c
}

func entryLBAs(c gptCopy, i int) (first, last uint64) {
	e := c.entries[i*128:]
	return binary.LittleEndian.Uint64(e[32:]), binary.LittleEndian.Uint64(e[40:])
}

// checkTable checks both GPT copies of the disk in f and returns the primary.
func checkTable(t *testing.T, f *os.File) gptCopy {
	t.Helper()
	sectors := size(t, f) / 512
	p := readCopy(t, f, 1)
	if p.alternate != uint64(sectors-1) {
		t.Errorf("primary header: backup at LBA %d, want the disk's last %d", p.alternate, sectors-1)
	}
	if p.lastUsable != uint64(sectors-1-32-1) {
		t.Errorf("last usable LBA %d, want %d", p.lastUsable, sectors-34)
	}
	b := readCopy(t, f, sectors-1)
	if b.alternate != 1 || b.entriesLBA != uint64(sectors-1-32) || b.lastUsable != p.lastUsable || b.firstUsable != p.firstUsable {
		t.Errorf("backup header %+v does not mirror the primary %+v", b, p)
	}
	if !bytes.Equal(p.entries, b.entries) {
		t.Errorf("backup entries differ from the primary's")
	}
	return p
}

// verifyWithTools runs Debian's partitioners (packages gdisk and fdisk) on
// the image when they are installed.
func verifyWithTools(t *testing.T, path string) {
	t.Helper()
	for _, args := range [][]string{{"sgdisk", "-v", path}, {"sfdisk", "--verify", path}} {
		if _, err := exec.LookPath(args[0]); err != nil {
			t.Logf("%s not installed (Debian gdisk/fdisk); skipping it", args[0])
			continue
		}
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil || (args[0] == "sgdisk" && !strings.Contains(string(out), "No problems found")) {
			t.Errorf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func TestGrowToTheEndOfTheDisk(t *testing.T) {
	for _, extra := range []int64{512 * mib, 3*mib + 7*512} {
		f := makeImage(t, extra)
		ps := testLayout.Partitions()
		var before [3][32]byte
		for i, p := range ps[:3] {
			before[i] = digest(t, f, p.Offset(), p.Size())
		}
		mbr := digest(t, f, 0, 512)
		r := &permfstest.Resizer{}

		g, err := permfs.Grow(f, size(t, f), 4, r)
		if err != nil {
			t.Fatalf("extra %d: Grow: %v", extra, err)
		}
		pt := checkTable(t, f)
		first, last := entryLBAs(pt, 3)
		// Partition 4 ends on the last MiB boundary below the backup GPT.
		wantLast := (pt.lastUsable+1)/2048*2048 - 1
		if first != uint64(ps[3].FirstLBA) || last != wantLast {
			t.Errorf("extra %d: partition 4 spans %d-%d, want %d-%d", extra, first, last, ps[3].FirstLBA, wantLast)
		}
		if (last+1)%2048 != 0 || last > pt.lastUsable || pt.lastUsable-last >= 2048 {
			t.Errorf("extra %d: partition 4 ends at %d: not MiB aligned below last usable %d", extra, last, pt.lastUsable)
		}
		wantBytes := int64(last-first+1) * 512
		if g.OldBytes != testLayout.PermBytes || g.NewBytes != wantBytes || !g.Grown() {
			t.Errorf("extra %d: Growth = %+v, want %d → %d", extra, g, testLayout.PermBytes, wantBytes)
		}
		if len(r.Calls) != 1 || r.Calls[0] != (permfstest.Resize{Number: 4, Start: ps[3].Offset(), Length: wantBytes}) {
			t.Errorf("extra %d: kernel told %+v, want partition 4 at %d, %d bytes", extra, r.Calls, ps[3].Offset(), wantBytes)
		}
		for i := range 3 {
			if f1, l1 := entryLBAs(pt, i); f1 != uint64(ps[i].FirstLBA) || l1 != uint64(ps[i].LastLBA) {
				t.Errorf("extra %d: partition %d moved to %d-%d", extra, i+1, f1, l1)
			}
			if digest(t, f, ps[i].Offset(), ps[i].Size()) != before[i] {
				t.Errorf("extra %d: partition %d's bytes changed", extra, i+1)
			}
		}
		if digest(t, f, 0, 512) != mbr {
			t.Errorf("extra %d: the hybrid MBR changed", extra)
		}
		// The old backup header, now inside partition 4, is gone.
		old := make([]byte, 8)
		f.ReadAt(old, (testLayout.DiskSectors()-1)*512)
		if string(old) == "EFI PART" {
			t.Errorf("extra %d: stale backup GPT header left inside partition 4", extra)
		}
		verifyWithTools(t, f.Name())

		// A second run finds nothing to do and writes nothing.
		all := digest(t, f, 0, size(t, f))
		r2 := &permfstest.Resizer{}
		g2, err := permfs.Grow(f, size(t, f), 4, r2)
		if err != nil || g2.Grown() || g2.OldBytes != wantBytes || len(r2.Calls) != 0 {
			t.Errorf("extra %d: second Grow = %+v, %v, calls %v; want a no-op", extra, g2, err, r2.Calls)
		}
		if digest(t, f, 0, size(t, f)) != all {
			t.Errorf("extra %d: second Grow changed the disk", extra)
		}
	}
}

func TestGrowNeverTouchesData(t *testing.T) {
	f := makeImage(t, 64*mib)
	p4 := testLayout.Partitions()[3]
	// Anything in the first MiB counts as data, even one byte at its end.
	f.WriteAt([]byte{1}, p4.Offset()+mib-1)
	all := digest(t, f, 0, size(t, f))
	r := &permfstest.Resizer{}
	if _, err := permfs.Grow(f, size(t, f), 4, r); !errors.Is(err, permfs.ErrNotBlank) {
		t.Errorf("Grow of a partition with data: %v, want ErrNotBlank", err)
	}
	if digest(t, f, 0, size(t, f)) != all || len(r.Calls) != 0 {
		t.Errorf("Grow touched a partition with data (kernel calls %v)", r.Calls)
	}
}

func TestGrowNothingToGain(t *testing.T) {
	for _, extra := range []int64{0, mib - 512} {
		f := makeImage(t, extra)
		all := digest(t, f, 0, size(t, f))
		r := &permfstest.Resizer{}
		g, err := permfs.Grow(f, size(t, f), 4, r)
		if err != nil || g.Grown() || g.OldBytes != testLayout.PermBytes || len(r.Calls) != 0 {
			t.Errorf("extra %d: Grow = %+v, %v, calls %v; want a no-op", extra, g, err, r.Calls)
		}
		if digest(t, f, 0, size(t, f)) != all {
			t.Errorf("extra %d: Grow changed a disk it could not grow", extra)
		}
	}
}

func TestGrowRefuses(t *testing.T) {
	f := makeImage(t, 64*mib)
	all := digest(t, f, 0, size(t, f))
	for name, run := range map[string]func() error{
		"not the last partition": func() error { _, err := permfs.Grow(f, size(t, f), 3, &permfstest.Resizer{}); return err },
		"no such partition":      func() error { _, err := permfs.Grow(f, size(t, f), 5, &permfstest.Resizer{}); return err },
		"disk smaller than the table": func() error {
			_, err := permfs.Grow(f, testLayout.DiskSectors()*512-mib, 4, &permfstest.Resizer{})
			return err
		},
	} {
		if err := run(); err == nil {
			t.Errorf("%s: Grow succeeded", name)
		}
	}
	if digest(t, f, 0, size(t, f)) != all {
		t.Errorf("a refused Grow changed the disk")
	}
	// A damaged primary GPT: go-diskfs would fall back to the backup, but
	// the table is not ours to repair.
	f.WriteAt([]byte{0xff}, 512+40)
	if _, err := permfs.Grow(f, size(t, f), 4, &permfstest.Resizer{}); err == nil {
		t.Errorf("Grow rewrote a disk with a damaged primary GPT")
	}
}

func TestGrowKernelRefuses(t *testing.T) {
	f := makeImage(t, 64*mib)
	r := &permfstest.Resizer{Err: errors.New("EBUSY")}
	g, err := permfs.Grow(f, size(t, f), 4, r)
	if err == nil || !g.Grown() {
		t.Errorf("Grow = %+v, %v; want the grown table reported with the kernel's error", g, err)
	}
	checkTable(t, f) // the on-disk table is grown and valid all the same
}

// setEnd sets partition idx's last LBA in both GPT copies of f, as a table
// with slack behind its last partition (not one of ours) has it.
func setEnd(t *testing.T, f *os.File, idx int, end uint64) {
	t.Helper()
	for _, lba := range []int64{1, size(t, f)/512 - 1} {
		h := make([]byte, 92)
		f.ReadAt(h, lba*512)
		entries := int64(binary.LittleEndian.Uint64(h[72:])) * 512
		e := make([]byte, 128*128)
		f.ReadAt(e, entries)
		binary.LittleEndian.PutUint64(e[idx*128+40:], end)
		binary.LittleEndian.PutUint32(h[88:], crc32.ChecksumIEEE(e))
		copy(h[16:20], make([]byte, 4))
		binary.LittleEndian.PutUint32(h[16:], crc32.ChecksumIEEE(h))
		if _, err := f.WriteAt(e, entries); err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt(h, lba*512); err != nil {
			t.Fatal(err)
		}
	}
}

// A partition that ends a MiB short of the table's end grows even on a
// disk only a few sectors bigger; the old backup header then lies inside
// the new backup entries, which must survive.
func TestGrowIntoSlack(t *testing.T) {
	for _, extra := range []int64{0, 16 * 512} {
		f := makeImage(t, 0)
		p4 := testLayout.Partitions()[3]
		setEnd(t, f, 3, uint64(p4.LastLBA-2048))
		checkTable(t, f)
		if err := f.Truncate(size(t, f) + extra); err != nil {
			t.Fatal(err)
		}
		g, err := permfs.Grow(f, size(t, f), 4, &permfstest.Resizer{})
		if err != nil || g.NewBytes != p4.Size() {
			t.Errorf("extra %d: Grow = %+v, %v; want back to %d bytes", extra, g, err, p4.Size())
		}
		checkTable(t, f)
		verifyWithTools(t, f.Name())
	}
}
