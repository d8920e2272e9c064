package backoff

import (
	"sync"
	"time"
)

// Policy says how many failures are free and how long to wait after that.
type Policy struct {
	Free  int           // failures before any wait
	Base  time.Duration // wait after the first failure beyond Free
	Max   time.Duration // cap on the wait
	Keys  int           // entries kept before old ones are forgotten
	Clock func() time.Time
}

type entry struct {
	fails int
	until time.Time
	last  time.Time
}

// A Limiter tracks failures per key. It is safe for concurrent use.
type Limiter struct {
	p  Policy
	mu sync.Mutex
	m  map[string]*entry
}

// New returns a Limiter; zero fields of p get defaults (3 free, 1 s base,
// 5 min cap, 100000 keys, time.Now).
func New(p Policy) *Limiter {
	if p.Free <= 0 {
		p.Free = 3
	}
	if p.Base <= 0 {
		p.Base = time.Second
	}
	if p.Max <= 0 {
		p.Max = 5 * time.Minute
	}
	if p.Keys <= 0 {
		p.Keys = 100000
	}
	if p.Clock == nil {
		p.Clock = time.Now
	}
	return &Limiter{p: p, m: make(map[string]*entry)}
}

// Wait reports how long key must still wait before trying again (0: now).
func (l *Limiter) Wait(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.m[key]
	if e == nil {
		return 0
	}
	if d := e.until.Sub(l.p.Clock()); d > 0 {
		return d
	}
	return 0
}

// Fail records a failed attempt for key.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.p.Clock()
	e := l.m[key]
	if e == nil {
		if len(l.m) >= l.p.Keys {
			l.prune(now)
		}
		e = &entry{}
		l.m[key] = e
	} else if now.Sub(e.last) > 2*l.p.Max {
		// Long quiet: start over.
		*e = entry{}
	}
	e.fails++
	e.last = now
	if over := e.fails - l.p.Free; over > 0 {
		d := l.p.Base
		for i := 1; i < over && d < l.p.Max; i++ {
			d *= 2
		}
		if d > l.p.Max {
			d = l.p.Max
		}
		e.until = now.Add(d)
	}
}

// Succeed clears key.
func (l *Limiter) Succeed(key string) {
	l.mu.Lock()
	delete(l.m, key)
	l.mu.Unlock()
}

// prune drops entries that are no longer waiting, or all of them if that
// is not enough (a flood of distinct keys must not grow memory forever).
func (l *Limiter) prune(now time.Time) {
	for k, e := range l.m {
		if now.After(e.until) && now.Sub(e.last) > l.p.Max {
			delete(l.m, k)
		}
	}
	if len(l.m) >= l.p.Keys {
		clear(l.m)
	}
}
