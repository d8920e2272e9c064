package images

import (
	"debug/elf"
	"fmt"
)

// Target describes one kind of box the image is built for.
type Target struct {
	Name   string // "amd64" or "pi"
	GOARCH string
	// CC is the C cross compiler for cgo programs (boxd links SQLCipher).
	CC string
	// Machine is what every ELF binary in the image must be built for.
	Machine elf.Machine
	// RootType is the GPT type GUID of root A.
	RootType string
	// Consoles are the kernel console= arguments; the last is /dev/console.
	Consoles []string

	KernelModule   string
	FirmwareModule string // Pi only: start*.elf, fixup*.dat, bootcode.bin
	EEPROMModule   string // Pi only: EEPROM update files
}

// Targets are the boxes we build for.
var Targets = map[string]Target{
	"amd64": {
		Name: "amd64", GOARCH: "amd64", CC: "gcc", Machine: elf.EM_X86_64,
		RootType:     typeRootAMD64,
		Consoles:     []string{"tty1", "ttyS0,115200"},
		KernelModule: "github.com/gokrazy/kernel.amd64",
	},
	"pi": {
		Name: "pi", GOARCH: "arm64", CC: "aarch64-linux-gnu-gcc", Machine: elf.EM_AARCH64,
		RootType: typeRootARM64,
		// config.txt keeps the UART off: the pins give no console.
		Consoles:       []string{"tty1"},
		KernelModule:   "github.com/gokrazy/kernel.rpi",
		FirmwareModule: "github.com/gokrazy/firmware",
		EEPROMModule:   "github.com/gokrazy/rpi-eeprom",
	},
}

// LookupTarget returns the named target.
func LookupTarget(name string) (Target, error) {
	t, ok := Targets[name]
	if !ok {
		return Target{}, fmt.Errorf("images: unknown target %q (want amd64 or pi)", name)
	}
	return t, nil
}
