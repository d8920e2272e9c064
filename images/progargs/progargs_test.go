package progargs

import (
	"slices"
	"strings"
	"testing"
)

func TestFormatParseRoundTrip(t *testing.T) {
	args := []string{"-config", "/etc/box/config.json", "-data=/perm/box", "value with spaces"}
	s, err := Format(args)
	if err != nil {
		t.Fatal(err)
	}
	if got := Parse(s); !slices.Equal(got, args) {
		t.Fatalf("Parse(Format(%q)) = %q", args, got)
	}
}

func TestFormatRefuses(t *testing.T) {
	for _, bad := range []string{"-dev", "--dev", "-dev=true", "--dev=false", "", "a\nb", "a\rb"} {
		if _, err := Format([]string{"-config", "x", bad}); err == nil {
			t.Errorf("Format accepted %q", bad)
		}
	}
	// Not the dev flag: a value that merely contains "dev", other flags.
	for _, ok := range []string{"dev", "-devices", "-data=/dev", "-config=-dev"} {
		if _, err := Format([]string{ok}); err != nil {
			t.Errorf("Format refused %q: %v", ok, err)
		}
	}
}

func TestPath(t *testing.T) {
	if p := Path("/user/boxd"); p != "/etc/boxinit/args/boxd" {
		t.Fatalf("Path = %q", p)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("-config\n/etc/box/config.json\n")
	f.Add("a\r\n\r\nb")
	f.Fuzz(func(t *testing.T, data string) {
		args := Parse(data)
		for _, a := range args {
			if a == "" || strings.ContainsAny(a, "\n") {
				t.Fatalf("Parse(%q) gave %q", data, a)
			}
		}
		// Whatever Parse returns and Format accepts survives a round trip.
		if s, err := Format(args); err == nil && !slices.Equal(Parse(s), args) {
			t.Fatalf("round trip of %q changed", args)
		}
	})
}
