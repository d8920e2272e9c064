package images

import (
	"fmt"
	"regexp"
	"strings"
)

// cmdlineSlack is how many spaces follow the newline in cmdline.txt. gokrazy
// edits the file in place and cannot grow it: /update/testboot replaces "\n"
// with " gokrazy.try_boot_inactive=1\n" (28 bytes longer) and keeps the old
// file length, so without slack behind the newline the flag would be cut off.
// The kernel treats the trailing spaces as whitespace.
const cmdlineSlack = 64

var rootArgRe = regexp.MustCompile(`(^|\s)root=\S+`)

// Cmdline builds the kernel command line (without the trailing newline) from
// the kernel package's cmdline.txt: the root= argument is replaced by the
// PARTUUID form gokrazy's rootdev parses, consoles come first, extra
// arguments are appended. root= is never the last argument, so gokrazy's
// `root=[^ ]+` rewrite cannot swallow the newline.
func Cmdline(base string, rootArg string, consoles []string, extra []string) (string, error) {
	base = strings.TrimSpace(base)
	if !rootArgRe.MatchString(base) {
		return "", fmt.Errorf("images: cmdline: base %q has no root= argument", base)
	}
	base = rootArgRe.ReplaceAllString(base, "${1}root="+rootArg)
	var args []string
	for _, c := range consoles {
		args = append(args, "console="+c)
	}
	args = append(args, strings.Fields(base)...)
	args = append(args, extra...)
	for _, a := range args {
		if strings.ContainsAny(a, "\n\r") {
			return "", fmt.Errorf("images: cmdline: argument %q contains a line break", a)
		}
	}
	if strings.HasPrefix(args[len(args)-1], "root=") {
		args = append(args, "rootwait")
	}
	return strings.Join(args, " "), nil
}

// CmdlineFile is the content of cmdline.txt: the command line, "\n", and the
// slack gokrazy's in-place edits need.
func CmdlineFile(cmdline string) []byte {
	return []byte(cmdline + "\n" + strings.Repeat(" ", cmdlineSlack))
}

// ParseCmdlineFile returns the command line a bootloader passes to the kernel:
// the first line of cmdline.txt, as the Pi firmware treats it.
func ParseCmdlineFile(b []byte) (string, error) {
	line, _, ok := strings.Cut(string(b), "\n")
	if !ok {
		return "", fmt.Errorf("images: cmdline.txt has no newline")
	}
	line = strings.TrimSpace(line)
	if line == "" {
		return "", fmt.Errorf("images: cmdline.txt is empty")
	}
	return line, nil
}
