package gpio_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chatsecure/box/config"
	"github.com/chatsecure/box/gpio"
	"github.com/chatsecure/box/gpio/gpiotest"
)

func TestOpenFakeDriverIsTheDevModeSet(t *testing.T) {
	var buf bytes.Buffer
	clk := gpiotest.NewClock(epoch)
	log := &eventLog{}
	d, err := gpio.Open(config.Dev().GPIO, gpio.Options{OnEvent: log.add, Clock: clk, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.LED == nil || d.FakeButton == nil || d.Button != nil {
		t.Fatalf("fake driver gave %+v", d)
	}
	n := clk.Scheduled()
	errc := make(chan error, 1)
	go func() { errc <- d.FakeButton.Press(context.Background(), 0) }()
	clk.WaitScheduled(n + 2)
	clk.Advance(time.Second)
	must(t, <-errc)
	if got := log.String(); got != "identify@200/200" {
		t.Fatalf("events %q", got)
	}
	for _, want := range []string{"signal=booting", "event=identify"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, buf.String())
		}
	}
	must(t, d.Close())
}

func TestOpenRejectsBadConfig(t *testing.T) {
	ok := config.Default().GPIO
	cases := map[string]struct {
		mod  func(*config.GPIO)
		want string
	}{
		"driver":     {func(g *config.GPIO) { g.Driver = "sysfs" }, `"sysfs"`},
		"led_active": {func(g *config.GPIO) { g.LEDActive = "on" }, `"on"`},
		"same pin":   {func(g *config.GPIO) { g.ButtonPin = g.LEDPin }, "both on pin"},
		"no led pin": {func(g *config.GPIO) { g.LEDPin = "" }, "LED pin is not configured"},
	}
	for name, c := range cases {
		g := ok
		c.mod(&g)
		_, err := gpio.Open(g, gpio.Options{OnEvent: func(gpio.Event) {}})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one containing %s", name, err, c.want)
		}
	}
	if _, err := gpio.Open(config.Dev().GPIO, gpio.Options{}); err == nil {
		t.Error("Open without OnEvent succeeded")
	}
}

// On this machine periph finds no GPIO line of that name (a build host has
// none at all; a Pi has no line called so): the error must say which pin.
func TestPinByNameNamesTheMissingPin(t *testing.T) {
	_, err := gpio.PinByName("button", "NO_SUCH_GPIO_42")
	if err == nil || !strings.Contains(err.Error(), `button pin "NO_SUCH_GPIO_42"`) {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
}

func TestParseActive(t *testing.T) {
	for in, want := range map[string]bool{"high": false, "low": true} {
		if got, err := gpio.ParseActive(in); err != nil || got != want {
			t.Errorf("ParseActive(%q) = %t, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "HIGH", "1"} {
		if _, err := gpio.ParseActive(bad); err == nil {
			t.Errorf("ParseActive(%q) succeeded", bad)
		}
	}
}
