package gokrazyslots

import (
	"strings"
	"testing"
)

const goodLine = "console=ttyS0,115200 root=PARTUUID=60c24cc1-f3f9-427a-8199-a5b2c3d40001/PARTNROFF=1 ro init=/gokrazy/init\n"

// FuzzCmdline: whatever cmdline.txt holds, parsing never panics, and an
// accepted file re-rendered keeps its length, one newline before the
// slack, and the root and flag it was asked for.
func FuzzCmdline(f *testing.F) {
	f.Add([]byte(goodLine + strings.Repeat(" ", 64)))
	f.Add([]byte(strings.Replace(goodLine, "\n", " gokrazy.try_boot_inactive=1\n", 1) + strings.Repeat(" ", 36)))
	f.Add([]byte("root=PARTUUID=ab/PARTNROFF=2 gokrazy.switch_on_boot=1       \n"))
	f.Add([]byte("root=/dev/sda2\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseCmdline(b)
		if err != nil {
			return
		}
		if _, err := c.root(); err != nil {
			t.Fatalf("accepted %q but root() fails: %v", b, err)
		}
		for _, part := range []int{partA, partB} {
			for _, trial := range []bool{false, true} {
				out, err := c.with(part, trial).bytes()
				if err != nil {
					continue // does not fit: refused, never truncated
				}
				if len(out) != len(b) {
					t.Fatalf("length %d, want %d", len(out), len(b))
				}
				c2, err := parseCmdline(out)
				if err != nil {
					t.Fatalf("re-parse %q: %v", out, err)
				}
				if r, _ := c2.root(); r != part || c2.has(flagTry) != trial || c2.has(flagSwitch) {
					t.Fatalf("%q: root %d try %v, want %d %v", out, r, c2.has(flagTry), part, trial)
				}
			}
		}
	})
}
