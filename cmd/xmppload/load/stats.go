package load

import (
	"slices"
	"time"
)

// percentile returns the q-quantile (0..1) of sorted samples by the
// nearest-rank method; zero when there are none.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	if q <= 0 {
		return sorted[0]
	}
	rank := int(q*float64(len(sorted)) + 0.999999999)
	if rank < 1 {
		rank = 1
	}
	if rank > len(sorted) {
		rank = len(sorted)
	}
	return sorted[rank-1]
}

// Summary is the latency summary printed and stored in results.
type Summary struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func summarize(samples []time.Duration) Summary {
	s := slices.Clone(samples)
	slices.Sort(s)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	var mx time.Duration
	if len(s) > 0 {
		mx = s[len(s)-1]
	}
	return Summary{N: len(s), P50: ms(percentile(s, 0.50)), P99: ms(percentile(s, 0.99)), Max: ms(mx)}
}
