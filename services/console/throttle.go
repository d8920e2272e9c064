package console

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Sign-in throttling, per user name and per client address, kept in the
// store so a restart does not reset it. After freeFailures failures each
// further attempt waits twice as long as the last (1s, 2s, 4s, ...); at
// lockoutFailures the key is locked for lockoutFor. A quiet forgetAfter
// clears the slate.
const (
	freeFailures    = 3
	lockoutFailures = 10
	lockoutFor      = 15 * time.Minute
	forgetAfter     = time.Hour
)

// backoff is how long key must wait after count failures, the last at last.
func backoff(count int) time.Duration {
	if count < freeFailures {
		return 0
	}
	if count >= lockoutFailures {
		return lockoutFor
	}
	d := time.Second << (count - freeFailures)
	return min(d, lockoutFor)
}

type throttle struct {
	db  *sql.DB
	now func() time.Time
}

// wait returns how long the caller must still wait before trying key.
func (t *throttle) wait(ctx context.Context, key string) (time.Duration, error) {
	var count int
	var last int64
	err := t.db.QueryRowContext(ctx, `SELECT count, last FROM console_login_failures WHERE k = ?`, key).Scan(&count, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("console: throttle: %w", err)
	}
	since := t.now().Sub(time.Unix(0, last))
	if since >= forgetAfter {
		return 0, nil
	}
	return max(backoff(count)-since, 0), nil
}

// fail counts a failure against key and returns the new count.
func (t *throttle) fail(ctx context.Context, key string) (int, error) {
	now := t.now().UnixNano()
	forget := t.now().Add(-forgetAfter).UnixNano()
	// Forget quiet keys here, so the table stays as small as the attack.
	if _, err := t.db.ExecContext(ctx, `DELETE FROM console_login_failures WHERE last < ?`, forget); err != nil {
		return 0, fmt.Errorf("console: throttle: %w", err)
	}
	// Two statements, not UPSERT ... RETURNING: the bundled SQLite
	// (SQLCipher 4.4) predates RETURNING.
	if _, err := t.db.ExecContext(ctx, `INSERT INTO console_login_failures(k, count, last) VALUES(?, 1, ?)
		ON CONFLICT(k) DO UPDATE SET count = CASE WHEN last < ? THEN 1 ELSE count + 1 END, last = excluded.last`,
		key, now, forget); err != nil {
		return 0, fmt.Errorf("console: throttle: %w", err)
	}
	var count int
	if err := t.db.QueryRowContext(ctx, `SELECT count FROM console_login_failures WHERE k = ?`, key).Scan(&count); err != nil {
		return 0, fmt.Errorf("console: throttle: %w", err)
	}
	return count, nil
}

// clear forgets key's failures (a user's, after a good sign-in).
func (t *throttle) clear(ctx context.Context, key string) error {
	if _, err := t.db.ExecContext(ctx, `DELETE FROM console_login_failures WHERE k = ?`, key); err != nil {
		return fmt.Errorf("console: throttle: %w", err)
	}
	return nil
}
