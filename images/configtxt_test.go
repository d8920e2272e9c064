package images

import (
	"strings"
	"testing"

	"github.com/chatsecure/box/config"
)

const piBase = "# Switch the CPU from ARMv7 into ARMv8 (aarch64) mode\narm_control=0x200\n\nenable_uart=0\n\nkernel=vmlinuz\n"

func TestConfigTxt(t *testing.T) {
	got, err := ConfigTxt(piBase, config.GPIO{LEDPin: "GPIO17", LEDActive: "high", ButtonPin: "GPIO27"})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(got, "\n")
	has := func(l string) bool {
		for _, x := range lines {
			if strings.TrimSpace(x) == l {
				return true
			}
		}
		return false
	}
	for _, want := range []string{"dtparam=spi=on", "kernel=vmlinuz", "enable_uart=0", "arm_control=0x200", "gpio=17=op,dl", "gpio=27=ip,pu"} {
		if !has(want) {
			t.Errorf("config.txt lacks %q:\n%s", want, got)
		}
	}
	if !strings.HasSuffix(got, "\n") {
		t.Errorf("config.txt does not end with a newline")
	}
	low, err := ConfigTxt(piBase, config.GPIO{LEDPin: "gpio4", LEDActive: "low", ButtonPin: "GPIO5"})
	if err != nil || !strings.Contains(low, "gpio=4=op,dh\n") {
		t.Errorf("active-low LED: %v\n%s", err, low)
	}
}

func TestConfigTxtRejects(t *testing.T) {
	for _, g := range []config.GPIO{
		{LEDPin: "17", ButtonPin: "GPIO27"},
		{LEDPin: "GPIO17", ButtonPin: "GPIO99"},
		{LEDPin: "GPIO17", ButtonPin: "GPIOx"},
		{LEDPin: "GPIO17", LEDActive: "sideways", ButtonPin: "GPIO27"},
	} {
		if _, err := ConfigTxt(piBase, g); err == nil {
			t.Errorf("ConfigTxt(%+v) accepted", g)
		}
	}
}

func TestConfigDefaultsRender(t *testing.T) {
	if _, err := ConfigTxt(piBase, config.Default().GPIO); err != nil {
		t.Errorf("default config's pins: %v", err)
	}
}
