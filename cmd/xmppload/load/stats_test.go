package load

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var s []time.Duration
	for i := 1; i <= 100; i++ {
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	for q, want := range map[float64]time.Duration{0.5: 50 * time.Millisecond, 0.99: 99 * time.Millisecond,
		1: 100 * time.Millisecond, 0: time.Millisecond} {
		if got := percentile(s, q); got != want {
			t.Errorf("p%v = %v, want %v", q, got, want)
		}
	}
	if percentile(nil, 0.5) != 0 {
		t.Error("empty percentile not zero")
	}
	sum := summarize([]time.Duration{3 * time.Millisecond, time.Millisecond, 2 * time.Millisecond})
	if sum.N != 3 || sum.P50 != 2 || sum.Max != 3 || sum.P99 != 3 {
		t.Fatalf("summary = %+v", sum)
	}
}
