package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/chatsecure/box/services/xmpp/sasl"
	"mellium.im/xmpp/jid"
)

// Errors callers can test for.
var (
	ErrExists      = errors.New("accounts: account exists")
	ErrNotFound    = errors.New("accounts: no such account")
	ErrBadUsername = errors.New("accounts: invalid username")
	ErrBadPassword = errors.New("accounts: invalid password")
)

// Accounts is the account table. Safe for concurrent use.
type Accounts struct {
	db     *sql.DB
	domain string
	iter   int

	// The box process is the store's only writer, so credentials and the
	// disabled flag can be cached: a login then costs no query.
	mu    sync.RWMutex
	cache map[string]entry
	gen   uint64 // bumped by every change, so a slow read cannot cache stale keys

	onChange func(username string, c Change)
}

// entry is the cached row of one account.
type entry struct {
	creds    sasl.Credentials
	disabled bool
}

// Change is what happened to an account, for OnChange.
type Change int

// Changes that end the user's sessions.
const (
	Passwd Change = iota
	Deleted
	Disabled
)

// OnChange sets f to run after a password change, deletion or disabling
// (the server ends the user's sessions), whoever made it: admin API or
// console.
func (a *Accounts) OnChange(f func(username string, c Change)) {
	a.mu.Lock()
	a.onChange = f
	a.mu.Unlock()
}

func (a *Accounts) changed(u string, c Change) {
	a.mu.RLock()
	f := a.onChange
	a.mu.RUnlock()
	if f != nil {
		f(u, c)
	}
}

// New returns accounts of domain kept in db (already migrated).
// iter is the PBKDF2 iteration count for new passwords (≥ 4096).
func New(db *sql.DB, domain string, iter int) *Accounts {
	if iter < sasl.MinIterations {
		iter = sasl.MinIterations
	}
	return &Accounts{db: db, domain: domain, iter: iter, cache: make(map[string]entry)}
}

// Normalize turns "alice" or "alice@domain" into the stored username.
func (a *Accounts) Normalize(s string) (string, error) {
	if !strings.Contains(s, "@") {
		s = s + "@" + a.domain
	}
	j, err := jid.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadUsername, err)
	}
	if j.Localpart() == "" || j.Resourcepart() != "" {
		return "", fmt.Errorf("%w: %q is not a bare user JID", ErrBadUsername, s)
	}
	if j.Domainpart() != a.domain {
		return "", fmt.Errorf("%w: %q is not on %s", ErrBadUsername, s, a.domain)
	}
	return j.Localpart(), nil
}

func checkPassword(p string) error {
	if len(p) < 1 || len(p) > 1024 {
		return fmt.Errorf("%w: length must be 1..1024", ErrBadPassword)
	}
	if _, err := sasl.PreparePassword(p); err != nil {
		return fmt.Errorf("%w: %v", ErrBadPassword, err)
	}
	return nil
}

// prepare checks the username and password and derives the salted SCRAM
// keys that are all the table keeps.
func (a *Accounts) prepare(user, password, op string) (string, sasl.Credentials, error) {
	u, err := a.Normalize(user)
	if err != nil {
		return "", sasl.Credentials{}, err
	}
	if IsReserved(u) {
		return "", sasl.Credentials{}, fmt.Errorf("%w: %q is reserved for the box itself", ErrBadUsername, u)
	}
	if err := checkPassword(password); err != nil {
		return "", sasl.Credentials{}, err
	}
	c, err := sasl.NewCredentials(password, a.iter)
	if err != nil {
		return "", sasl.Credentials{}, fmt.Errorf("accounts: %s %s: %w", op, u, err)
	}
	return u, c, nil
}

// Create adds an account.
func (a *Accounts) Create(ctx context.Context, user, password string) error {
	u, c, err := a.prepare(user, password, "create")
	if err != nil {
		return err
	}
	res, err := a.db.ExecContext(ctx, `INSERT INTO xmpp_accounts
		(username, salt, iter, sha1_stored, sha1_server, sha256_stored, sha256_server, created)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(username) DO NOTHING`,
		u, c.Salt, c.Iter, c.SHA1.StoredKey, c.SHA1.ServerKey, c.SHA256.StoredKey, c.SHA256.ServerKey, time.Now().Unix())
	if err != nil {
		return fmt.Errorf("accounts: create %s: %w", u, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s", ErrExists, u)
	}
	return nil
}

// SetPassword replaces an account's credentials.
func (a *Accounts) SetPassword(ctx context.Context, user, password string) error {
	u, c, err := a.prepare(user, password, "passwd")
	if err != nil {
		return err
	}
	res, err := a.db.ExecContext(ctx, `UPDATE xmpp_accounts SET salt = ?, iter = ?,
		sha1_stored = ?, sha1_server = ?, sha256_stored = ?, sha256_server = ? WHERE username = ?`,
		c.Salt, c.Iter, c.SHA1.StoredKey, c.SHA1.ServerKey, c.SHA256.StoredKey, c.SHA256.ServerKey, u)
	if err != nil {
		return fmt.Errorf("accounts: passwd %s: %w", u, err)
	}
	a.forget(u)
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s", ErrNotFound, u)
	}
	a.changed(u, Passwd)
	return nil
}

func (a *Accounts) forget(u string) {
	a.mu.Lock()
	delete(a.cache, u)
	a.gen++
	a.mu.Unlock()
}

// Delete removes an account and, by cascade, everything it owns.
func (a *Accounts) Delete(ctx context.Context, user string) error {
	u, err := a.Normalize(user)
	if err != nil {
		return err
	}
	res, err := a.db.ExecContext(ctx, `DELETE FROM xmpp_accounts WHERE username = ?`, u)
	a.forget(u)
	if err != nil {
		return fmt.Errorf("accounts: delete %s: %w", u, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s", ErrNotFound, u)
	}
	a.changed(u, Deleted)
	return nil
}

// List returns all usernames, sorted.
func (a *Accounts) List(ctx context.Context) ([]string, error) {
	rows, err := a.db.QueryContext(ctx, `SELECT username FROM xmpp_accounts ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("accounts: list: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, fmt.Errorf("accounts: list: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// Exists reports whether a normalized username has an account.
func (a *Accounts) Exists(ctx context.Context, username string) (bool, error) {
	a.mu.RLock()
	_, ok := a.cache[username]
	a.mu.RUnlock()
	if ok {
		return true, nil
	}
	var one int
	err := a.db.QueryRowContext(ctx, `SELECT 1 FROM xmpp_accounts WHERE username = ?`, username).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("accounts: exists %s: %w", username, err)
	}
	return true, nil
}

// Credentials returns the SCRAM keys of a normalized username.
func (a *Accounts) Credentials(ctx context.Context, username string) (sasl.Credentials, bool, error) {
	e, ok, err := a.load(ctx, username)
	return e.creds, ok, err
}

// load returns the account's row, from the cache when it is there.
func (a *Accounts) load(ctx context.Context, username string) (entry, bool, error) {
	a.mu.RLock()
	e, ok := a.cache[username]
	gen := a.gen
	a.mu.RUnlock()
	if ok {
		return e, true, nil
	}
	c := &e.creds
	var disabled int
	err := a.db.QueryRowContext(ctx, `SELECT salt, iter, sha1_stored, sha1_server, sha256_stored, sha256_server, disabled
		FROM xmpp_accounts WHERE username = ?`, username).Scan(
		&c.Salt, &c.Iter, &c.SHA1.StoredKey, &c.SHA1.ServerKey, &c.SHA256.StoredKey, &c.SHA256.ServerKey, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return e, false, nil
	}
	if err != nil {
		return e, false, fmt.Errorf("accounts: credentials %s: %w", username, err)
	}
	e.disabled = disabled != 0
	a.mu.Lock()
	if a.gen == gen {
		a.cache[username] = e
	}
	a.mu.Unlock()
	return e, true, nil
}
