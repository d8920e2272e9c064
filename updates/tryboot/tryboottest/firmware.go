package tryboottest

import (
	"bytes"
	"fmt"
	"strings"
)

// Model is a board, as config.txt's model filters name it.
type Model string

// Boards. Pi 3 firmware has no tryboot (it came with the Pi 4's EEPROM
// bootloader), so Resolve ignores the flag there.
const (
	Pi3 Model = "pi3"
	Pi4 Model = "pi4"
	Pi5 Model = "pi5"
)

// dtbs are the device trees the firmware loads for each model.
var dtbs = map[Model]string{
	Pi3: "bcm2710-rpi-3-b.dtb",
	Pi4: "bcm2711-rpi-4-b.dtb",
	Pi5: "bcm2712-rpi-5-b.dtb",
}

// Boot is what the firmware would start.
type Boot struct {
	Config  string // config.txt or tryboot.txt
	Prefix  string // os_prefix in effect after the viability check
	Kernel  []byte
	DTB     []byte
	Cmdline string // first line of cmdline.txt, trimmed
}

// Resolve plays the firmware of model on a boot FAT read through read
// (paths like "/config.txt"). With tryboot set on a Pi 4 or 5 it reads
// tryboot.txt instead of config.txt; the documentation does not say what
// happens when tryboot.txt is missing, so that is an error here: a slot
// driver must never set the flag without one.
func Resolve(read func(string) ([]byte, error), model Model, tryboot bool) (Boot, error) {
	dtb, ok := dtbs[model]
	if !ok {
		return Boot{}, fmt.Errorf("firmware: unknown model %q", model)
	}
	b := Boot{Config: "config.txt"}
	if tryboot && model != Pi3 {
		b.Config = "tryboot.txt"
	}
	cfg, err := read("/" + b.Config)
	if err != nil {
		return Boot{}, fmt.Errorf("firmware: %s: %w", b.Config, err)
	}
	set := parseConfig(cfg, model)
	kernel := set["kernel"]
	if kernel == "" {
		kernel = "kernel8.img"
	}
	cmdline := set["cmdline"]
	if cmdline == "" {
		cmdline = "cmdline.txt"
	}
	if dt := set["device_tree"]; dt != "" {
		dtb = dt
	}
	b.Prefix = set["os_prefix"]
	exists := func(p string) bool { _, err := read(join(b.Prefix, p)); return err == nil }
	if b.Prefix != "" && (!exists(kernel) || !exists(dtb)) {
		b.Prefix = "" // not viable: the firmware ignores the prefix
	}
	if b.Kernel, err = read(join(b.Prefix, kernel)); err != nil {
		return Boot{}, fmt.Errorf("firmware: kernel: %w", err)
	}
	if b.DTB, err = read(join(b.Prefix, dtb)); err != nil {
		return Boot{}, fmt.Errorf("firmware: device tree: %w", err)
	}
	raw, err := read(join(b.Prefix, cmdline))
	if err != nil {
		return Boot{}, fmt.Errorf("firmware: cmdline: %w", err)
	}
	line, _, _ := bytes.Cut(raw, []byte{'\n'})
	b.Cmdline = strings.TrimSpace(string(line))
	return b, nil
}

// join applies the prefix unless p is absolute on the boot partition.
func join(prefix, p string) string {
	if strings.HasPrefix(p, "/") {
		return p
	}
	return "/" + prefix + p
}

// parseConfig returns the settings that apply to model: key=value lines
// outside comments, in sections whose filter matches; the last one wins.
func parseConfig(b []byte, model Model) map[string]string {
	set := map[string]string{}
	on := true
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]") {
			switch f := l[1 : len(l)-1]; f {
			case "all":
				on = true
			case "none":
				on = false
			default:
				on = Model(f) == model
			}
			continue
		}
		if k, v, ok := strings.Cut(l, "="); ok && on {
			set[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return set
}
