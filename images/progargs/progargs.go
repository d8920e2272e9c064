package progargs

import (
	"fmt"
	"path"
	"strings"
)

// Dir holds one file per program that takes arguments: cmd/boxinit starts
// /user/NAME (or /gokrazy/NAME) with the lines of Dir/NAME as arguments.
const Dir = "/etc/boxinit/args"

// Path is where the arguments of the program installed at dest live.
func Path(dest string) string { return path.Join(Dir, path.Base(dest)) }

// Format encodes arguments for Path: one per line. An argument that is
// empty or holds a line break could not be read back, so it is an error; so
// is -dev, which would let boxd seal its key in software: an image never
// runs a dev box.
func Format(args []string) (string, error) {
	var b strings.Builder
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, "\n\r\x00") {
			return "", fmt.Errorf("progargs: argument %q: empty or holds a line break", a)
		}
		if IsDevFlag(a) {
			return "", fmt.Errorf("progargs: argument %q: dev mode (software key sealer) never goes into an image", a)
		}
		b.WriteString(a)
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// Parse decodes what Format wrote. Blank lines are skipped.
func Parse(data string) []string {
	var out []string
	for _, l := range strings.Split(data, "\n") {
		if l = strings.TrimSuffix(l, "\r"); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// IsDevFlag matches boxd's -dev in every spelling the flag package accepts
// (-dev, --dev, -dev=true, ...).
func IsDevFlag(a string) bool {
	if !strings.HasPrefix(a, "-") {
		return false
	}
	name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
	return name == "dev"
}
