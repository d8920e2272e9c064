package gpiotest

import (
	"sync"
	"time"

	"github.com/chatsecure/box/gpio"
)

// Clock is a fake gpio.Clock. Time stands still until Advance; Advance runs
// due timer functions in time order, synchronously, on the caller's
// goroutine, including ones they schedule that fall due within the advance.
// So after Advance returns, everything that was due has happened, and a test
// can read pins without sleeping. One goroutine advances at a time.
type Clock struct {
	mu        sync.Mutex
	cond      *sync.Cond
	now       time.Time
	seq       uint64
	timers    []*timer
	scheduled int
}

type timer struct {
	c    *Clock
	when time.Time
	seq  uint64
	f    func()
	live bool
}

// NewClock returns a clock standing at start.
func NewClock(start time.Time) *Clock {
	c := &Clock{now: start}
	c.cond = sync.NewCond(&c.mu)
	return c
}

// Now implements gpio.Clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc implements gpio.Clock. d <= 0 runs f on the next Advance.
func (c *Clock) AfterFunc(d time.Duration, f func()) gpio.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &timer{c: c, when: c.now.Add(max(d, 0)), seq: c.seq, f: f, live: true}
	c.timers = append(c.timers, t)
	c.scheduled++
	c.cond.Broadcast()
	return t
}

// Stop implements gpio.Timer.
func (t *timer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if !t.live {
		return false
	}
	t.live = false
	t.c.remove(t)
	return true
}

func (c *Clock) remove(t *timer) {
	for i, x := range c.timers {
		if x == t {
			c.timers = append(c.timers[:i], c.timers[i+1:]...)
			return
		}
	}
}

// Advance moves time forward by d, running what falls due.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	target := c.now.Add(d)
	c.mu.Unlock()
	c.AdvanceTo(target)
}

// AdvanceTo moves time forward to target (never back), running what falls
// due, each at its own time.
func (c *Clock) AdvanceTo(target time.Time) {
	for {
		c.mu.Lock()
		var next *timer
		for _, t := range c.timers {
			if t.when.After(target) {
				continue
			}
			if next == nil || t.when.Before(next.when) || (t.when.Equal(next.when) && t.seq < next.seq) {
				next = t
			}
		}
		if next == nil {
			if target.After(c.now) {
				c.now = target
			}
			c.mu.Unlock()
			return
		}
		next.live = false
		c.remove(next)
		if next.when.After(c.now) {
			c.now = next.when
		}
		c.mu.Unlock()
		next.f()
	}
}

// Pending is how many timers are armed.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// Scheduled is how many AfterFunc calls the clock has seen, ever.
func (c *Clock) Scheduled() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.scheduled
}

// WaitScheduled blocks until the clock has seen n AfterFunc calls in all.
// Tests use it to know that a goroutine they poked (an edge sent to a pin)
// has reacted before they advance time.
func (c *Clock) WaitScheduled(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.scheduled < n {
		c.cond.Wait()
	}
}
