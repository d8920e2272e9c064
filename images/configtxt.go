package images

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/chatsecure/box/config"
)

// ConfigTxt renders the Raspberry Pi config.txt: the kernel package's base
// (64-bit mode, kernel=vmlinuz, UART off so nobody gets a console from the
// pins), SPI on for the TPM module, and the LED and button pins from config set
// up before the kernel runs (LED off, button pulled up).
func ConfigTxt(base string, gpio config.GPIO) (string, error) {
	led, err := bcmPin(gpio.LEDPin)
	if err != nil {
		return "", fmt.Errorf("images: config.txt: led pin: %w", err)
	}
	button, err := bcmPin(gpio.ButtonPin)
	if err != nil {
		return "", fmt.Errorf("images: config.txt: button pin: %w", err)
	}
	ledOff := "dl"
	switch gpio.LEDActive {
	case "high", "":
	case "low":
		ledOff = "dh"
	default:
		return "", fmt.Errorf("images: config.txt: led_active %q: want high or low", gpio.LEDActive)
	}
	var b strings.Builder
	b.WriteString(strings.TrimRight(base, "\n"))
	b.WriteString("\n\n# ChatSecure Box\n")
	b.WriteString("dtparam=spi=on\n")
	fmt.Fprintf(&b, "gpio=%d=op,%s\n", led, ledOff)
	fmt.Fprintf(&b, "gpio=%d=ip,pu\n", button)
	return b.String(), nil
}

// bcmPin parses "GPIO17" (periph.io's name) into the BCM number 17.
func bcmPin(name string) (int, error) {
	n, ok := strings.CutPrefix(strings.ToUpper(strings.TrimSpace(name)), "GPIO")
	if !ok {
		return 0, fmt.Errorf("pin %q: want GPIO<n>", name)
	}
	v, err := strconv.Atoi(n)
	if err != nil || v < 0 || v > 53 {
		return 0, fmt.Errorf("pin %q: want GPIO0..GPIO53", name)
	}
	return v, nil
}
