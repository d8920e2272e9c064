package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultsValidate(t *testing.T) {
	for name, c := range map[string]Config{"default": Default(), "dev": Dev()} {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestValidateNamesField(t *testing.T) {
	cases := []struct {
		mutate func(*Config)
		field  string
		reason string
	}{
		{func(c *Config) { c.XMPP.Domain = "bad domain" }, "xmpp.domain", "not a valid domain"},
		{func(c *Config) { c.XMPP.C2S = "5222" }, "xmpp.c2s", "not host:port"},
		{func(c *Config) { c.XMPP.MaxStanzaBytes = 10 }, "xmpp.max_stanza_bytes", "outside"},
		{func(c *Config) { c.TPM.Mode = "software" }, "tpm.mode", "dev mode only"},
		{func(c *Config) { c.TPM.LockPCR = 23 }, "tpm.lock_pcr", "reset by software"},
		{func(c *Config) { c.GPIO.LEDActive = "up" }, "gpio.led_active", "not high or low"},
		{func(c *Config) { c.Updates.FeedURL = "http://x" }, "updates.feed_url", "https"},
		{func(c *Config) { c.Updates.FeedURL = "http://127.0.0.1:8080/feed" }, "updates.feed_url", "dev mode only"},
		{func(c *Config) { c.Updates.FeedURL = "ftp://updates.example/" }, "updates.feed_url", "https"},
		{func(c *Config) { c.Updates.Channel = "nightly" }, "updates.channel", "not stable or beta"},
		{func(c *Config) { c.Updates.PollInterval = Duration(time.Second) }, "updates.poll_interval", "shorter"},
		{func(c *Config) { c.GPIO.ButtonPin = c.GPIO.LEDPin }, "gpio.button_pin", "same pin"},
	}
	for _, tc := range cases {
		c := Default()
		tc.mutate(&c)
		err := c.Validate()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field || !strings.Contains(fe.Reason, tc.reason) {
			t.Errorf("%s: got %v", tc.field, err)
		}
	}
}

func TestFeedURLInDevMode(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://updates.example/feed": true,
		"http://127.0.0.1:8080/feed":   true,
		"http://[::1]:8080/feed":       true,
		"http://localhost/feed":        true,
		"http://192.168.1.5/feed":      false,
		"http://updates.example/feed":  false,
	} {
		c := Dev()
		c.Updates.FeedURL = raw
		if err := c.Validate(); (err == nil) != ok {
			t.Errorf("dev feed %s: %v", raw, err)
		}
	}
	if Default().Updates.FeedURL != "" || !Default().Updates.USB || Dev().Updates.USB || Default().Updates.AutoApply {
		t.Fatal("updates defaults: feed off, USB on (image) / off (dev), no auto-apply")
	}
}

func TestLoadMissingFileIsBase(t *testing.T) {
	c, err := Load(filepath.Join(t.TempDir(), FileName), Dev())
	if err != nil {
		t.Fatal(err)
	}
	if c.XMPP.Domain != "localhost" || !c.Dev {
		t.Fatalf("got %+v", c.XMPP)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", FileName)
	c := Default()
	c.XMPP.Domain = "chat.example.org"
	c.XMPP.AuthTimeout = Duration(45e9)
	if err := Save(path, c); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", fi.Mode(), err)
	}
	got, err := Load(path, Default())
	if err != nil {
		t.Fatal(err)
	}
	if got.XMPP.Domain != "chat.example.org" || got.XMPP.AuthTimeout != Duration(45e9) {
		t.Fatalf("got %+v", got.XMPP)
	}
	// No temp files left behind.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries", len(entries))
	}
}

func TestLoadPartialKeepsDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	os.WriteFile(path, []byte(`{"xmpp": {"domain": "box.lan"}}`), 0o600)
	c, err := Load(path, Default())
	if err != nil {
		t.Fatal(err)
	}
	if c.XMPP.Domain != "box.lan" || c.XMPP.C2S != ":5222" {
		t.Fatalf("got %+v", c.XMPP)
	}
}

func TestLoadBadFilesSayWhere(t *testing.T) {
	cases := map[string]string{
		`{"xmpp": {"domain": 5}}`:            "xmpp.domain",
		`{"xmpp": {"c2s": "nope"}}`:          "xmpp.c2s",
		`{"xmpp": {"auth_timeout": "soon"}}`: "auth_timeout",
		`{"tpm": {"mode": "magic"}}`:         "tpm.mode",
		`{"nonsense": true}`:                 `unknown field "nonsense"`,
		"{\n  \"xmpp\": {,\n}":               "line 2",
		``:                                   "empty file",
		`{} {}`:                              "trailing data",
	}
	for data, want := range cases {
		path := filepath.Join(t.TempDir(), FileName)
		os.WriteFile(path, []byte(data), 0o600)
		_, err := Load(path, Default())
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%q: got %v, want file and %q", data, err, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"xmpp": {"domain": "box.lan"}}`))
	f.Add([]byte(`{"xmpp": {"auth_timeout": "1h"}}`))
	f.Add([]byte(`{"tpm": {"lock_pcr": -1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := Default()
		if err := Parse(data, &c); err == nil {
			// Whatever parses must also validate and survive a round trip.
			if err := c.Validate(); err != nil {
				t.Fatalf("Parse accepted an invalid config: %v", err)
			}
		}
	})
}
