// Package console is the box's local web console for IT staff: first-boot
// claim with the setup code and emergency kit, admin sign-in (argon2id,
// sessions, CSRF, backoff and lockout, optional TOTP), people, invites with
// QR codes, certificates, audit log, logs and diagnostics, signed updates
// (resumable upload, apply with progress, USB and feed offers, history),
// reboot and factory reset, the public invite pages, and Prometheus /metrics.
//
// It is server-rendered: net/http, html/template and embed, every asset in
// the binary (no CDN, no third-party request), a little external JavaScript
// and a CSP without inline script.
//
// It may import config, services, services/store, services/invites, the
// standard library, golang.org/x/crypto/argon2, github.com/skip2/go-qrcode
// and github.com/prometheus/client_golang. It must not import appliance:
// the appliance implements Box and Updates (and the XMPP service Accounts
// and Rosters) and passes them in. consoletest has in-memory fakes of
// them all.
package console
