package tryboot

import (
	"fmt"
	"io"

	"github.com/chatsecure/box/images"
)

// payloadSlotDir is where a release's boot FAT holds its kernel set for
// the Pi 4/5: the image builder always ships it as slot A.
const payloadSlotDir = "/a"

// payload is a release's boot FAT (a bundle's boot payload) as MarkTrial
// copies it: config.txt and the files of a/.
type payload struct {
	fs     *images.FAT16
	config string
	files  []payloadFile
}

// openPayload reads and checks a boot payload without writing anything.
func openPayload(r io.ReaderAt) (*payload, error) {
	fs, err := images.OpenFAT16(r, 0)
	if err != nil {
		return nil, fmt.Errorf("tryboot: boot payload: %w", err)
	}
	cfg, err := fs.ReadFile("/" + configTxt)
	if err != nil {
		return nil, fmt.Errorf("tryboot: boot payload: %w", err)
	}
	if p, err := images.OSPrefix(string(cfg)); err != nil || p != images.SlotPrefixA {
		return nil, fmt.Errorf("tryboot: boot payload's config.txt selects %q, want %s (%v)", p, images.SlotPrefixA, err)
	}
	files, err := slotFiles(fs, payloadSlotDir)
	if err != nil {
		return nil, fmt.Errorf("tryboot: boot payload %s: %w", payloadSlotDir, err)
	}
	var kernel, cmdline bool
	for _, f := range files {
		kernel = kernel || f.rel == "vmlinuz"
		cmdline = cmdline || f.rel == cmdlineTxt
	}
	if !kernel || !cmdline {
		return nil, fmt.Errorf("tryboot: boot payload %s lacks vmlinuz or cmdline.txt", payloadSlotDir)
	}
	return &payload{fs: fs, config: string(cfg), files: files}, nil
}

// CheckBootPayload reports whether r, a boot FAT, is one a Pi 4/5 with
// tryboot slots can take: config.txt selecting a/ and a kernel set there.
// boxbuild runs it before it bundles a pi build.
func CheckBootPayload(r io.ReaderAt) error {
	_, err := openPayload(r)
	return err
}
