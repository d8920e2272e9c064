package appliance

import (
	"context"
	"testing"
	"time"

	"github.com/chatsecure/box/config"
	"github.com/chatsecure/box/gpio"
	"github.com/chatsecure/box/gpio/gpiotest"
)

// withFakeGPIO gives a test box the dev-mode LED and button on a fake clock.
func withFakeGPIO(t *testing.T, b *box, clk *gpiotest.Clock) *gpio.Devices {
	dev, err := gpio.Open(config.GPIO{Driver: "fake", LEDActive: "high"}, gpio.Options{OnEvent: b.sys.ButtonEvent, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	b.sys.AttachGPIO(dev, nil)
	return dev
}

func press(t *testing.T, fb *gpio.FakeButton, clk *gpiotest.Clock, hold time.Duration) {
	t.Helper()
	n := clk.Scheduled()
	errc := make(chan error, 1)
	go func() { errc <- fb.Press(context.Background(), hold) }()
	clk.WaitScheduled(n + 2)
	if hold == 0 {
		hold = gpio.DefaultShortPress
	}
	clk.Advance(hold + 50*time.Millisecond)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestLEDFollowsStateAndButtonResets(t *testing.T) {
	dir := t.TempDir()
	b := start(t, dir, newFakeSealer(), nil)
	clk := gpiotest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	dev := withFakeGPIO(t, b, clk)
	if got := dev.LED.Current(); got != gpio.Unclaimed {
		t.Fatalf("LED shows %s in unclaimed", got)
	}
	before := b.status()
	if before.LED != "unclaimed" {
		t.Fatalf("status LED %q", before.LED)
	}

	// Short press: identify, then back.
	press(t, dev.FakeButton, clk, 0)
	if got := dev.LED.Current(); got != gpio.Identify {
		t.Fatalf("after a short press the LED shows %s", got)
	}
	clk.Advance(gpio.IdentifyFor)
	if got := dev.LED.Current(); got != gpio.Unclaimed {
		t.Fatalf("after identify the LED shows %s", got)
	}

	// Hold 10 s then let the confirm window pass: cancelled, nothing erased.
	press(t, dev.FakeButton, clk, 10*time.Second)
	if got := dev.LED.Current(); got != gpio.ResetArmed {
		t.Fatalf("armed: LED shows %s", got)
	}
	clk.Advance(11 * time.Second)
	if got := dev.LED.Current(); got != gpio.Unclaimed {
		t.Fatalf("cancelled: LED shows %s", got)
	}
	if st := b.status(); st.SetupCode != before.SetupCode {
		t.Fatal("a cancelled reset erased the box")
	}

	// Hold 10 s, then a short press within the window: erased.
	press(t, dev.FakeButton, clk, 10*time.Second)
	press(t, dev.FakeButton, clk, 0)
	waitFor(t, "factory reset", func() bool {
		st := b.status()
		return st.State == "unclaimed" && st.SetupCode != "" && st.SetupCode != before.SetupCode
	})
	if got := dev.LED.Current(); got != gpio.Unclaimed {
		t.Fatalf("after reset: LED shows %s", got)
	}
}
