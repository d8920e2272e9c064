package images

import (
	"debug/elf"
	"fmt"
)

// CheckStatic verifies that path is an ELF executable for machine that needs
// no dynamic loader: the image has no libc, so a binary with a PT_INTERP
// program header or DT_NEEDED entries would fail to start on the box.
func CheckStatic(path string, machine elf.Machine) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("images: check static %s: %w", path, err)
	}
	defer f.Close()
	if f.Machine != machine {
		return fmt.Errorf("images: check static %s: built for %v, want %v", path, f.Machine, machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("images: check static %s: dynamically linked (has PT_INTERP)", path)
		}
	}
	libs, err := f.ImportedLibraries()
	if err == nil && len(libs) > 0 {
		return fmt.Errorf("images: check static %s: needs shared libraries %v", path, libs)
	}
	return nil
}
