package gpiotest_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chatsecure/box/gpio/gpiotest"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestClockRunsDueTimersInOrderAtTheirTimes(t *testing.T) {
	c := gpiotest.NewClock(t0)
	var got []string
	note := func(name string) func() {
		return func() { got = append(got, fmt.Sprintf("%s@%v", name, c.Now().Sub(t0))) }
	}
	c.AfterFunc(300*time.Millisecond, note("c"))
	c.AfterFunc(100*time.Millisecond, func() {
		note("a")()
		// Scheduled from a timer, due inside the same Advance: runs too.
		c.AfterFunc(50*time.Millisecond, note("a+50"))
	})
	c.AfterFunc(300*time.Millisecond, note("d")) // same time as c: runs after it
	stopped := c.AfterFunc(200*time.Millisecond, note("stopped"))
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop must report true once, then false")
	}
	c.AfterFunc(time.Second, note("late"))
	c.Advance(300 * time.Millisecond)
	want := "a@100ms a+50@150ms c@300ms d@300ms"
	if strings.Join(got, " ") != want {
		t.Fatalf("ran %v, want %s", got, want)
	}
	if c.Now() != t0.Add(300*time.Millisecond) || c.Pending() != 1 || c.Scheduled() != 6 {
		t.Fatalf("now %v pending %d scheduled %d", c.Now().Sub(t0), c.Pending(), c.Scheduled())
	}
	c.AdvanceTo(t0) // never back
	if c.Now() != t0.Add(300*time.Millisecond) {
		t.Fatal("AdvanceTo went back in time")
	}
}

func TestClockZeroDelayRunsOnNextAdvance(t *testing.T) {
	c := gpiotest.NewClock(t0)
	ran := false
	c.AfterFunc(0, func() { ran = true })
	if ran {
		t.Fatal("ran before Advance")
	}
	c.Advance(0)
	if !ran {
		t.Fatal("did not run on Advance(0)")
	}
}
