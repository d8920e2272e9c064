package gpio_test

import (
	"testing"
	"time"

	"github.com/chatsecure/box/gpio"
)

// BenchmarkMachinePoll is the cost of one 10 ms poll of a resting button:
// what polling costs the box, 100 times a second.
func BenchmarkMachinePoll(b *testing.B) {
	m := newMachine(b, false)
	now := epoch
	for b.Loop() {
		now = now.Add(10 * time.Millisecond)
		m.Update(now, false)
	}
}

// BenchmarkMachineGesture feeds a whole reset gesture with bounces.
func BenchmarkMachineGesture(b *testing.B) {
	script := []lvl{{0, true}, {10, false}, {20, true}, {11000, false}, {11010, true}, {11020, false}, {13000, true}, {13200, false}}
	for b.Loop() {
		m, _ := gpio.NewMachine(gpio.DefaultTiming, epoch, false)
		if evs := byEdges(m, false, script, 30000); len(evs) != 2 {
			b.Fatalf("events %s", describe(evs))
		}
	}
}
