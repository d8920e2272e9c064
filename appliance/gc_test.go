package appliance

import (
	"runtime/metrics"
	"testing"
)

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

func TestMemTrimmerStep(t *testing.T) {
	const mib = 1 << 20
	trims := 0
	m := &memTrimmer{trim: func() { trims++ }}
	allocs := uint64(100 * mib)
	// s: one second's sample after alloc more bytes were allocated.
	s := func(alloc, live, objects, free uint64) heapSample {
		allocs += alloc
		return heapSample{live: live, allocs: allocs, objects: objects, free: free}
	}
	steps := []struct {
		name string
		in   heapSample
		want bool
	}{
		{"first sample only sets the baseline", s(0, 10*mib, 40*mib, 10*mib), false},
		{"a burst is not quiet", s(50*mib, 10*mib, 40*mib, 10*mib), false},
		{"one quiet second is not enough", s(0, 10*mib, 40*mib, 10*mib), false},
		{"two quiet seconds with 40 MiB of slack: trim", s(100, 10*mib, 40*mib, 10*mib), true},
		{"quiet again, little slack left", s(0, 10*mib, 10*mib, 1*mib), false},
		{"still little slack", s(0, 10*mib, 10*mib, 1*mib), false},
		{"slack under a quarter of a large live heap", s(0, 100*mib, 110*mib, 10*mib), false},
		{"slack over a quarter of it", s(0, 100*mib, 120*mib, 10*mib), true},
		{"steady load, lots of slack", s(20*mib, 10*mib, 40*mib, 10*mib), false},
		{"steady load", s(20*mib, 10*mib, 40*mib, 10*mib), false},
	}
	for _, st := range steps {
		if got := m.step(st.in); got != st.want {
			t.Errorf("%s: trimmed %v, want %v", st.name, got, st.want)
		}
	}
	if trims != 2 {
		t.Errorf("%d trims, want 2", trims)
	}
}

// TestMemTrimmerMetrics: the runtime still has every metric the trimmer
// reads (else it silently never trims).
func TestMemTrimmerMetrics(t *testing.T) {
	m := newMemTrimmer()
	m.trim = func() {}
	m.tick()
	for _, s := range m.samples {
		if s.Value.Kind() != metrics.KindUint64 {
			t.Errorf("metric %s: kind %v", s.Name, s.Value.Kind())
		}
	}
}
