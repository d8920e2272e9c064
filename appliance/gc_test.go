package appliance

import "testing"

func TestParseMemTotal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"MemTotal:        8039876 kB\nMemFree:  1 kB\n", 8039876 * 1024, true},
		{"MemFree:  1 kB\nMemTotal: 1024 kB\n", 1024 * 1024, true},
		{"MemTotal: 1024 MB\n", 0, false},
		{"MemTotal: x kB\n", 0, false},
		{"MemTotal: -5 kB\n", 0, false},
		{"", 0, false},
	} {
		got, ok := parseMemTotal([]byte(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("%q: got %d %v, want %d %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestGCPercentFor(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, 100},
		{1 << 20, 100},
		{8 << 20, 100},
		{10 << 20, 80},
		{16 << 20, 50},
		{200 << 20, 50},
	} {
		if got := gcPercentFor(tc.live); got != tc.want {
			t.Errorf("live %d MiB: GOGC %d, want %d", tc.live>>20, got, tc.want)
		}
	}
}
