package load

import (
	"os"
	"testing"
	"time"
)

func TestParseProc(t *testing.T) {
	rss, err := parseVmRSS([]byte("Name:\tx\nVmHWM:\t 9 kB\nVmRSS:\t   15360 kB\n"))
	if err != nil || rss != 15360 {
		t.Fatalf("VmRSS = %d, %v", rss, err)
	}
	for _, bad := range []string{"", "VmRSS: x kB\n", "VmRSS: 12 MB\n", "VmRSS: -1 kB\n"} {
		if _, err := parseVmRSS([]byte(bad)); err == nil {
			t.Errorf("parseVmRSS(%q) accepted", bad)
		}
	}
	// A command name with spaces and parentheses must not shift the fields.
	stat := "42 (lua (x) 5.4) S 1 2 3 4 5 6 7 8 9 10 250 130 0 0 20 0 1 0\n"
	cpu, err := parseStatCPU([]byte(stat))
	if err != nil || cpu != 3800*time.Millisecond {
		t.Fatalf("cpu = %v, %v; want 3.8s", cpu, err)
	}
	for _, bad := range []string{"", "42 (x) S 1 2", "42 (x) S 1 2 3 4 5 6 7 8 9 10 a 1 0"} {
		if _, err := parseStatCPU([]byte(bad)); err == nil {
			t.Errorf("parseStatCPU(%q) accepted", bad)
		}
	}
}

func TestProcProberSelf(t *testing.T) {
	s, err := NewProcProber(os.Getpid()).Sample()
	if err != nil {
		t.Fatal(err)
	}
	if s.RSSKiB <= 0 {
		t.Fatalf("own RSS %d KiB", s.RSSKiB)
	}
	if _, err := NewProcProber(-1).Sample(); err == nil {
		t.Fatal("a missing process was sampled")
	}
}

func FuzzParseStatCPU(f *testing.F) {
	f.Add("42 (x) S 1 2 3 4 5 6 7 8 9 10 250 130 0")
	f.Add("1 ()) R 0 0 0 0 0 0 0 0 0 0 1 1")
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := parseStatCPU([]byte(s)); err == nil && d < 0 {
			t.Fatalf("negative cpu %v", d)
		}
	})
}
