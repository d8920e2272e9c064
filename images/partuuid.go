package images

import (
	"fmt"
	"hash/fnv"
)

// gokrazyGUIDPrefix starts every partition GUID gokrazy writes; keeping it
// makes our images recognisable to gokrazy's tooling and documentation.
const gokrazyGUIDPrefix = "60c24cc1-f3f9-427a-8199"

// DiskID is the 32-bit value gokrazy derives from the hostname (FNV-1a) and
// embeds in every partition GUID.
type DiskID uint32

// DiskIDForHost derives the DiskID the way gokrazy does, so a box keeps the
// same PARTUUIDs across image builds.
func DiskIDForHost(hostname string) DiskID {
	h := fnv.New32a()
	h.Write([]byte(hostname))
	return DiskID(h.Sum32())
}

// PartGUID is the GUID of partition n (0 is the disk GUID).
func (d DiskID) PartGUID(n int) string {
	return fmt.Sprintf("%s-%08x00%02x", gokrazyGUIDPrefix, uint32(d), n)
}

// RootArg is the kernel's root= value for root A. gokrazy's rootdev package
// parses PARTUUID=<guid of partition 1>/PARTNROFF=<root-1> and its update
// handler switches to B by rewriting the offset.
func (d DiskID) RootArg() string {
	return fmt.Sprintf("PARTUUID=%s/PARTNROFF=1", d.PartGUID(1))
}
