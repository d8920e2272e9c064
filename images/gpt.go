package images

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
)

// GPT partition type GUIDs (UEFI spec and the Discoverable Partitions spec).
const (
	typeEFISystem  = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
	typeLinuxData  = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
	typeRootAMD64  = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"
	typeRootARM64  = "B921B045-1DF0-41C3-AF44-4C6F280D3FAE"
	mbrTypeFAT32LB = 0x0c
	mbrTypeGPTProt = 0xee
)

var partitionNames = [4]string{"boot", "root-a", "root-b", "perm"}

// encodeGUID turns the textual GUID into its on-disk form: the first three
// groups little-endian, the last two as bytes (UEFI spec appendix A).
func encodeGUID(s string) ([16]byte, error) {
	var out [16]byte
	parts := strings.Split(s, "-")
	if len(parts) != 5 || len(parts[0]) != 8 || len(parts[1]) != 4 || len(parts[2]) != 4 || len(parts[3]) != 4 || len(parts[4]) != 12 {
		return out, fmt.Errorf("images: guid %q: want 8-4-4-4-12 hex digits", s)
	}
	a, err1 := strconv.ParseUint(parts[0], 16, 32)
	b, err2 := strconv.ParseUint(parts[1], 16, 16)
	c, err3 := strconv.ParseUint(parts[2], 16, 16)
	if err := firstErr(err1, err2, err3); err != nil {
		return out, fmt.Errorf("images: guid %q: %w", s, err)
	}
	binary.LittleEndian.PutUint32(out[0:4], uint32(a))
	binary.LittleEndian.PutUint16(out[4:6], uint16(b))
	binary.LittleEndian.PutUint16(out[6:8], uint16(c))
	tail, err := hex.DecodeString(parts[3] + parts[4])
	if err != nil {
		return out, fmt.Errorf("images: guid %q: %w", s, err)
	}
	copy(out[8:], tail)
	return out, nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

type gptEntry struct {
	TypeGUID   [16]byte
	GUID       [16]byte
	FirstLBA   uint64
	LastLBA    uint64
	Attributes uint64
	Name       [72]byte
}

type gptHeader struct {
	Signature      [8]byte
	Revision       uint32
	HeaderSize     uint32
	HeaderCRC      uint32
	Reserved       uint32
	CurrentLBA     uint64
	BackupLBA      uint64
	FirstUsableLBA uint64
	LastUsableLBA  uint64
	DiskGUID       [16]byte
	EntriesLBA     uint64
	EntriesCount   uint32
	EntrySize      uint32
	EntriesCRC     uint32
}

// WritePartitionTable writes the hybrid MBR and both GPT copies for layout l
// onto a disk of l.DiskSectors() sectors. rootType is the GPT type GUID of
// root A (architecture specific, so systemd-style tools recognise it).
//
// The MBR holds the boot FAT as an active type 0x0c entry, which is all the
// Raspberry Pi firmware reads, and a 0xee entry covering the GPT so Linux
// treats the disk as GPT. gokrazy's GPT reader expects the entries at LBA 2.
func WritePartitionTable(w io.WriterAt, l Layout, id DiskID, rootType string) error {
	if err := l.Validate(); err != nil {
		return err
	}
	ps := l.Partitions()
	lastLBA := uint64(l.DiskSectors() - 1)

	mbr := make([]byte, SectorSize)
	putMBREntry(mbr[446:], 0x80, mbrTypeFAT32LB, uint32(ps[0].FirstLBA), uint32(ps[0].LastLBA-ps[0].FirstLBA+1))
	putMBREntry(mbr[462:], 0x00, mbrTypeGPTProt, 1, uint32(ps[0].FirstLBA-1))
	mbr[510], mbr[511] = 0x55, 0xaa
	if _, err := w.WriteAt(mbr, 0); err != nil {
		return fmt.Errorf("images: write mbr: %w", err)
	}

	var entries bytes.Buffer
	for i, p := range ps {
		typ := typeLinuxData
		switch i {
		case 0:
			typ = typeEFISystem
		case 1:
			typ = rootType
		}
		tg, err := encodeGUID(typ)
		if err != nil {
			return err
		}
		g, err := encodeGUID(id.PartGUID(p.Number))
		if err != nil {
			return err
		}
		e := gptEntry{TypeGUID: tg, GUID: g, FirstLBA: uint64(p.FirstLBA), LastLBA: uint64(p.LastLBA)}
		for j, u := range utf16.Encode([]rune(partitionNames[i])) {
			binary.LittleEndian.PutUint16(e.Name[2*j:], u)
		}
		binary.Write(&entries, binary.LittleEndian, e) // bytes.Buffer cannot fail
	}
	entries.Write(make([]byte, (128-len(ps))*128))
	entriesCRC := crc32.ChecksumIEEE(entries.Bytes())

	diskGUID, err := encodeGUID(id.PartGUID(0))
	if err != nil {
		return err
	}
	for _, primary := range []bool{true, false} {
		h := gptHeader{
			Signature:      [8]byte{'E', 'F', 'I', ' ', 'P', 'A', 'R', 'T'},
			Revision:       0x00010000,
			HeaderSize:     92,
			CurrentLBA:     1,
			BackupLBA:      lastLBA,
			FirstUsableLBA: 2 + gptEntriesSectors,
			LastUsableLBA:  lastLBA - gptEntriesSectors - 1,
			DiskGUID:       diskGUID,
			EntriesLBA:     2,
			EntriesCount:   128,
			EntrySize:      128,
			EntriesCRC:     entriesCRC,
		}
		if !primary {
			h.CurrentLBA, h.BackupLBA = lastLBA, 1
			h.EntriesLBA = lastLBA - gptEntriesSectors
		}
		var hb bytes.Buffer
		binary.Write(&hb, binary.LittleEndian, h)
		h.HeaderCRC = crc32.ChecksumIEEE(hb.Bytes())
		hb.Reset()
		binary.Write(&hb, binary.LittleEndian, h)
		hb.Write(make([]byte, SectorSize-hb.Len()))
		if _, err := w.WriteAt(hb.Bytes(), int64(h.CurrentLBA)*SectorSize); err != nil {
			return fmt.Errorf("images: write gpt header: %w", err)
		}
		if _, err := w.WriteAt(entries.Bytes(), int64(h.EntriesLBA)*SectorSize); err != nil {
			return fmt.Errorf("images: write gpt entries: %w", err)
		}
	}
	return nil
}

// putMBREntry fills one 16-byte MBR partition entry. The CHS fields hold the
// "use LBA" marker, as all our disks exceed CHS addressing anyway.
func putMBREntry(b []byte, status, typ byte, first, count uint32) {
	b[0] = status
	copy(b[1:4], []byte{0xfe, 0xff, 0xff})
	b[4] = typ
	copy(b[5:8], []byte{0xfe, 0xff, 0xff})
	binary.LittleEndian.PutUint32(b[8:], first)
	binary.LittleEndian.PutUint32(b[12:], count)
}
