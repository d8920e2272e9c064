package gpio_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	pgpio "periph.io/x/conn/v3/gpio"

	"github.com/chatsecure/box/gpio"
	"github.com/chatsecure/box/gpio/gpiotest"
)

var epoch = time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)

// litAt is what the pattern should show e into its cycle, worked out from the
// table independently of the driver.
func litAt(steps []gpio.Step, e time.Duration) bool {
	var cycle time.Duration
	for _, s := range steps {
		cycle += s.D
	}
	e %= cycle
	for _, s := range steps {
		if e < s.D {
			return s.On
		}
		e -= s.D
	}
	panic("unreachable")
}

func newTestLED(t *testing.T, activeLow bool) (*gpio.LED, *gpiotest.LEDPin, *gpiotest.Clock) {
	t.Helper()
	clk := gpiotest.NewClock(epoch)
	pin := gpiotest.NewLEDPin("GPIO17", clk)
	led, err := gpio.NewLED(pin, gpio.LEDOptions{ActiveLow: activeLow, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { led.Close() })
	return led, pin, clk
}

// sample checks the pin every 10 ms for two full cycles against the table.
// Every step lasts a multiple of 50 ms, so the samples land on each boundary:
// a step that began or ended a millisecond late would show.
func sampleCycles(t *testing.T, pin *gpiotest.LEDPin, clk *gpiotest.Clock, steps []gpio.Step, activeLow bool, span time.Duration) {
	t.Helper()
	for e := time.Duration(0); e < span; e += 10 * time.Millisecond {
		want := litAt(steps, e)
		if got := (pin.Read() == pgpio.High) != activeLow; got != want {
			t.Fatalf("at %v into the pattern the LED is lit=%t, want %t", e, got, want)
		}
		clk.Advance(10 * time.Millisecond)
	}
}

func TestLEDPlaysEveryPatternOnTime(t *testing.T) {
	for _, activeLow := range []bool{false, true} {
		for _, p := range gpio.Patterns() {
			name := string(p.Signal) + "/active-high"
			if activeLow {
				name = string(p.Signal) + "/active-low"
			}
			t.Run(name, func(t *testing.T) {
				led, pin, clk := newTestLED(t, activeLow)
				if p.Signal != gpio.Booting {
					clk.Advance(123 * time.Millisecond) // show it mid-way through booting's cycle
					if err := led.Show(p.Signal); err != nil {
						t.Fatal(err)
					}
				}
				if got := led.Current(); got != p.Signal {
					t.Fatalf("Current() = %s, want %s", got, p.Signal)
				}
				span := 2 * p.Cycle()
				if p.Signal == gpio.Identify {
					span = gpio.IdentifyFor - 10*time.Millisecond
				}
				sampleCycles(t, pin, clk, p.Steps, activeLow, span)
			})
		}
	}
}

func TestIdentifyReturnsToStateAfterTenSeconds(t *testing.T) {
	led, pin, clk := newTestLED(t, false)
	must(t, led.Show(gpio.Running))
	clk.Advance(1300 * time.Millisecond)
	must(t, led.Show(gpio.Identify))
	if led.Current() != gpio.Identify || led.State() != gpio.Running {
		t.Fatalf("Current/State = %s/%s, want identify/running", led.Current(), led.State())
	}
	id, _ := gpio.PatternFor(gpio.Identify)
	sampleCycles(t, pin, clk, id.Steps, false, gpio.IdentifyFor-10*time.Millisecond)
	if led.Current() != gpio.Identify {
		t.Fatalf("identify ended before %v", gpio.IdentifyFor)
	}
	clk.Advance(10 * time.Millisecond)
	if led.Current() != gpio.Running {
		t.Fatalf("after %v Current() = %s, want running", gpio.IdentifyFor, led.Current())
	}
	run, _ := gpio.PatternFor(gpio.Running)
	sampleCycles(t, pin, clk, run.Steps, false, 2*run.Cycle())
}

func TestIdentifyRepeatedRestartsTheTenSeconds(t *testing.T) {
	led, _, clk := newTestLED(t, false)
	must(t, led.Show(gpio.Unclaimed))
	must(t, led.Show(gpio.Identify))
	clk.Advance(6 * time.Second)
	must(t, led.Show(gpio.Identify))
	clk.Advance(gpio.IdentifyFor - time.Millisecond)
	if led.Current() != gpio.Identify {
		t.Fatalf("second identify ended early: %s", led.Current())
	}
	clk.Advance(time.Millisecond)
	if led.Current() != gpio.Unclaimed {
		t.Fatalf("Current() = %s, want unclaimed", led.Current())
	}
}

func TestNewStateEndsIdentifySameStateDoesNot(t *testing.T) {
	led, _, clk := newTestLED(t, false)
	must(t, led.Show(gpio.Running))
	must(t, led.Show(gpio.Identify))
	clk.Advance(time.Second)
	must(t, led.Show(gpio.Running)) // a periodic refresh of the same state
	if led.Current() != gpio.Identify {
		t.Fatalf("re-showing the same state ended identify: %s", led.Current())
	}
	must(t, led.Show(gpio.Fault))
	if led.Current() != gpio.Fault || led.State() != gpio.Fault {
		t.Fatalf("Current/State = %s/%s, want fault/fault", led.Current(), led.State())
	}
	clk.Advance(gpio.IdentifyFor) // the old identify timer must not bring back anything
	if led.Current() != gpio.Fault {
		t.Fatalf("stale identify timer changed the LED to %s", led.Current())
	}
}

func TestShowUnknownSignal(t *testing.T) {
	led, _, _ := newTestLED(t, false)
	if err := led.Show("party"); err == nil {
		t.Fatal("Show(party) succeeded")
	}
	if led.Current() != gpio.Booting {
		t.Fatalf("a bad Show changed the LED to %s", led.Current())
	}
}

func TestLEDCloseSwitchesOffAndStops(t *testing.T) {
	for _, activeLow := range []bool{false, true} {
		led, pin, clk := newTestLED(t, activeLow)
		must(t, led.Show(gpio.Running)) // lit at once
		must(t, led.Close())
		if lit := (pin.Read() == pgpio.High) != activeLow; lit {
			t.Fatalf("activeLow=%t: LED still lit after Close", activeLow)
		}
		n := len(pin.Changes())
		clk.Advance(time.Minute)
		if m := len(pin.Changes()); m != n {
			t.Fatalf("pin driven %d more times after Close", m-n)
		}
		if clk.Pending() != 0 {
			t.Fatalf("%d timers left after Close", clk.Pending())
		}
		if err := led.Show(gpio.Fault); err == nil {
			t.Fatal("Show after Close succeeded")
		}
	}
}

func TestLogLEDLogsEachPatternChangeOnly(t *testing.T) {
	var buf bytes.Buffer
	clk := gpiotest.NewClock(epoch)
	led := gpio.NewLogLED(slog.New(slog.NewJSONHandler(&buf, nil)), clk)
	defer led.Close()
	must(t, led.Show(gpio.Unclaimed))
	clk.Advance(time.Minute) // many blinks: none logged
	must(t, led.Show(gpio.Identify))
	if led.Current() != gpio.Identify {
		t.Fatalf("Current() = %s", led.Current())
	}
	clk.Advance(gpio.IdentifyFor)
	if led.Current() != gpio.Unclaimed {
		t.Fatalf("after identify Current() = %s, want unclaimed", led.Current())
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec struct{ Msg, Signal, Was, Timing string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec.Timing == "" {
			t.Errorf("log line without timing: %s", line)
		}
		got = append(got, rec.Was+">"+rec.Signal)
	}
	want := ">booting booting>unclaimed unclaimed>identify identify>unclaimed"
	if strings.Join(got, " ") != want {
		t.Fatalf("logged changes %v, want %s", got, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
