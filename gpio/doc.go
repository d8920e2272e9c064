// Package gpio drives the box's status LED and reads its one button.
//
// The LED shows one Signal at a time (booting, unclaimed, locked, running,
// updating, fault, reset-armed, erasing, identify) as a blink pattern; the
// patterns are data (patterns.go) so the README's table is rendered from the
// same table the driver plays (MarkdownTable). The button is debounced and
// turned into events (identify, reboot, reset armed / confirmed / cancelled)
// by a pure state machine fed with (time, level) samples (Machine), so every
// timing rule is testable with a fake clock.
//
// Real pins come from periph.io (host/v3, /dev/gpiochip); dev mode uses a
// logging LED and a FakeButton that boxctl can press through the admin API.
// All timing goes through the tiny Clock interface; gpio/gpiotest has a fake
// clock and periph-based fake pins for tests.
//
// It may import config, periph.io/x/conn/v3 and periph.io/x/host/v3 and the
// standard library; nothing else in the box.
package gpio
