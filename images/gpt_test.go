package images

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/partition/gpt"
)

func writeTable(t *testing.T, l Layout, id DiskID) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "disk.img")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(l.DiskSectors() * SectorSize); err != nil {
		t.Fatal(err)
	}
	if err := WritePartitionTable(f, l, id, typeRootARM64); err != nil {
		t.Fatal(err)
	}
	return p
}

func readGPT(t *testing.T, p string) *gpt.Table {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tbl, err := gpt.Read(file.New(f, true), SectorSize, SectorSize)
	if err != nil {
		t.Fatalf("go-diskfs cannot read our GPT: %v", err)
	}
	return tbl
}

func TestPartitionTableReadByGoDiskfs(t *testing.T) {
	l := DefaultLayout()
	id := DiskIDForHost("box")
	p := writeTable(t, l, id)
	tbl := readGPT(t, p)
	var parts []*gpt.Partition
	for _, pt := range tbl.Partitions {
		if pt.Type != gpt.Unused {
			parts = append(parts, pt)
		}
	}
	if len(parts) != 4 {
		t.Fatalf("got %d partitions, want 4", len(parts))
	}
	wantTypes := []gpt.Type{gpt.EFISystemPartition, gpt.Type(typeRootARM64), gpt.LinuxFilesystem, gpt.LinuxFilesystem}
	for i, pt := range parts {
		want := l.Partitions()[i]
		if int64(pt.Start) != want.FirstLBA || int64(pt.End) != want.LastLBA {
			t.Errorf("partition %d: sectors %d-%d, want %d-%d", i+1, pt.Start, pt.End, want.FirstLBA, want.LastLBA)
		}
		if !strings.EqualFold(pt.GUID, id.PartGUID(i+1)) {
			t.Errorf("partition %d: GUID %s, want %s", i+1, pt.GUID, id.PartGUID(i+1))
		}
		if !strings.EqualFold(string(pt.Type), string(wantTypes[i])) {
			t.Errorf("partition %d: type %s, want %s", i+1, pt.Type, wantTypes[i])
		}
		if pt.Name != partitionNames[i] {
			t.Errorf("partition %d: name %q, want %q", i+1, pt.Name, partitionNames[i])
		}
	}
	// Boot at 4 MiB with gokrazy's sizes, perm right behind root B.
	ps := l.Partitions()
	if ps[0].Offset() != 4*mib || ps[0].Size() != 100*mib || ps[1].Size() != 500*mib || ps[2].Size() != 500*mib {
		t.Errorf("layout differs from gokrazy's: %+v", ps)
	}
	if ps[3].FirstLBA != ps[2].LastLBA+1 {
		t.Errorf("perm does not follow root B")
	}
}

func TestBackupGPTRecovers(t *testing.T) {
	l := DefaultLayout()
	p := writeTable(t, l, DiskIDForHost("box"))
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Destroy the primary header; the backup at the disk's end must do.
	if _, err := f.WriteAt(make([]byte, SectorSize), SectorSize); err != nil {
		t.Fatal(err)
	}
	f.Close()
	tbl := readGPT(t, p)
	if !tbl.RecoveredFromBackup {
		t.Fatalf("table not recovered from backup")
	}
	if got := tbl.Partitions[3].Start; int64(got) != l.Partitions()[3].FirstLBA {
		t.Errorf("backup perm start %d, want %d", got, l.Partitions()[3].FirstLBA)
	}
}

func TestHybridMBR(t *testing.T) {
	l := DefaultLayout()
	f, err := os.Open(writeTable(t, l, DiskIDForHost("box")))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 2*SectorSize) // MBR and the primary GPT header
	if _, err := f.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	if b[510] != 0x55 || b[511] != 0xaa {
		t.Fatalf("no MBR signature")
	}
	e1, e2 := b[446:462], b[462:478]
	// The Pi firmware boots from the first MBR partition: active FAT.
	if e1[0] != 0x80 || e1[4] != 0x0c {
		t.Errorf("MBR entry 1: status %#x type %#x, want 0x80 0x0c", e1[0], e1[4])
	}
	if s, n := binary.LittleEndian.Uint32(e1[8:]), binary.LittleEndian.Uint32(e1[12:]); int64(s) != l.Partitions()[0].FirstLBA || int64(n)*SectorSize != l.BootBytes {
		t.Errorf("MBR entry 1 covers %d+%d sectors, want the boot partition", s, n)
	}
	if e2[4] != 0xee || binary.LittleEndian.Uint32(e2[8:]) != 1 {
		t.Errorf("MBR entry 2: type %#x start %d, want 0xee from LBA 1", e2[4], binary.LittleEndian.Uint32(e2[8:]))
	}
	if string(b[512:520]) != "EFI PART" {
		t.Errorf("no GPT header at LBA 1")
	}
}

func TestEncodeGUID(t *testing.T) {
	g, err := encodeGUID("60c24cc1-f3f9-427a-8199-70c67e320001")
	if err != nil {
		t.Fatal(err)
	}
	// Mixed endian: first three groups little-endian.
	want := []byte{0xc1, 0x4c, 0xc2, 0x60, 0xf9, 0xf3, 0x7a, 0x42, 0x81, 0x99, 0x70, 0xc6, 0x7e, 0x32, 0x00, 0x01}
	if string(g[:]) != string(want) {
		t.Errorf("encodeGUID = % x, want % x", g, want)
	}
	for _, bad := range []string{"", "60c24cc1-f3f9-427a-8199", "zzc24cc1-f3f9-427a-8199-70c67e320001", "60c24cc1-f3f9-427a-8199-70c67e32000"} {
		if _, err := encodeGUID(bad); err == nil {
			t.Errorf("encodeGUID(%q) accepted", bad)
		}
	}
}

func TestDiskIDMatchesGokrazy(t *testing.T) {
	id := DiskIDForHost("box")
	// FNV-1a 32 of "box", as gokrazy derives it from the hostname.
	if got, want := id.PartGUID(4), "60c24cc1-f3f9-427a-8199-70c67e320004"; got != want {
		t.Errorf("PartGUID(4) = %s, want %s", got, want)
	}
	if got, want := id.RootArg(), "PARTUUID=60c24cc1-f3f9-427a-8199-70c67e320001/PARTNROFF=1"; got != want {
		t.Errorf("RootArg = %s, want %s", got, want)
	}
}

func TestLayoutValidate(t *testing.T) {
	for _, l := range []Layout{{}, {BootBytes: 8 * mib, RootBytes: mib, PermBytes: mib}, {BootBytes: 100*mib + 1, RootBytes: mib, PermBytes: mib}} {
		if err := l.Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted", l)
		}
	}
	if err := DefaultLayout().Validate(); err != nil {
		t.Error(err)
	}
}
