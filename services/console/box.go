package console

import (
	"context"
	"errors"
	"time"

	"github.com/chatsecure/box/services"
)

// Box is what the console needs from the appliance. appliance.System
// implements it; consoletest.Box is the in-memory twin.
type Box interface {
	// Status is the box as the dashboard shows it.
	Status(ctx context.Context) BoxStatus
	// Claim checks the one-time setup code and, if it matches, marks the box
	// claimed by admin (the code stops working). A wrong code is
	// ErrBadSetupCode; an already claimed box ErrClaimed.
	Claim(ctx context.Context, setupCode, admin, origin string) error
	// PendingRecoveryCode is the recovery code until ConfirmRecoveryCode.
	PendingRecoveryCode(ctx context.Context) (string, error)
	ConfirmRecoveryCode(ctx context.Context, who, origin string) error
	FactoryReset(ctx context.Context, who, origin string) error
	Reboot(ctx context.Context, who, origin string) error
	// Audit records an admin action; AuditLog returns the newest limit
	// entries, newest first.
	Audit(ctx context.Context, who, origin, action, detail string) error
	AuditLog(ctx context.Context, limit int) ([]AuditEntry, error)
	// Certificate is the box's current TLS certificate chain (PEM).
	Certificate(ctx context.Context) ([]byte, error)
	// InstallCertificate replaces the box's certificate and key. The
	// console has already checked that they parse and match.
	InstallCertificate(ctx context.Context, certPEM, keyPEM []byte, who, origin string) error
	// Logs returns up to limit recent log lines, oldest first, with no
	// secrets in them (the console redacts again, belt and braces).
	Logs(ctx context.Context, limit int) ([]string, error)
}

// BoxStatus is one look at the box.
type BoxStatus struct {
	State   string // boot, unclaimed, locked, fault, running, updating, ...
	Reason  string
	LED     string // the status LED's pattern, e.g. "solid green"
	Health  map[string]services.Health
	Version string
	Uptime  time.Duration
	// Claimed is false until someone entered the setup code.
	Claimed bool
	// RecoveryPending is true until an admin confirms having the recovery code.
	RecoveryPending bool
	CertFingerprint string // SHA-256, colon-separated hex
	// Sessions and MessagesPerMinute come from the XMPP service; negative
	// means unknown (not shown).
	Sessions          int
	MessagesPerMinute float64
}

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	At     time.Time
	Who    string
	Origin string
	Action string
	Detail string
}

// Accounts is the XMPP service's account table as the console uses it.
type Accounts interface {
	Create(ctx context.Context, localpart, password string) error
	SetPassword(ctx context.Context, localpart, password string) error
	// SetDisabled stops (or allows again) logins and ends open sessions.
	SetDisabled(ctx context.Context, localpart string, disabled bool) error
	Delete(ctx context.Context, localpart string) error
}

// Rosters makes two users contacts of each other (optional).
type Rosters interface {
	AddMutual(ctx context.Context, a, b string) error
}

// Errors a Box returns from Claim.
var (
	ErrBadSetupCode = errors.New("console: wrong setup code")
	ErrClaimed      = errors.New("console: the box is already claimed")
)
