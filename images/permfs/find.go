package permfs

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

var gptRootRe = regexp.MustCompile(`(?:^|\s)root=PARTUUID=([0-9a-fA-F-]{36})/PARTNROFF=\d+(?:\s|$)`)

// FirstPartitionGUID extracts the GUID of partition 1 from a kernel command
// line in gokrazy's root=PARTUUID=<guid>/PARTNROFF=<n> form.
func FirstPartitionGUID(cmdline string) (string, error) {
	m := gptRootRe.FindStringSubmatch(cmdline)
	if m == nil {
		return "", fmt.Errorf("permfs: cmdline has no root=PARTUUID=<guid>/PARTNROFF=<n>")
	}
	return strings.ToLower(m[1]), nil
}

// firstGPTGUID reads the GUID of the first GPT entry (at LBA 2, where gokrazy
// and package images put the entries).
func firstGPTGUID(r io.ReaderAt) (string, error) {
	hdr := make([]byte, 8)
	if _, err := r.ReadAt(hdr, 512); err != nil {
		return "", err
	}
	if string(hdr) != "EFI PART" {
		return "", fmt.Errorf("no GPT")
	}
	g := make([]byte, 16)
	if _, err := r.ReadAt(g, 2*512+16); err != nil {
		return "", err
	}
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x",
		binary.LittleEndian.Uint32(g[0:4]), binary.LittleEndian.Uint16(g[4:6]),
		binary.LittleEndian.Uint16(g[6:8]), g[8:10], g[10:16]), nil
}

// FindDisk returns the disk (devDir/<name> for each name in sysBlock) whose
// first GPT partition has GUID guid.
func FindDisk(sysBlock, devDir, guid string) (string, error) {
	ents, err := os.ReadDir(sysBlock)
	if err != nil {
		return "", fmt.Errorf("permfs: find disk: %w", err)
	}
	for _, e := range ents {
		dev := filepath.Join(devDir, e.Name())
		f, err := os.Open(dev)
		if err != nil {
			continue
		}
		g, err := firstGPTGUID(f)
		f.Close()
		if err == nil && g == strings.ToLower(guid) {
			return dev, nil
		}
	}
	return "", fmt.Errorf("permfs: no disk in %s has a first partition %s", sysBlock, guid)
}

// PartitionPath names partition n of disk the way Linux does: /dev/vda4,
// /dev/mmcblk0p4, /dev/nvme0n1p4.
func PartitionPath(disk string, n int) string {
	if last := disk[len(disk)-1]; last >= '0' && last <= '9' {
		return fmt.Sprintf("%sp%d", disk, n)
	}
	return fmt.Sprintf("%s%d", disk, n)
}

// blankBytes is how much of a partition must be zero for it to count as blank.
const blankBytes = 1 << 20

// Blank reports whether the first MiB of r (or all of it, if smaller) is zero.
func Blank(r io.ReaderAt) (bool, error) {
	buf := make([]byte, blankBytes)
	n, err := r.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return false, fmt.Errorf("permfs: blank: %w", err)
	}
	if n == 0 {
		return false, fmt.Errorf("permfs: blank: partition is empty")
	}
	return bytes.Count(buf[:n], []byte{0}) == n, nil
}
