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

// Pi45 reports whether the device tree's compatible list names a BCM2711
// (Pi 4, 400, CM4) or BCM2712 (Pi 5, 500, CM5): the boards with tryboot.
func Pi45(dt string) bool {
	compat, err := os.ReadFile(filepath.Join(dt, "compatible"))
	if err != nil {
		return false
	}
	for _, c := range bytes.Split(compat, []byte{0}) {
		if string(c) == "brcm,bcm2711" || string(c) == "brcm,bcm2712" {
			return true
		}
	}
	return false
}

// Detect reports whether the running system is a Pi 4 or 5 whose firmware
// booted a slot directory (chosen/os_prefix is a/ or b/). A Pi 3 boots the
// FAT's root files and stays with gokrazyslots; so would a Pi 4 flashed
// before the slot layout, which the appliance refuses instead (README).
func Detect(dt string) bool {
	prefix, err := os.ReadFile(filepath.Join(dt, "chosen", "os_prefix"))
	if err != nil {
		return false
	}
	p := strings.TrimRight(string(prefix), "\x00")
	return Pi45(dt) && (p == images.SlotPrefixA || p == images.SlotPrefixB)
}
