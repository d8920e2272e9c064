package gpio_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	pgpio "periph.io/x/conn/v3/gpio"
	pgpiotest "periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/chatsecure/box/gpio"
	"github.com/chatsecure/box/gpio/gpiotest"
)

type eventLog struct {
	mu  sync.Mutex
	evs []gpio.Event
}

func (l *eventLog) add(e gpio.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evs = append(l.evs, e)
}

func (l *eventLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return describe(l.evs)
}

func newButton(t *testing.T, pin pgpio.PinIn, noEdges bool) (*gpio.Button, *gpiotest.Clock, *eventLog) {
	t.Helper()
	clk := gpiotest.NewClock(epoch)
	log := &eventLog{}
	b, err := gpio.NewButton(pin, gpio.ButtonOptions{OnEvent: log.add, Clock: clk, NoEdges: noEdges})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, clk, log
}

func TestPolledButtonGestures(t *testing.T) {
	pin := gpiotest.NewButtonPin("GPIO27", false) // no edge detection: In(BothEdges) fails
	b, clk, log := newButton(t, pin, false)
	if b.UsesEdges() {
		t.Fatal("button uses edges on a pin without them")
	}
	if pin.Pull() != pgpio.PullUp {
		t.Fatalf("pull = %s, want pull-up", pin.Pull())
	}
	// Polls fall at 10 ms, 20 ms, ...: the press set now is seen at 10 ms.
	pin.Set(true)
	clk.Advance(200 * time.Millisecond)
	pin.Set(false)
	clk.Advance(100 * time.Millisecond)
	if got, want := log.String(), "identify@210/200"; got != want {
		t.Fatalf("short press: %q, want %q", got, want)
	}

	// 10 s hold: armed while still held, then a short press confirms.
	pin.Set(true) // seen at 310
	clk.Advance(10*time.Second + 10*time.Millisecond)
	if got, want := log.String(), "identify@210/200 reset-armed@10310/10000"; got != want || !b.Pressed() {
		t.Fatalf("after 10 s held: %q pressed=%t, want %q while pressed", got, b.Pressed(), want)
	}
	clk.Advance(990 * time.Millisecond)
	pin.Set(false) // seen at 11310
	clk.Advance(3 * time.Second)
	pin.Set(true) // seen at 14310
	clk.Advance(300 * time.Millisecond)
	pin.Set(false)
	clk.Advance(time.Minute)
	if got, want := log.String(), "identify@210/200 reset-armed@10310/10000 reset-confirmed@14610/300"; got != want {
		t.Fatalf("reset: %q, want %q", got, want)
	}
}

// press changes an edge pin's level and waits until the button's edge
// goroutine has sampled it (each edge arms one clock timer).
func press(clk *gpiotest.Clock, pin *gpiotest.ButtonPin, pressed bool) {
	n := clk.Scheduled()
	pin.Set(pressed)
	clk.WaitScheduled(n + 1)
}

func TestEdgeButtonGestures(t *testing.T) {
	pin := gpiotest.NewButtonPin("GPIO27", true)
	b, clk, log := newButton(t, pin, false)
	if !b.UsesEdges() {
		t.Fatal("button polls a pin that has edges")
	}
	// A 10 ms bounce: nothing, and nothing left armed on the clock.
	press(clk, pin, true)
	clk.Advance(10 * time.Millisecond)
	press(clk, pin, false)
	clk.Advance(100 * time.Millisecond)
	if got := log.String(); got != "" {
		t.Fatalf("bounce gave events %q", got)
	}
	if n := clk.Pending(); n != 0 {
		t.Fatalf("idle edge button keeps %d timers", n)
	}
	// 6 s: reboot, timed from the edges exactly.
	press(clk, pin, true) // at 110
	clk.Advance(6 * time.Second)
	press(clk, pin, false)
	clk.Advance(time.Second)
	// 10 s: armed at 10 s while held; the window then runs out.
	press(clk, pin, true) // at 7110
	clk.Advance(10 * time.Second)
	if !strings.HasSuffix(log.String(), "reset-armed@17110/10000") {
		t.Fatalf("not armed at 10 s while held: %q", log.String())
	}
	clk.Advance(time.Second)
	press(clk, pin, false) // at 18110
	clk.Advance(20 * time.Second)
	want := "reboot@6110/6000 reset-armed@17110/10000 reset-cancelled@28110(timeout)"
	if got := log.String(); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestNoEdgesForcesPolling(t *testing.T) {
	b, _, _ := newButton(t, gpiotest.NewButtonPin("GPIO27", true), true)
	if b.UsesEdges() {
		t.Fatal("NoEdges ignored")
	}
}

func TestButtonCloseStopsEvents(t *testing.T) {
	pin := gpiotest.NewButtonPin("GPIO27", false)
	b, clk, log := newButton(t, pin, false)
	pin.Set(true)
	clk.Advance(100 * time.Millisecond)
	must(t, b.Close())
	pin.Set(false)
	clk.Advance(time.Minute)
	if got := log.String(); got != "" {
		t.Fatalf("events after Close: %q", got)
	}
	if n := clk.Pending(); n != 0 {
		t.Fatalf("%d timers left after Close", n)
	}
}

type brokenPin struct{ *pgpiotest.Pin }

func (brokenPin) In(pgpio.Pull, pgpio.Edge) error { return errors.New("device or resource busy") }

func TestButtonErrorsNameThePin(t *testing.T) {
	_, err := gpio.NewButton(brokenPin{&pgpiotest.Pin{N: "GPIO27"}}, gpio.ButtonOptions{OnEvent: func(gpio.Event) {}})
	if err == nil || !strings.Contains(err.Error(), "GPIO27") || !strings.Contains(err.Error(), "busy") {
		t.Fatalf("err = %v, want one naming GPIO27 and the cause", err)
	}
	_, err = gpio.NewButton(gpiotest.NewButtonPin("GPIO27", false), gpio.ButtonOptions{})
	if err == nil {
		t.Fatal("NewButton without OnEvent succeeded")
	}
}

func newFakeButton(t *testing.T) (*gpio.FakeButton, *gpiotest.Clock, *eventLog) {
	t.Helper()
	clk := gpiotest.NewClock(epoch)
	log := &eventLog{}
	fb, err := gpio.NewFakeButton(gpio.ButtonOptions{OnEvent: log.add, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fb.Close() })
	return fb, clk, log
}

// startPress runs Press on its own goroutine and waits until its release
// timer is armed (the press sample's recheck plus the hold timer).
func startPress(ctx context.Context, fb *gpio.FakeButton, clk *gpiotest.Clock, hold time.Duration) <-chan error {
	n := clk.Scheduled()
	errc := make(chan error, 1)
	go func() { errc <- fb.Press(ctx, hold) }()
	clk.WaitScheduled(n + 2)
	return errc
}

func TestFakeButtonResetByPresses(t *testing.T) {
	fb, clk, log := newFakeButton(t)
	ctx := context.Background()

	errc := startPress(ctx, fb, clk, 12*time.Second)
	clk.Advance(10 * time.Second)
	if got := log.String(); got != "reset-armed@10000/10000" || !fb.Pressed() {
		t.Fatalf("at 10 s: %q pressed=%t; want armed while pressed", got, fb.Pressed())
	}
	if err := fb.Press(ctx, 0); err == nil || !strings.Contains(err.Error(), "already") {
		t.Fatalf("a second press while held: %v", err)
	}
	clk.Advance(2*time.Second + 30*time.Millisecond) // released at 12 s, debounced: Press returns
	must(t, <-errc)
	errc = startPress(ctx, fb, clk, 0) // default short press
	clk.Advance(gpio.DefaultShortPress + 30*time.Millisecond)
	must(t, <-errc)
	if got, want := log.String(), "reset-armed@10000/10000 reset-confirmed@12230/200"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestFakeButtonShortAndCutPresses(t *testing.T) {
	fb, clk, log := newFakeButton(t)
	if err := fb.Press(context.Background(), 10*time.Millisecond); err == nil {
		t.Fatal("a 10 ms press, shorter than the debounce, was accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := startPress(ctx, fb, clk, 10*time.Second)
	clk.Advance(6 * time.Second)
	n := clk.Scheduled()
	cancel()
	clk.WaitScheduled(n + 2) // the early release's recheck and done timer
	clk.Advance(30 * time.Millisecond)
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cut press returned %v", err)
	}
	if got, want := log.String(), "reboot@6000/6000"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
