package gpio

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"

	"github.com/chatsecure/box/config"
)

// Options are what Open needs besides the config.
type Options struct {
	// OnEvent receives button events; required.
	OnEvent func(Event)
	// Clock defaults to the system clock.
	Clock Clock
	// Logger gets pattern changes, button events and the pin setup.
	Logger *slog.Logger
}

// Devices is the LED and the button of one box. Exactly one of Button and
// FakeButton is set: Button with the periph driver, FakeButton with the fake
// one (dev mode), which boxctl presses through the admin API.
type Devices struct {
	LED        *LED
	Button     *Button
	FakeButton *FakeButton
}

// Open sets up the LED and the button as cfg says. Driver "periph" uses the
// real pins through /dev/gpiochip; "fake" a logging LED and a FakeButton.
func Open(cfg config.GPIO, o Options) (*Devices, error) {
	switch cfg.Driver {
	case "fake":
		led := NewLogLED(o.Logger, o.Clock)
		fb, err := NewFakeButton(ButtonOptions{OnEvent: o.OnEvent, Clock: o.Clock, Logger: o.Logger})
		if err != nil {
			_ = led.Close()
			return nil, err
		}
		return &Devices{LED: led, FakeButton: fb}, nil
	case "periph":
		return openPeriph(cfg, o)
	default:
		return nil, fmt.Errorf("gpio: unknown driver %q (want \"periph\" or \"fake\")", cfg.Driver)
	}
}

// ParseActive reads config's LEDActive: "high" or "low"; it returns whether
// the LED is active low.
func ParseActive(s string) (activeLow bool, err error) {
	switch s {
	case "high":
		return false, nil
	case "low":
		return true, nil
	}
	return false, fmt.Errorf("gpio: led_active is %q, want \"high\" or \"low\"", s)
}

func openPeriph(cfg config.GPIO, o Options) (*Devices, error) {
	activeLow, err := ParseActive(cfg.LEDActive)
	if err != nil {
		return nil, err
	}
	if cfg.LEDPin != "" && cfg.LEDPin == cfg.ButtonPin {
		return nil, fmt.Errorf("gpio: LED and button are both on pin %q", cfg.LEDPin)
	}
	ledPin, err := PinByName("LED", cfg.LEDPin)
	if err != nil {
		return nil, err
	}
	btnPin, err := PinByName("button", cfg.ButtonPin)
	if err != nil {
		return nil, err
	}
	led, err := NewLED(ledPin, LEDOptions{ActiveLow: activeLow, Clock: o.Clock, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	btn, err := NewButton(btnPin, ButtonOptions{OnEvent: o.OnEvent, Clock: o.Clock, Logger: o.Logger})
	if err != nil {
		_ = led.Close()
		return nil, err
	}
	return &Devices{LED: led, Button: btn}, nil
}

var (
	hostOnce sync.Once
	hostErr  error
)

// initHost loads periph's host drivers once (gpioioctl registers every
// /dev/gpiochip line under its name, e.g. GPIO17 on a Raspberry Pi).
func initHost() error {
	hostOnce.Do(func() {
		if _, err := host.Init(); err != nil {
			hostErr = fmt.Errorf("gpio: periph host init: %w", err)
		}
	})
	return hostErr
}

// PinByName finds a registered pin for role ("LED", "button"), with an error
// that names the pin and what this host has instead.
func PinByName(role, name string) (gpio.PinIO, error) {
	if name == "" {
		return nil, fmt.Errorf("gpio: %s pin is not configured", role)
	}
	if err := initHost(); err != nil {
		return nil, fmt.Errorf("gpio: %s pin %q: %w", role, name, err)
	}
	if p := gpioreg.ByName(name); p != nil {
		return p, nil
	}
	all := gpioreg.All()
	if len(all) == 0 {
		return nil, fmt.Errorf("gpio: %s pin %q not found: this host has no GPIO lines (no /dev/gpiochip*, or no permission)", role, name)
	}
	names := make([]string, 0, 12)
	for i, p := range all {
		if i == 12 {
			names = append(names, "…")
			break
		}
		names = append(names, p.Name())
	}
	return nil, fmt.Errorf("gpio: %s pin %q not found among %d GPIO lines (%s)", role, name, len(all), strings.Join(names, ", "))
}

// Close switches the LED off and stops the button.
func (d *Devices) Close() error {
	var errs []error
	if d.LED != nil {
		errs = append(errs, d.LED.Close())
	}
	if d.Button != nil {
		errs = append(errs, d.Button.Close())
	}
	if d.FakeButton != nil {
		errs = append(errs, d.FakeButton.Close())
	}
	return errors.Join(errs...)
}
