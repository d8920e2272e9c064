package gpio_test

import (
	"context"
	"log/slog"
	"os"

	"github.com/chatsecure/box/config"
	"github.com/chatsecure/box/gpio"
)

// How the appliance wires the LED and the button. Work that takes time runs
// off the event callback.
func ExampleOpen() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	var dev *gpio.Devices
	onEvent := func(e gpio.Event) {
		switch e.Kind {
		case gpio.EventIdentify:
			_ = dev.LED.Show(gpio.Identify) // 10 s, then back by itself
		case gpio.EventReboot:
			go func() { /* reboot */ }()
		case gpio.EventResetArmed:
			_ = dev.LED.Show(gpio.ResetArmed) // while the finger is still down
		case gpio.EventResetConfirmed:
			_ = dev.LED.Show(gpio.Erasing)
			go func() { /* factory reset, then Show(gpio.Unclaimed) */ }()
		case gpio.EventResetCancelled:
			_ = dev.LED.Show(gpio.Running) // the state the box was in
		}
	}
	dev, err := gpio.Open(config.Dev().GPIO, gpio.Options{OnEvent: onEvent, Logger: log})
	if err != nil {
		log.Error("gpio", "err", err)
		return
	}
	defer dev.Close()
	_ = dev.LED.Show(gpio.Running)
	// Dev mode: boxctl's `button press --hold 10s` ends up here.
	if dev.FakeButton != nil {
		_ = dev.FakeButton.Press(context.Background(), 0)
	}
}
