package gpiotest

import (
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// LEDPin is a fake output pin that remembers every level it was driven to
// and when, on the fake clock.
type LEDPin struct {
	*gpiotest.Pin
	clk *Clock

	mu      sync.Mutex
	changes []Change
}

// Change is one Out call on an LEDPin.
type Change struct {
	At    time.Time
	Level gpio.Level
}

// NewLEDPin makes a fake output pin named name.
func NewLEDPin(name string, clk *Clock) *LEDPin {
	return &LEDPin{Pin: &gpiotest.Pin{N: name, Num: -1}, clk: clk}
}

// Out implements gpio.PinOut and records the call.
func (p *LEDPin) Out(l gpio.Level) error {
	p.mu.Lock()
	p.changes = append(p.changes, Change{At: p.clk.Now(), Level: l})
	p.mu.Unlock()
	return p.Pin.Out(l)
}

// Changes returns the recorded Out calls.
func (p *LEDPin) Changes() []Change {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Change(nil), p.changes...)
}

// ButtonPin is a fake push button on a pulled-up input: pressed reads low.
// With edges, level changes arrive through periph's EdgesChan as a kernel
// edge would; without, In with edge detection fails, as on a pin that has
// none, and the button must poll.
type ButtonPin struct {
	*gpiotest.Pin
}

// NewButtonPin makes a released fake button pin.
func NewButtonPin(name string, edges bool) *ButtonPin {
	p := &gpiotest.Pin{N: name, Num: -1, L: gpio.High}
	if edges {
		p.EdgesChan = make(chan gpio.Level)
	}
	return &ButtonPin{Pin: p}
}

// Set changes the level: pressed drives it low. With edges it blocks until
// the watcher has taken the edge (EdgesChan is unbuffered).
func (p *ButtonPin) Set(pressed bool) {
	l := gpio.High
	if pressed {
		l = gpio.Low
	}
	if p.EdgesChan != nil {
		p.EdgesChan <- l
		return
	}
	p.Lock()
	p.L = l
	p.Unlock()
}
