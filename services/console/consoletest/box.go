package consoletest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base32"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/chatsecure/box/services"
	"github.com/chatsecure/box/services/console"
)

// Box is an in-memory console.Box: an unclaimed box with a setup code, a
// pending recovery code, a self-signed certificate and an audit log.
type Box struct {
	mu        sync.Mutex
	setupCode string
	claimedBy string
	recovery  string
	confirmed bool
	audit     []console.AuditEntry
	cert      tls.Certificate
	certPEM   []byte
	logs      []string
	reboots   int
	resets    int
	now       func() time.Time
	started   time.Time

	updates      *updateState
	failChunks   int
	failAt       int64
	chunksFailed int
	applyStep    time.Duration

	// Sessions and MessagesPerMinute are reported in Status.
	Sessions          int
	MessagesPerMinute float64
}

// NewBox makes an unclaimed box. now may be nil.
func NewBox(now func() time.Time) (*Box, error) {
	if now == nil {
		now = time.Now
	}
	code := func(n int) string {
		b := make([]byte, n)
		rand.Read(b)
		s := base32.StdEncoding.EncodeToString(b)
		var parts []string
		for i := 0; i+4 <= len(s) && len(parts) < 2*n/5; i += 4 {
			parts = append(parts, s[i:i+4])
		}
		return strings.Join(parts, "-")
	}
	certPEM, keyPEM, err := SelfSigned(now())
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	return &Box{
		setupCode: code(10), recovery: code(20), cert: cert, certPEM: certPEM, now: now, started: now(),
		logs: []string{
			"level=INFO msg=\"boxd starting\" version=test",
			"level=INFO msg=\"store opened\"",
			"level=WARN msg=\"example of a line with a secret\" token=abcdef123456",
		},
		Sessions: 3, MessagesPerMinute: 12.5,
	}, nil
}

// SelfSigned makes a certificate and key for 127.0.0.1 and localhost.
func SelfSigned(now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "localhost", Organization: []string{"ChatSecure Box test"}},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), nil
}

// SetupCode is what the label on the box would say.
func (b *Box) SetupCode() string { return b.setupCode }

// RecoveryCode is the code the emergency kit should show.
func (b *Box) RecoveryCode() string { return b.recovery }

// TLSConfig serves the box's current certificate (it follows InstallCertificate).
func (b *Box) TLSConfig() *tls.Config {
	return &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		c := b.cert
		return &c, nil
	}}
}

// Claimed reports who claimed the box.
func (b *Box) Claimed() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.claimedBy
}

// Reboots and Resets count the calls.
func (b *Box) Reboots() int { b.mu.Lock(); defer b.mu.Unlock(); return b.reboots }
func (b *Box) Resets() int  { b.mu.Lock(); defer b.mu.Unlock(); return b.resets }

// Actions lists the audit log's actions, oldest first.
func (b *Box) Actions() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, e := range b.audit {
		out = append(out, e.Action)
	}
	return out
}

func (b *Box) Status(ctx context.Context) console.BoxStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	state, led := "unclaimed", "blinking amber"
	if b.claimedBy != "" {
		state, led = "running", "solid green"
	}
	fp := ""
	if len(b.cert.Certificate) > 0 {
		leaf, _ := x509.ParseCertificate(b.cert.Certificate[0])
		if leaf != nil {
			fp = fingerprint(leaf.Raw)
		}
	}
	return console.BoxStatus{
		State: state, LED: led, Version: "v0-test", Uptime: b.now().Sub(b.started),
		Health: map[string]services.Health{
			"store": {OK: true, Detail: "box.db"}, "key": {OK: true, Detail: "software (test)"},
			"xmpp": {OK: true, Detail: "running"}, "console": {OK: true, Detail: "running"},
		},
		Claimed: b.claimedBy != "", RecoveryPending: !b.confirmed, CertFingerprint: fp,
		Sessions: b.Sessions, MessagesPerMinute: b.MessagesPerMinute,
	}
}

func (b *Box) Claim(ctx context.Context, setupCode, admin, origin string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.claimedBy != "" {
		return console.ErrClaimed
	}
	if setupCode != b.setupCode {
		return console.ErrBadSetupCode
	}
	b.claimedBy = admin
	return nil
}

func (b *Box) PendingRecoveryCode(ctx context.Context) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.confirmed {
		return "", errors.New("the recovery code was already confirmed and is no longer shown")
	}
	return b.recovery, nil
}

func (b *Box) ConfirmRecoveryCode(ctx context.Context, who, origin string) error {
	if _, err := b.PendingRecoveryCode(ctx); err != nil {
		return err
	}
	b.Audit(ctx, who, origin, "recovery-code-confirmed", "")
	b.mu.Lock()
	defer b.mu.Unlock()
	b.confirmed = true
	return nil
}

func (b *Box) FactoryReset(ctx context.Context, who, origin string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.resets++
	return nil
}

func (b *Box) Reboot(ctx context.Context, who, origin string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reboots++
	return nil
}

func (b *Box) Audit(ctx context.Context, who, origin, action, detail string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.audit = append(b.audit, console.AuditEntry{At: b.now(), Who: who, Origin: origin, Action: action, Detail: detail})
	return nil
}

func (b *Box) AuditLog(ctx context.Context, limit int) ([]console.AuditEntry, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []console.AuditEntry
	for i := len(b.audit) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, b.audit[i])
	}
	return out, nil
}

func (b *Box) Certificate(ctx context.Context) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.certPEM...), nil
}

func (b *Box) InstallCertificate(ctx context.Context, certPEM, keyPEM []byte, who, origin string) error {
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("consoletest: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cert, b.certPEM = c, append([]byte(nil), certPEM...)
	return nil
}

func (b *Box) Logs(ctx context.Context, limit int) ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.logs
	if len(l) > limit {
		l = l[len(l)-limit:]
	}
	return append([]string(nil), l...), nil
}

// AddLog appends a log line.
func (b *Box) AddLog(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.logs = append(b.logs, line)
}

var _ console.Box = (*Box)(nil)
