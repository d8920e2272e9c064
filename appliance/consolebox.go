package appliance

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chatsecure/box/services/console"
)

// consoleBox is the System as the console sees it (console.Box). Actions
// that stop the services (factory reset, reboot, new certificate) run on
// their own goroutine: the console is one of those services, and its
// request must finish before it can stop.
type consoleBox struct{ s *System }

var _ console.Box = consoleBox{}

func (b consoleBox) Status(ctx context.Context) console.BoxStatus {
	st := b.s.Status(ctx)
	up := time.Since(b.s.started)
	out := console.BoxStatus{
		State: st.State, Reason: st.Reason, LED: st.LED, Health: st.Health,
		Version: st.Version, Uptime: up, RecoveryPending: st.RecoveryPending,
		CertFingerprint: st.CertFingerprint, Sessions: -1, MessagesPerMinute: -1,
	}
	out.Claimed = st.State != string(StateUnclaimed)
	if b.s.sessions != nil {
		out.Sessions = b.s.sessions()
	}
	if b.s.msgsPerMinute != nil {
		out.MessagesPerMinute = float64(b.s.msgsPerMinute())
	}
	return out
}

func normalizeSetupCode(s string) string {
	return strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(s)))
}

func (b consoleBox) Claim(ctx context.Context, setupCode, admin, origin string) error {
	s := b.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.store == nil {
		return fmt.Errorf("store is not open (box is %s)", s.m.state)
	}
	if claimed, err := s.getMeta(ctx, metaClaimedAt); err != nil {
		return err
	} else if claimed != "" {
		return console.ErrClaimed
	}
	want, err := s.getMeta(ctx, metaSetupCode)
	if err != nil {
		return err
	}
	got := normalizeSetupCode(setupCode)
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(normalizeSetupCode(want))) != 1 {
		s.Audit(ctx, admin, origin, "claim-refused", "wrong setup code")
		return console.ErrBadSetupCode
	}
	if err := s.setMeta(ctx, metaClaimedAt, time.Now().UTC().Format(time.RFC3339)); err != nil {
		return err
	}
	if err := s.deleteMeta(ctx, metaSetupCode); err != nil {
		return err
	}
	s.Audit(ctx, admin, origin, "claim", "first admin "+admin)
	if s.m.state == StateUnclaimed {
		s.setState(StateRunning, "")
	}
	return nil
}

func (b consoleBox) PendingRecoveryCode(ctx context.Context) (string, error) {
	return b.s.PendingRecoveryCode(ctx)
}

func (b consoleBox) ConfirmRecoveryCode(ctx context.Context, who, origin string) error {
	return b.s.ConfirmRecoveryCode(ctx, who, origin)
}

func (b consoleBox) FactoryReset(ctx context.Context, who, origin string) error {
	go func() {
		if err := b.s.FactoryReset(context.Background(), who, origin); err != nil {
			b.s.log.Error("factory reset from the console", "err", err)
		}
	}()
	return nil
}

func (b consoleBox) Reboot(ctx context.Context, who, origin string) error {
	go func() {
		if err := b.s.Reboot(context.Background(), who, origin); err != nil {
			b.s.log.Error("reboot from the console", "err", err)
		}
	}()
	return nil
}

func (b consoleBox) Audit(ctx context.Context, who, origin, action, detail string) error {
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	if b.s.store == nil {
		return errors.New("store is not open")
	}
	return b.s.Audit(ctx, who, origin, action, detail)
}

func (b consoleBox) AuditLog(ctx context.Context, limit int) ([]console.AuditEntry, error) {
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	if b.s.store == nil {
		return nil, errors.New("store is not open")
	}
	rows, err := b.s.store.DB().QueryContext(ctx,
		"SELECT at, who, origin, action, detail FROM audit ORDER BY id DESC LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("appliance: audit log: %w", err)
	}
	defer rows.Close()
	var out []console.AuditEntry
	for rows.Next() {
		var e console.AuditEntry
		var at string
		if err := rows.Scan(&at, &e.Who, &e.Origin, &e.Action, &e.Detail); err != nil {
			return nil, err
		}
		e.At, _ = time.Parse(time.RFC3339, at)
		out = append(out, e)
	}
	return out, rows.Err()
}

func (b consoleBox) Certificate(ctx context.Context) ([]byte, error) {
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	var out []byte
	for _, der := range b.s.cert.Certificate {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	if len(out) == 0 {
		return nil, errors.New("no certificate yet")
	}
	return out, nil
}

// InstallCertificate keeps the organisation's certificate and key in the
// store (the key never lands on disk in clear) and restarts the services so
// every listener presents it.
func (b consoleBox) InstallCertificate(ctx context.Context, certPEM, keyPEM []byte, who, origin string) error {
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return fmt.Errorf("certificate and key: %w", err)
	}
	s := b.s
	s.mu.Lock()
	if s.store == nil {
		s.mu.Unlock()
		return errors.New("store is not open")
	}
	err := s.setMeta(ctx, metaTLSCert, string(certPEM))
	if err == nil {
		err = s.setMeta(ctx, metaTLSKey, string(keyPEM))
	}
	if err == nil {
		err = s.Audit(ctx, who, origin, "certificate-installed", "")
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	go s.restartServices()
	return nil
}

func (b consoleBox) Logs(ctx context.Context, limit int) ([]string, error) {
	if b.s.logRing == nil {
		return nil, errors.New("no log buffer")
	}
	return b.s.logRing.Lines(limit), nil
}

// restartServices stops every service, reloads the certificate and starts
// them again.
func (s *System) restartServices() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopServices()
	cert, err := s.loadTLS(context.Background())
	if err != nil {
		s.log.Error("reloading the certificate", "err", err)
	} else {
		s.cert = cert
	}
	s.startServices()
	s.log.Info("services restarted with the current certificate", "fingerprint", Fingerprint(s.cert))
}
