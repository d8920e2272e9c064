// Package gpiotest has test helpers for package gpio: a fake Clock that only
// moves when a test advances it, and fake LED and button pins built on
// periph's own periph.io/x/conn/v3/gpio/gpiotest.Pin.
//
// It may import gpio, periph.io/x/conn/v3 and the standard library. Only
// tests import it; the dev-mode fakes a running box uses (gpio.FakeButton,
// gpio.NewLogLED) live in package gpio.
package gpiotest
