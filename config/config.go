package config

import "time"

// Config is everything an operator can set. The zero value is not useful:
// start from Default or Dev.
type Config struct {
	// Dev marks a dev-mode box: software sealer allowed, fake GPIO,
	// self-signed TLS, domain localhost. Never set on an image.
	Dev bool `json:"dev,omitempty"`
	// DataDir holds everything the box keeps: config, sealed key, store,
	// uploads, the admin socket.
	DataDir string `json:"data_dir"`

	XMPP    XMPP    `json:"xmpp"`
	Console Console `json:"console"`
	TLS     TLS     `json:"tls"`
	TPM     TPM     `json:"tpm"`
	GPIO    GPIO    `json:"gpio"`
	Push    Push    `json:"push"`
	Updates Updates `json:"updates"`
	Tor     Tor     `json:"tor"`
}

// XMPP configures the chat server.
type XMPP struct {
	// Domain is the XMPP domain users log in to (user@Domain).
	Domain string `json:"domain"`
	// C2S is the STARTTLS client listener (5222); C2STLS the direct-TLS
	// one (XEP-0368, 5223). Empty disables a listener.
	C2S    string `json:"c2s"`
	C2STLS string `json:"c2s_tls"`
	// MaxStanzaBytes bounds one stanza; larger ones end the stream with
	// policy-violation.
	MaxStanzaBytes int `json:"max_stanza_bytes"`
	// SessionsPerAccount and ConnsPerIP bound what one user or one address
	// can hold open.
	SessionsPerAccount int `json:"sessions_per_account"`
	ConnsPerIP         int `json:"conns_per_ip"`
	// OfflineQuota is how many messages are kept per user while offline.
	OfflineQuota int `json:"offline_quota"`
	// AuthTimeout ends streams that have not authenticated by then.
	AuthTimeout Duration `json:"auth_timeout"`
}

// Console configures the local web console.
type Console struct {
	// Listen is the HTTPS listener; Redirect a plain-HTTP one that only
	// redirects to it (empty: none).
	Listen   string `json:"listen"`
	Redirect string `json:"redirect,omitempty"`
	// Metrics is an optional separate listener for Prometheus /metrics.
	Metrics string `json:"metrics,omitempty"`
}

// TLS says where the box's certificate comes from.
type TLS struct {
	// CertFile and KeyFile are PEM files relative to DataDir; when both are
	// empty the box makes and keeps a self-signed certificate.
	CertFile string `json:"cert_file,omitempty"`
	KeyFile  string `json:"key_file,omitempty"`
}

// TPM picks how the database key is sealed.
type TPM struct {
	// Mode is auto, kernel, mmio, spi, simulator (tests) or software (dev
	// only), or none.
	Mode string `json:"mode"`
	// Device is the kernel resource manager, /dev/tpmrm0.
	Device string `json:"device"`
	// LockPCR is extended after the key is unsealed, so no later process
	// on this boot can unseal it again. It must be a PCR that software cannot
	// reset (not 16 or 23, which the PC Client profile lets locality 0 reset).
	LockPCR int `json:"lock_pcr"`
}

// GPIO names the status LED and reset button pins.
type GPIO struct {
	// Driver is "periph" (real /dev/gpiochip) or "fake" (dev mode).
	Driver    string `json:"driver"`
	LEDPin    string `json:"led_pin"`
	LEDActive string `json:"led_active"` // "high" or "low"
	ButtonPin string `json:"button_pin"`
}

// Push configures the app-server side that wakes sleeping phones.
type Push struct {
	Enabled bool   `json:"enabled"`
	Relay   string `json:"relay,omitempty"` // optional APNs/FCM relay URL
}

// Updates configures where signed firmware comes from. Whatever the
// source, a bundle is verified before anything is written.
type Updates struct {
	// FeedURL is an optional HTTPS feed; empty (the default) means offline
	// only (console upload, boxctl, USB stick). Dev mode also takes
	// http:// on a loopback address.
	FeedURL      string   `json:"feed_url,omitempty"`
	Channel      string   `json:"channel"` // stable or beta
	PollInterval Duration `json:"poll_interval"`
	// FeedCAFile is an optional PEM file (relative to DataDir or
	// absolute) of CAs trusted for the feed besides the system's, e.g. an
	// organisation's internal mirror.
	FeedCAFile string `json:"feed_ca_file,omitempty"`
	// USB watches for USB sticks and offers the newest bundle on one.
	USB bool `json:"usb"`
	// AutoApply applies what USB or the feed found without waiting for
	// an admin (the trial boot and health check still guard it).
	AutoApply bool `json:"auto_apply,omitempty"`
}

// Tor runs an onion service for reachability without port forwarding.
type Tor struct {
	Enabled bool `json:"enabled"`
}

// Default is the configuration of a box running from an image.
func Default() Config {
	return Config{
		DataDir: "/perm/box",
		XMPP: XMPP{
			Domain:             "",
			C2S:                ":5222",
			C2STLS:             ":5223",
			MaxStanzaBytes:     256 << 10,
			SessionsPerAccount: 10,
			ConnsPerIP:         100,
			OfflineQuota:       1000,
			AuthTimeout:        Duration(30 * time.Second),
		},
		Console: Console{Listen: ":443", Redirect: ":80"},
		TPM:     TPM{Mode: "auto", Device: "/dev/tpmrm0", LockPCR: 15},
		GPIO:    GPIO{Driver: "periph", LEDPin: "GPIO17", LEDActive: "high", ButtonPin: "GPIO27"},
		Updates: Updates{Channel: "stable", PollInterval: Duration(6 * time.Hour), USB: true},
	}
}

// Dev is the configuration of `boxd -dev`: everything on loopback, data under
// ./var/dev, software sealer, fake GPIO, domain localhost.
func Dev() Config {
	c := Default()
	c.Dev = true
	c.DataDir = "var/dev"
	c.XMPP.Domain = "localhost"
	c.XMPP.C2S = "127.0.0.1:5222"
	c.XMPP.C2STLS = "127.0.0.1:5223"
	c.Console = Console{Listen: "127.0.0.1:8443"}
	c.TPM.Mode = "software"
	c.GPIO.Driver = "fake"
	c.Updates.USB = false // a laptop's own sticks are not the box's
	return c
}
