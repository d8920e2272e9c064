package appliance

import (
	"runtime/debug"
	"runtime/metrics"
)

// After a burst (a wave of logins, a big offline backlog) the Go heap
// keeps the pages it grew into: the runtime returns free memory to the
// OS only down to about its next heap goal, which after a burst is up to
// twice what is live. On a box that then sits with its sessions idle,
// that is RSS nobody uses (xmppload hold: 1000 held sessions cost about
// 27 KiB each over idle, of which 10 are the sessions). So once
// allocation has been quiet for trimQuiet seconds and the heap holds more
// than trimMin (and a quarter of the live heap) of garbage and free
// pages, boxd collects and gives those pages back (debug.FreeOSMemory).
// Under steady load allocation is never quiet and nothing is trimmed.
const (
	trimQuiet     = 2       // seconds of quiet allocation before a trim
	trimQuietRate = 1 << 20 // bytes allocated per second that still count as quiet
	trimMin       = 4 << 20
)

// memTrimmer decides once a second whether to trim.
type memTrimmer struct {
	samples    []metrics.Sample
	lastAllocs uint64
	quiet      int
	lastSlack  uint64 // of the last trim, for the log
	trim       func() // debug.FreeOSMemory; tests count calls
}

func newMemTrimmer() *memTrimmer {
	return &memTrimmer{
		samples: []metrics.Sample{
			{Name: "/gc/heap/live:bytes"}, // first: gcLoop reads it too
			{Name: "/gc/heap/allocs:bytes"},
			{Name: "/memory/classes/heap/objects:bytes"},
			{Name: "/memory/classes/heap/free:bytes"},
		},
		trim: debug.FreeOSMemory,
	}
}

// heapSample is what the trimmer looks at.
type heapSample struct {
	live, allocs, objects, free uint64
}

// tick reads the runtime's metrics and trims if it is time; it reports
// whether it trimmed.
func (m *memTrimmer) tick() bool {
	metrics.Read(m.samples)
	var v [4]uint64
	for i, s := range m.samples {
		if s.Value.Kind() != metrics.KindUint64 {
			return false // a runtime without these metrics: never trim
		}
		v[i] = s.Value.Uint64()
	}
	return m.step(heapSample{live: v[0], allocs: v[1], objects: v[2], free: v[3]})
}

func (m *memTrimmer) step(s heapSample) bool {
	rate := s.allocs - m.lastAllocs
	first := m.lastAllocs == 0
	m.lastAllocs = s.allocs
	if first || rate > trimQuietRate {
		m.quiet = 0
		return false
	}
	m.quiet++
	if m.quiet < trimQuiet {
		return false
	}
	// Dead objects not yet collected count as slack too: the trim's
	// collection frees them.
	slack := s.free
	if s.objects > s.live {
		slack += s.objects - s.live
	}
	if slack < max(trimMin, s.live/4) {
		return false
	}
	m.trim()
	m.quiet, m.lastSlack = 0, slack
	return true
}
