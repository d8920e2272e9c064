package images

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

const amd64Base = "root=/dev/sda2 ro init=/gokrazy/init panic=10 oops=panic rootdelay=10 pci=nommconf\n"

func TestCmdline(t *testing.T) {
	id := DiskIDForHost("box")
	got, err := Cmdline(amd64Base, id.RootArg(), []string{"tty1", "ttyS0,115200"}, []string{"x=1"})
	if err != nil {
		t.Fatal(err)
	}
	want := "console=tty1 console=ttyS0,115200 root=" + id.RootArg() + " ro init=/gokrazy/init panic=10 oops=panic rootdelay=10 pci=nommconf x=1"
	if got != want {
		t.Errorf("Cmdline =\n%q\nwant\n%q", got, want)
	}
	if strings.Contains(got, "/dev/sda2") {
		t.Errorf("old root= kept: %q", got)
	}
	// root= last gets a follower so gokrazy's root=[^ ]+ cannot eat "\n".
	got, err = Cmdline("init=/gokrazy/init root=/dev/mmcblk0p2", id.RootArg(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(strings.Fields(got)[len(strings.Fields(got))-1], "root=") {
		t.Errorf("root= is the last argument: %q", got)
	}
	for _, bad := range [][2]string{{"init=/gokrazy/init", "x"}, {"root=/dev/sda2", "y\nz"}} {
		if _, err := Cmdline(bad[0], id.RootArg(), nil, []string{bad[1]}); err == nil {
			t.Errorf("Cmdline(%q, extra %q) accepted", bad[0], bad[1])
		}
	}
}

// gokrazyEdit does to cmdline.txt what gokrazy's update handlers do: replace
// in place, keep the file length, pad a shorter result with spaces before
// each newline (gokrazy's update.go, restated).
func gokrazyEdit(b []byte, replace func([]byte) []byte) []byte {
	rep := replace(b)
	if pad := len(b) - len(rep); pad > 0 {
		rep = bytes.ReplaceAll(rep, []byte{'\n'}, append(bytes.Repeat([]byte{' '}, pad), '\n'))
	}
	out := append([]byte(nil), b...)
	copy(out, rep) // bytes past the old length are lost
	return out
}

func TestCmdlineFileSurvivesGokrazyEdits(t *testing.T) {
	id := DiskIDForHost("box")
	line, err := Cmdline(amd64Base, id.RootArg(), []string{"tty1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := CmdlineFile(line)
	if !bytes.Contains(f, []byte(line+"\n")) || bytes.Count(f, []byte("\n")) != 1 {
		t.Fatalf("cmdline.txt %q: want the line, one newline, slack", f)
	}
	if got, err := ParseCmdlineFile(f); err != nil || got != line {
		t.Fatalf("ParseCmdlineFile = %q, %v; want %q", got, err, line)
	}

	// /update/testboot: " gokrazy.try_boot_inactive=1" goes before "\n".
	testboot := gokrazyEdit(f, func(b []byte) []byte {
		return bytes.ReplaceAll(b, []byte{'\n'}, []byte(" gokrazy.try_boot_inactive=1\n"))
	})
	got, err := ParseCmdlineFile(testboot)
	if err != nil || !strings.HasSuffix(got, " gokrazy.try_boot_inactive=1") || !strings.HasPrefix(got, line) {
		t.Fatalf("after testboot: %q, %v", got, err)
	}
	// Boot time: try_boot_inactive becomes switch_on_boot (shorter).
	sw := gokrazyEdit(testboot, func(b []byte) []byte {
		return bytes.ReplaceAll(b, []byte("gokrazy.try_boot_inactive=1"), []byte("gokrazy.switch_on_boot=1"))
	})
	if got, err := ParseCmdlineFile(sw); err != nil || !strings.HasSuffix(got, "gokrazy.switch_on_boot=1") {
		t.Fatalf("after switch_on_boot: %q, %v", got, err)
	}
	// /update/switch: root=[^ ]+ rewritten to the other partition.
	rootRe := regexp.MustCompile(`root=[^ ]+`)
	switched := gokrazyEdit(f, func(b []byte) []byte {
		return rootRe.ReplaceAllLiteral(b, []byte("root=PARTUUID="+id.PartGUID(1)+"/PARTNROFF=2"))
	})
	got, err = ParseCmdlineFile(switched)
	if err != nil || !strings.Contains(got, "/PARTNROFF=2 ") || len(strings.Fields(got)) != len(strings.Fields(line)) {
		t.Fatalf("after switch: %q, %v", got, err)
	}
}

func TestParseCmdlineFileRejects(t *testing.T) {
	for _, b := range []string{"", "root=x", "\n", "   \n  "} {
		if _, err := ParseCmdlineFile([]byte(b)); err == nil {
			t.Errorf("ParseCmdlineFile(%q) accepted", b)
		}
	}
}

func FuzzParseCmdlineFile(f *testing.F) {
	f.Add([]byte("console=tty1 root=PARTUUID=x/PARTNROFF=1 ro\n" + strings.Repeat(" ", 64)))
	f.Add([]byte("a gokrazy.try_boot_inactive=1\n   "))
	f.Add([]byte("no newline"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseCmdlineFile(b)
		if err != nil {
			return
		}
		if s == "" || strings.Contains(s, "\n") || s != strings.TrimSpace(s) {
			t.Fatalf("ParseCmdlineFile(%q) = %q", b, s)
		}
	})
}
