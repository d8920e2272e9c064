package appliance

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The appliance's own tables in the store.
var migrations = []string{
	`CREATE TABLE appliance_meta (
		k TEXT PRIMARY KEY,
		v TEXT NOT NULL
	);
	CREATE TABLE audit (
		id     INTEGER PRIMARY KEY,
		at     TEXT NOT NULL,
		who    TEXT NOT NULL,
		origin TEXT NOT NULL,
		action TEXT NOT NULL,
		detail TEXT NOT NULL
	);`,
	`CREATE TABLE update_history (
		id         INTEGER PRIMARY KEY,
		at         TEXT NOT NULL,
		record     TEXT NOT NULL
	);`,
}

// Keys of appliance_meta.
const (
	metaClaimedAt       = "claimed_at"
	metaSetupCode       = "setup_code"
	metaRecoveryPending = "recovery_code_pending"
	metaTLSCert         = "tls_cert_pem"
	metaTLSKey          = "tls_key_pem"
	metaUpdateFloor     = "update_floor"
	metaUpdateTrust     = "update_trust"
)

func (s *System) getMeta(ctx context.Context, k string) (string, error) {
	var v string
	err := s.store.DB().QueryRowContext(ctx, "SELECT v FROM appliance_meta WHERE k = ?", k).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("appliance: meta %s: %w", k, err)
	}
	return v, nil
}

func (s *System) setMeta(ctx context.Context, k, v string) error {
	_, err := s.store.DB().ExecContext(ctx,
		"INSERT INTO appliance_meta(k, v) VALUES(?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", k, v)
	if err != nil {
		return fmt.Errorf("appliance: set meta %s: %w", k, err)
	}
	return nil
}

func (s *System) deleteMeta(ctx context.Context, k string) error {
	if _, err := s.store.DB().ExecContext(ctx, "DELETE FROM appliance_meta WHERE k = ?", k); err != nil {
		return fmt.Errorf("appliance: delete meta %s: %w", k, err)
	}
	return nil
}

// Audit records who did what, from where. Every admin action goes here.
func (s *System) Audit(ctx context.Context, who, origin, action, detail string) error {
	_, err := s.store.DB().ExecContext(ctx,
		"INSERT INTO audit(at, who, origin, action, detail) VALUES(?, ?, ?, ?, ?)",
		time.Now().UTC().Format(time.RFC3339), who, origin, action, detail)
	if err != nil {
		return fmt.Errorf("appliance: audit: %w", err)
	}
	return nil
}

// newSetupCode is 80 random bits as four groups of four characters: typed
// once from the label or the serial console.
func newSetupCode() (string, error) {
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	s := base32.StdEncoding.EncodeToString(b)
	return strings.Join([]string{s[0:4], s[4:8], s[8:12], s[12:16]}, "-"), nil
}

// ensureSetupCode gives an unclaimed box its setup code (kept across
// restarts until the box is claimed).
func (s *System) ensureSetupCode(ctx context.Context) (string, error) {
	code, err := s.getMeta(ctx, metaSetupCode)
	if err != nil || code != "" {
		return code, err
	}
	if code, err = newSetupCode(); err != nil {
		return "", err
	}
	return code, s.setMeta(ctx, metaSetupCode, code)
}
