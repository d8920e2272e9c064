package images

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
)

// bootSources are the directories the boot partition is filled from.
type bootSources struct {
	KernelDir   string
	FirmwareDir string // Pi only
	EEPROMDir   string // Pi only
}

// Globs of what gokrazy puts on a Pi boot partition (its packer's choice,
// restated here): the firmware's blobs, the kernel and its device trees.
var (
	firmwareGlobs = []string{"*.bin", "*.dat", "*.elf"}
	kernelGlobs   = []string{"vmlinuz", "*.dtb", "overlays/*.dtbo", "overlays/overlay_map.dtb"}
)

// overlaysReadme marks a slot's overlays/ as its own (see os_prefix in the
// firmware's config.txt documentation).
const overlaysReadme = "Device tree overlays of this boot slot (os_prefix); see updates/tryboot.\n"

// kernelFile reports whether a boot file belongs to the kernel set that a
// slot directory holds: what kernelGlobs match.
func kernelFile(name string) bool {
	for _, g := range kernelGlobs {
		if ok, _ := path.Match("/"+g, name); ok {
			return true
		}
	}
	return false
}

// bootFiles lists the boot partition's files for target t.
func bootFiles(t Target, src bootSources, cmdline []byte, configTxt string) ([]BootFile, error) {
	files := []BootFile{{Name: "/cmdline.txt", Data: cmdline}}
	if t.FirmwareModule == "" {
		// amd64: a bootloader (qemu's direct kernel boot in tests) reads
		// vmlinuz and cmdline.txt from here.
		files = append(files, BootFile{Name: "/vmlinuz", Src: filepath.Join(src.KernelDir, "vmlinuz")})
		return files, checkSources(files)
	}
	for _, g := range []struct {
		dir   string
		globs []string
	}{{src.KernelDir, kernelGlobs}, {src.FirmwareDir, firmwareGlobs}} {
		for _, pat := range g.globs {
			ms, err := filepath.Glob(filepath.Join(g.dir, pat))
			if err != nil {
				return nil, fmt.Errorf("images: boot files: %w", err)
			}
			for _, m := range ms {
				rel, _ := filepath.Rel(g.dir, m)
				files = append(files, BootFile{Name: "/" + filepath.ToSlash(rel), Src: m})
			}
		}
	}
	// Slot A: the same kernel set under a/ for the Pi 4 and 5, with its own
	// overlays (the firmware takes overlays from the prefix only when
	// overlays/README is there).
	var slot []BootFile
	for _, f := range files {
		if f.Name == "/cmdline.txt" || kernelFile(f.Name) {
			slot = append(slot, BootFile{Name: "/" + SlotPrefixA + f.Name[1:], Data: f.Data, Src: f.Src})
		}
	}
	slot = append(slot, BootFile{Name: "/" + SlotPrefixA + "overlays/README", Data: []byte(overlaysReadme)})
	files = append(files, slot...)
	files = append(files, BootFile{Name: "/config.txt", Data: []byte(withSlots(configTxt))})
	eeprom, err := eepromFiles(src.EEPROMDir)
	if err != nil {
		return nil, err
	}
	files = append(files, eeprom...)
	return files, checkSources(files)
}

// eepromFiles stages the Pi 4 EEPROM update the way its bootloader expects:
// the newest pieeprom-*.bin as pieeprom.upd and vl805-*.bin as vl805.bin,
// each with a .sig holding its SHA-256, plus recovery.bin that applies them.
func eepromFiles(dir string) ([]BootFile, error) {
	var files []BootFile
	for _, e := range []struct{ glob, name string }{{"pieeprom-*.bin", "/pieeprom.upd"}, {"vl805-*.bin", "/vl805.bin"}} {
		ms, err := filepath.Glob(filepath.Join(dir, e.glob))
		if err != nil || len(ms) == 0 {
			return nil, fmt.Errorf("images: eeprom: no %s in %s", e.glob, dir)
		}
		sort.Strings(ms) // dates in the names sort chronologically
		newest := ms[len(ms)-1]
		b, err := os.ReadFile(newest)
		if err != nil {
			return nil, fmt.Errorf("images: eeprom: %w", err)
		}
		sig := fmt.Sprintf("%x\n", sha256.Sum256(b))
		files = append(files,
			BootFile{Name: e.name, Data: b},
			BootFile{Name: e.name[:len(e.name)-len(filepath.Ext(e.name))] + ".sig", Data: []byte(sig)})
	}
	files = append(files, BootFile{Name: "/recovery.bin", Src: filepath.Join(dir, "recovery.bin")})
	return files, nil
}

func checkSources(files []BootFile) error {
	seen := map[string]bool{}
	for _, f := range files {
		if seen[f.Name] {
			return fmt.Errorf("images: boot files: %s twice", f.Name)
		}
		seen[f.Name] = true
		if f.Data == nil {
			if _, err := os.Stat(f.Src); err != nil {
				return fmt.Errorf("images: boot files: %w", err)
			}
		}
	}
	return nil
}

// BootFiles lists the boot partition's files for target t as Build does,
// from the kernel, firmware and EEPROM module directories: tests of the
// slot drivers build their boot FAT fixtures with it.
func BootFiles(t Target, kernelDir, firmwareDir, eepromDir string, cmdline []byte, configTxt string) ([]BootFile, error) {
	return bootFiles(t, bootSources{KernelDir: kernelDir, FirmwareDir: firmwareDir, EEPROMDir: eepromDir}, cmdline, configTxt)
}
