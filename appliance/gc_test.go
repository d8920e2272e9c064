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
