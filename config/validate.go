package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// FieldError says which field of the configuration is wrong and why.
type FieldError struct {
	Field  string // JSON path, e.g. "xmpp.c2s"
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Validate checks every field and returns all problems joined, each a
// *FieldError.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	if c.DataDir == "" {
		bad("data_dir", "must not be empty")
	}
	if c.XMPP.Domain != "" && !validDomain(c.XMPP.Domain) {
		bad("xmpp.domain", "%q is not a valid domain name", c.XMPP.Domain)
	}
	checkAddr(bad, "xmpp.c2s", c.XMPP.C2S, true)
	checkAddr(bad, "xmpp.c2s_tls", c.XMPP.C2STLS, true)
	if c.XMPP.MaxStanzaBytes < 10<<10 || c.XMPP.MaxStanzaBytes > 16<<20 {
		bad("xmpp.max_stanza_bytes", "%d is outside 10240..16777216", c.XMPP.MaxStanzaBytes)
	}
	if c.XMPP.SessionsPerAccount < 1 || c.XMPP.SessionsPerAccount > 1000 {
		bad("xmpp.sessions_per_account", "%d is outside 1..1000", c.XMPP.SessionsPerAccount)
	}
	if c.XMPP.ConnsPerIP < 1 || c.XMPP.ConnsPerIP > 100000 {
		bad("xmpp.conns_per_ip", "%d is outside 1..100000", c.XMPP.ConnsPerIP)
	}
	if c.XMPP.OfflineQuota < 0 || c.XMPP.OfflineQuota > 1000000 {
		bad("xmpp.offline_quota", "%d is outside 0..1000000", c.XMPP.OfflineQuota)
	}
	if d := c.XMPP.AuthTimeout.D(); d < time.Second || d > 10*time.Minute {
		bad("xmpp.auth_timeout", "%s is outside 1s..10m", d)
	}
	checkAddr(bad, "console.listen", c.Console.Listen, true)
	checkAddr(bad, "console.redirect", c.Console.Redirect, true)
	checkAddr(bad, "console.metrics", c.Console.Metrics, true)
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		bad("tls", "cert_file and key_file go together")
	}
	switch c.TPM.Mode {
	case "auto", "kernel", "mmio", "spi", "none":
	case "software":
		if !c.Dev {
			bad("tpm.mode", "software sealer is for dev mode only")
		}
	default:
		bad("tpm.mode", "%q is not one of auto, kernel, mmio, spi, none, software", c.TPM.Mode)
	}
	if c.TPM.LockPCR < 0 || c.TPM.LockPCR > 23 {
		bad("tpm.lock_pcr", "%d is outside 0..23", c.TPM.LockPCR)
	} else if c.TPM.LockPCR == 16 || c.TPM.LockPCR == 23 {
		bad("tpm.lock_pcr", "PCR %d can be reset by software, so it cannot lock", c.TPM.LockPCR)
	}
	switch c.GPIO.Driver {
	case "periph", "fake":
	default:
		bad("gpio.driver", "%q is not periph or fake", c.GPIO.Driver)
	}
	if c.GPIO.LEDActive != "high" && c.GPIO.LEDActive != "low" {
		bad("gpio.led_active", "%q is not high or low", c.GPIO.LEDActive)
	}
	if c.GPIO.Driver == "periph" && (c.GPIO.LEDPin == "" || c.GPIO.ButtonPin == "") {
		bad("gpio", "led_pin and button_pin are required with the periph driver")
	}
	if c.GPIO.LEDPin != "" && c.GPIO.LEDPin == c.GPIO.ButtonPin {
		bad("gpio.button_pin", "same pin as the LED")
	}
	if c.Push.Relay != "" {
		checkHTTPS(bad, "push.relay", c.Push.Relay)
	}
	if c.Updates.FeedURL != "" {
		checkFeedURL(bad, c.Updates.FeedURL, c.Dev)
	}
	if c.Updates.Channel != "stable" && c.Updates.Channel != "beta" {
		bad("updates.channel", "%q is not stable or beta", c.Updates.Channel)
	}
	if d := c.Updates.PollInterval.D(); d < time.Minute {
		bad("updates.poll_interval", "%s is shorter than 1m", d)
	}
	return errors.Join(errs...)
}

func checkAddr(bad func(string, string, ...any), field, addr string, emptyOK bool) {
	if addr == "" {
		if !emptyOK {
			bad(field, "must not be empty")
		}
		return
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		bad(field, "%q is not host:port: %v", addr, err)
		return
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		bad(field, "port %q is not a number in 0..65535", port)
	}
	if host != "" && net.ParseIP(host) == nil && !validDomain(host) {
		bad(field, "host %q is neither an IP address nor a name", host)
	}
}

func checkHTTPS(bad func(string, string, ...any), field, raw string) {
	u, err := url.Parse(raw)
	if err != nil {
		bad(field, "%v", err)
		return
	}
	if u.Scheme != "https" || u.Host == "" {
		bad(field, "%q must be an https:// URL", raw)
	}
}

// checkFeedURL wants https://, or in dev mode also http:// on a loopback
// address (a feed served from the same laptop).
func checkFeedURL(bad func(string, string, ...any), raw string, dev bool) {
	u, err := url.Parse(raw)
	if err != nil {
		bad("updates.feed_url", "%v", err)
		return
	}
	if dev && u.Scheme == "http" && IsLoopback(u.Hostname()) {
		return
	}
	if u.Scheme != "https" || u.Host == "" {
		if u.Scheme == "http" && IsLoopback(u.Hostname()) {
			bad("updates.feed_url", "%q: http:// on loopback is for dev mode only; use https://", raw)
			return
		}
		bad("updates.feed_url", "%q must be an https:// URL", raw)
	}
}

// IsLoopback reports whether host is localhost or a loopback address.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validDomain accepts LDH names (RFC 1123 labels), which is what XMPP
// domains on a box are in practice.
func validDomain(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}
