package images

import (
	"fmt"
	"os"
	"strings"
)

// The Pi 4 and 5 boot their kernel set (kernel, cmdline.txt, device trees,
// overlays) from a slot directory on the one boot FAT, chosen by
// config.txt's os_prefix; tryboot.txt, which the firmware reads instead of
// config.txt for one boot after `reboot "0 tryboot"`, names the other slot.
// Slot A is a/ with root= partition 2, slot B is b/ with partition 3.
// The image ships slot A; updates/tryboot writes b/ (and later a/ again).
// Older boards (Pi 3) ignore the [pi4]/[pi5] sections and boot the kernel
// set at the FAT's root, as before.
const (
	SlotPrefixA = "a/"
	SlotPrefixB = "b/"
)

// ConfigTxtBlock is what config.txt and tryboot.txt are padded to (a
// multiple of): switching slots then rewrites the file in place at the same
// length, one sector while the file fits in one.
const ConfigTxtBlock = 512

// configLineMax keeps padding lines below the firmware's 80-character limit.
const configLineMax = 64

// slotSection selects slot A on the boards with tryboot.
const slotSection = `
# A/B boot files (updates/tryboot): Pi 4 and 5 boot the kernel set under
# os_prefix; tryboot.txt names the other slot for one trial boot.
[pi4]
os_prefix=a/
[pi5]
os_prefix=a/
[all]
`

// withSlots appends the slot section to a rendered config.txt and pads it.
func withSlots(configTxt string) string {
	return PadConfigTxt(strings.TrimRight(configTxt, "\n") + "\n" + slotSection)
}

// PadConfigTxt pads s with comment lines to a multiple of ConfigTxtBlock.
func PadConfigTxt(s string) string {
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	pad := (ConfigTxtBlock - len(s)%ConfigTxtBlock) % ConfigTxtBlock
	var b strings.Builder
	b.WriteString(s)
	for pad > 0 {
		n := min(pad, configLineMax)
		if n == 1 {
			// A lone "\n" is an empty line; never leave less than "#\n".
			b.WriteString("\n")
			break
		}
		if rest := pad - n; rest == 1 {
			n-- // leave two bytes for a last "#\n"
		}
		b.WriteString("#" + strings.Repeat(" ", n-2) + "\n")
		pad -= n
	}
	return b.String()
}

// isSlotPrefix reports whether line sets os_prefix to a slot directory.
func slotPrefixLine(line string) (string, bool) {
	v, ok := strings.CutPrefix(strings.TrimSpace(line), "os_prefix=")
	if !ok {
		return "", false
	}
	return v, v == SlotPrefixA || v == SlotPrefixB
}

// OSPrefix returns the slot prefix config.txt (or tryboot.txt) selects.
// Every os_prefix line must name the same slot directory.
func OSPrefix(configTxt string) (string, error) {
	found := ""
	for _, l := range strings.Split(configTxt, "\n") {
		v, slot := slotPrefixLine(l)
		if strings.HasPrefix(strings.TrimSpace(l), "os_prefix=") && !slot {
			return "", fmt.Errorf("images: config.txt: os_prefix=%s is not a slot directory (%s or %s)", v, SlotPrefixA, SlotPrefixB)
		}
		if !slot {
			continue
		}
		if found != "" && v != found {
			return "", fmt.Errorf("images: config.txt: os_prefix names both %s and %s", found, v)
		}
		found = v
	}
	if found == "" {
		return "", fmt.Errorf("images: config.txt has no os_prefix=%s or %s line (not a slot layout)", SlotPrefixA, SlotPrefixB)
	}
	return found, nil
}

// SetOSPrefix points every slot os_prefix line at prefix. The result has
// the same length: the two prefixes are as long as each other.
func SetOSPrefix(configTxt, prefix string) (string, error) {
	if prefix != SlotPrefixA && prefix != SlotPrefixB {
		return "", fmt.Errorf("images: os_prefix %q is not a slot directory", prefix)
	}
	if _, err := OSPrefix(configTxt); err != nil {
		return "", err
	}
	lines := strings.Split(configTxt, "\n")
	for i, l := range lines {
		if v, ok := slotPrefixLine(l); ok {
			lines[i] = strings.Replace(l, "os_prefix="+v, "os_prefix="+prefix, 1)
		}
	}
	return strings.Join(lines, "\n"), nil
}

// slotCluster is a cluster size no smaller than mkfs.fat picks for the
// Pi's boot FAT, to estimate what the files take up.
const slotCluster = 8 << 10

// checkSlotRoom makes sure the boot FAT has room for a second slot
// directory as large as a/ (updates/tryboot writes b/ there).
func checkSlotRoom(files []BootFile, bootBytes int64) error {
	var total, slot int64
	for _, f := range files {
		n := int64(len(f.Data))
		if f.Data == nil {
			st, err := os.Stat(f.Src)
			if err != nil {
				return fmt.Errorf("images: boot files: %w", err)
			}
			n = st.Size()
		}
		n = (n + slotCluster - 1) / slotCluster * slotCluster
		total += n
		if strings.HasPrefix(f.Name, "/"+SlotPrefixA) {
			slot += n
		}
	}
	if slot > 0 && total+slot > bootBytes*95/100 {
		return fmt.Errorf("images: boot partition of %d MiB holds %d MiB of files and needs %d MiB more for slot %s", bootBytes/mib, total/mib, slot/mib, SlotPrefixB)
	}
	return nil
}
