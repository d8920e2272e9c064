package router

import (
	"sync"
	"time"
)

// rate counts events over the last minute in one-second buckets, for the
// console's "messages per minute": cheap to bump on every message, and
// old seconds fall out without a timer.
type rate struct {
	now func() time.Time

	mu    sync.Mutex
	secs  [60]int64 // the Unix second each bucket counts
	count [60]int
}

func (r *rate) add() {
	s := r.now().Unix()
	i := int(uint64(s) % 60)
	r.mu.Lock()
	if r.secs[i] != s {
		r.secs[i], r.count[i] = s, 0
	}
	r.count[i]++
	r.mu.Unlock()
}

// perMinute is the number of events in the 60 seconds up to now.
func (r *rate) perMinute() int {
	s := r.now().Unix()
	n := 0
	r.mu.Lock()
	for i := range r.secs {
		if r.secs[i] > s-60 && r.secs[i] <= s {
			n += r.count[i]
		}
	}
	r.mu.Unlock()
	return n
}

// MessagesPerMinute is how many message stanzas clients sent in the last
// minute (dashboard, metrics).
func (r *Router) MessagesPerMinute() int { return r.msgs.perMinute() }
