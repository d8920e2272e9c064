package gokrazyslots

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Flags gokrazy's init and update handlers put on the command line.
const (
	flagTry    = "gokrazy.try_boot_inactive=1"
	flagSwitch = "gokrazy.switch_on_boot=1"
)

// Partition numbers of gokrazy's layout.
const (
	partBoot = 1
	partA    = 2
	partB    = 3
)

var rootArgRe = regexp.MustCompile(`^root=(PARTUUID=[0-9a-fA-F-]+)/PARTNROFF=([0-9]+)$`)

// errCmdline marks a cmdline.txt this package does not understand.
var errCmdline = errors.New("cmdline.txt")

// cmdline is the first line of cmdline.txt split into arguments, and the
// file's length, which an in-place edit on the FAT must keep.
type cmdline struct {
	args []string
	size int
}

// parseCmdline reads cmdline.txt: one line of arguments, a newline, slack.
// Only the PARTUUID/PARTNROFF root= form that gokrazy's rootdev understands
// and that the images package writes is accepted.
func parseCmdline(b []byte) (cmdline, error) {
	line, _, ok := bytes.Cut(b, []byte{'\n'})
	if !ok {
		return cmdline{}, fmt.Errorf("%w: no newline", errCmdline)
	}
	c := cmdline{args: strings.Fields(string(line)), size: len(b)}
	roots := 0
	for _, a := range c.args {
		if strings.HasPrefix(a, "root=") {
			roots++
		}
	}
	if roots != 1 {
		return cmdline{}, fmt.Errorf("%w: %d root= arguments, want 1", errCmdline, roots)
	}
	if _, err := c.root(); err != nil {
		return cmdline{}, err
	}
	return c, nil
}

func (c cmdline) rootIndex() int {
	for i, a := range c.args {
		if strings.HasPrefix(a, "root=") {
			return i
		}
	}
	return -1
}

// root is the root partition number (2 or 3) root= names.
func (c cmdline) root() (int, error) {
	a := c.args[c.rootIndex()]
	m := rootArgRe.FindStringSubmatch(a)
	if m == nil {
		return 0, fmt.Errorf("%w: %q is not root=PARTUUID=…/PARTNROFF=N", errCmdline, a)
	}
	off, err := strconv.Atoi(m[2])
	if err != nil || off+1 != partA && off+1 != partB {
		return 0, fmt.Errorf("%w: %q names no root partition (2 or 3)", errCmdline, a)
	}
	return off + 1, nil
}

// has reports whether flag is one of the arguments.
func (c cmdline) has(flag string) bool {
	for _, a := range c.args {
		if a == flag {
			return true
		}
	}
	return false
}

// with returns c booting root part, with the trial flag set or not; both
// gokrazy flags are dropped otherwise, so repeated updates do not eat the
// slack.
func (c cmdline) with(part int, trial bool) cmdline {
	i := c.rootIndex()
	m := rootArgRe.FindStringSubmatch(c.args[i])
	out := cmdline{size: c.size}
	for j, a := range c.args {
		switch {
		case j == i:
			out.args = append(out.args, fmt.Sprintf("root=%s/PARTNROFF=%d", m[1], part-1))
		case a == flagTry || a == flagSwitch:
		default:
			out.args = append(out.args, a)
		}
	}
	if trial {
		out.args = append(out.args, flagTry)
	}
	return out
}

// bytes renders the file at its old length: line, newline, spaces. The
// newline stays the first one, as the bootloader reads only the first line.
func (c cmdline) bytes() ([]byte, error) {
	line := strings.Join(c.args, " ")
	if len(line)+1 > c.size {
		return nil, fmt.Errorf("%w: %d bytes do not fit the file's %d", errCmdline, len(line)+1, c.size)
	}
	return []byte(line + "\n" + strings.Repeat(" ", c.size-len(line)-1)), nil
}
