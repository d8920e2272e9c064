package tryboot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/chatsecure/box/images"
)

// DeviceTree is where Linux shows the firmware's device tree.
const DeviceTree = "/proc/device-tree"

// trybootFlag reads chosen/bootloader/tryboot, a 32-bit big-endian
// integer the firmware sets to 1 when the tryboot flag was set at boot. A
// missing property reads as not set.
func trybootFlag(dt string) (bool, error) {
	b, err := os.ReadFile(filepath.Join(dt, "chosen", "bootloader", "tryboot"))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("tryboot: device tree: %w", err)
	}
	return parseFlag(b)
}

func parseFlag(b []byte) (bool, error) {
	if len(b) != 4 {
		return false, fmt.Errorf("tryboot: device tree: tryboot property is %d bytes, want 4", len(b))
	}
	return binary.BigEndian.Uint32(b) != 0, nil
}

// Detect reports whether the running system is a Pi 4 or 5 (compatible
// names brcm,bcm2711 or brcm,bcm2712) whose firmware booted a slot
// directory (chosen/os_prefix is a/ or b/). A Pi 3, or a Pi 4 flashed with
// an image from before the slot layout, boots the FAT's root files and
// stays with gokrazyslots.
func Detect(dt string) bool {
	compat, err := os.ReadFile(filepath.Join(dt, "compatible"))
	if err != nil {
		return false
	}
	pi45 := false
	for _, c := range bytes.Split(compat, []byte{0}) {
		pi45 = pi45 || string(c) == "brcm,bcm2711" || string(c) == "brcm,bcm2712"
	}
	prefix, err := os.ReadFile(filepath.Join(dt, "chosen", "os_prefix"))
	if err != nil {
		return false
	}
	p := strings.TrimRight(string(prefix), "\x00")
	return pi45 && (p == images.SlotPrefixA || p == images.SlotPrefixB)
}
