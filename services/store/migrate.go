package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

func (s *Store) ensureMeta(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_versions (
		service TEXT PRIMARY KEY,
		version INTEGER NOT NULL
	)`)
	if err != nil {
		return fmt.Errorf("store: schema_versions: %w", err)
	}
	return nil
}

// Migrate brings service's tables up to date. steps are that service's SQL
// migrations in order, never edited once shipped: only appended to. Each
// step runs in its own transaction together with the version bump, so a
// crash leaves the schema at a step boundary.
func (s *Store) Migrate(ctx context.Context, service string, steps []string) error {
	if service == "" {
		return errors.New("store: migrate: empty service name")
	}
	v, err := s.Version(ctx, service)
	if err != nil {
		return err
	}
	if v > len(steps) {
		return fmt.Errorf("store: migrate %s: database is at version %d but this build knows only %d steps (downgraded firmware?)", service, v, len(steps))
	}
	for i := v; i < len(steps); i++ {
		if err := s.step(ctx, service, i+1, steps[i]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) step(ctx context.Context, service string, version int, stmt string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: migrate %s to %d: %w", service, version, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("store: migrate %s to %d: %w", service, version, err)
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO schema_versions(service, version) VALUES(?, ?)
		 ON CONFLICT(service) DO UPDATE SET version = excluded.version`, service, version); err != nil {
		return fmt.Errorf("store: migrate %s to %d: %w", service, version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: migrate %s to %d: commit: %w", service, version, err)
	}
	return nil
}

// Version is how many of service's migrations have been applied.
func (s *Store) Version(ctx context.Context, service string) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, "SELECT version FROM schema_versions WHERE service = ?", service).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: version of %s: %w", service, err)
	}
	return v, nil
}
