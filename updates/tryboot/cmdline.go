package tryboot

import (
	"bytes"
	"fmt"
	"regexp"
)

// rootArgRe is the root= form images writes and gokrazy's rootdev reads:
// the boot partition's PARTUUID and the offset of the root partition.
var rootArgRe = regexp.MustCompile(`(^|\s)root=PARTUUID=([0-9a-fA-F-]+)/PARTNROFF=([0-9]+)(\s|$)`)

// slotCmdline returns the payload's cmdline.txt with root= naming the
// slot's root partition (PARTNROFF 1 for A, 2 for B) on this disk: the
// PARTUUID comes from the running slot's cmdline.txt, so a payload built
// for another host name still boots from this disk. Only the first line
// is looked at (the firmware reads no more); the rest is kept.
func slotCmdline(payload, running []byte, slot string) ([]byte, error) {
	uuid, _, err := rootArg(running)
	if err != nil {
		return nil, fmt.Errorf("running cmdline.txt: %w", err)
	}
	if _, _, err := rootArg(payload); err != nil {
		return nil, fmt.Errorf("payload cmdline.txt: %w", err)
	}
	line, rest, _ := bytes.Cut(payload, []byte{'\n'})
	off := "1"
	if slot == "B" {
		off = "2"
	}
	m := rootArgRe.FindSubmatchIndex(line)
	out := append([]byte{}, line[:m[4]]...)
	out = append(out, uuid...)
	out = append(out, "/PARTNROFF="...)
	out = append(out, off...)
	out = append(out, line[m[7]:]...)
	out = append(out, '\n')
	return append(out, rest...), nil
}

// rootArg finds the single root=PARTUUID=…/PARTNROFF=N on the first line.
func rootArg(b []byte) (uuid, off string, err error) {
	line, _, ok := bytes.Cut(b, []byte{'\n'})
	if !ok {
		return "", "", fmt.Errorf("no newline")
	}
	ms := rootArgRe.FindAllSubmatch(line, -1)
	if len(ms) != 1 || bytes.Count(line, []byte("root=")) != 1 {
		return "", "", fmt.Errorf("want exactly one root=PARTUUID=…/PARTNROFF=N, found %d in %q", len(ms), line)
	}
	return string(ms[0][2]), string(ms[0][3]), nil
}
