package invites

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chatsecure/box/services/store"
)

// Accounts creates the chat account an invite pays for.
type Accounts interface {
	Create(ctx context.Context, localpart, password string) error
}

// Rosters, when the box has one, makes two users contacts of each other.
type Rosters interface {
	AddMutual(ctx context.Context, a, b string) error
}

// Why an invite does not work. Callers show these to the person holding
// the link, so they say what happened in plain words.
var (
	ErrNotFound = errors.New("invites: no such invite")
	ErrExpired  = errors.New("invites: this invite has expired")
	ErrRevoked  = errors.New("invites: this invite was revoked")
	ErrUsedUp   = errors.New("invites: this invite has already been used")
)

// Invite is one row of the invites table.
type Invite struct {
	Token     string
	CreatedBy string // the inviter's localpart; "" for a box-wide invite
	Note      string
	CreatedAt time.Time
	ExpiresAt time.Time
	// MaxUses is 1 for a single-use invite, N for a group invite; Uses is
	// how many accounts it created so far.
	MaxUses int
	Uses    int
	Revoked bool
}

// Status says whether the invite can still be redeemed at now.
func (i Invite) Status(now time.Time) error {
	switch {
	case i.Revoked:
		return ErrRevoked
	case !now.Before(i.ExpiresAt):
		return ErrExpired
	case i.Uses >= i.MaxUses:
		return ErrUsedUp
	}
	return nil
}

// Group reports whether the invite is meant for more than one person.
func (i Invite) Group() bool { return i.MaxUses > 1 }

// Redemption is one account made through an invite.
type Redemption struct {
	Token     string
	Localpart string
	At        time.Time
}

var migrations = []string{
	`CREATE TABLE invites (
		token      TEXT PRIMARY KEY,
		created_by TEXT NOT NULL,
		note       TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		expires_at INTEGER NOT NULL,
		max_uses   INTEGER NOT NULL CHECK (max_uses >= 1),
		uses       INTEGER NOT NULL DEFAULT 0,
		revoked    INTEGER NOT NULL DEFAULT 0
	);
	CREATE TABLE invite_redemptions (
		token     TEXT NOT NULL REFERENCES invites(token) ON DELETE CASCADE,
		localpart TEXT NOT NULL,
		at        INTEGER NOT NULL
	);`,
}

// Store is the invites table.
type Store struct {
	db       *sql.DB
	accounts Accounts
	rosters  Rosters // may be nil
	now      func() time.Time
}

// Options are the parts the appliance (or a test) plugs in.
type Options struct {
	Accounts Accounts
	Rosters  Rosters          // optional
	Now      func() time.Time // optional; tests inject a clock
}

// Open migrates the invite tables and returns the store.
func Open(ctx context.Context, st *store.Store, opts Options) (*Store, error) {
	if opts.Accounts == nil {
		return nil, errors.New("invites: no Accounts")
	}
	if err := st.Migrate(ctx, "invites", migrations); err != nil {
		return nil, fmt.Errorf("invites: %w", err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{db: st.DB(), accounts: opts.Accounts, rosters: opts.Rosters, now: opts.Now}, nil
}

// newToken is 160 random bits in lower-case base32: safe in a URL path, an
// xmpp: URI query and a QR code's alphanumeric-ish mode, and too long to guess.
func newToken() (string, error) {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("invites: token: %w", err)
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)), nil
}

// MaxUsesLimit bounds a group invite: a link passed around further than
// intended should not be able to fill the box.
const MaxUsesLimit = 1000

// Create makes an invite by createdBy (a localpart, or "") valid for ttl
// and maxUses accounts.
func (s *Store) Create(ctx context.Context, createdBy, note string, ttl time.Duration, maxUses int) (Invite, error) {
	if ttl <= 0 || ttl > 366*24*time.Hour {
		return Invite{}, fmt.Errorf("invites: expiry must be between now and a year (got %v)", ttl)
	}
	if maxUses < 1 || maxUses > MaxUsesLimit {
		return Invite{}, fmt.Errorf("invites: uses must be between 1 and %d (got %d)", MaxUsesLimit, maxUses)
	}
	if len(note) > 500 {
		return Invite{}, errors.New("invites: note longer than 500 characters")
	}
	tok, err := newToken()
	if err != nil {
		return Invite{}, err
	}
	now := s.now()
	inv := Invite{Token: tok, CreatedBy: createdBy, Note: note, CreatedAt: now, ExpiresAt: now.Add(ttl), MaxUses: maxUses}
	_, err = s.db.ExecContext(ctx,
		`INSERT INTO invites(token, created_by, note, created_at, expires_at, max_uses) VALUES(?, ?, ?, ?, ?, ?)`,
		tok, createdBy, note, now.UnixNano(), inv.ExpiresAt.UnixNano(), maxUses)
	if err != nil {
		return Invite{}, fmt.Errorf("invites: create: %w", err)
	}
	return inv, nil
}

const cols = `token, created_by, note, created_at, expires_at, max_uses, uses, revoked`

func scan(sc interface{ Scan(...any) error }) (Invite, error) {
	var i Invite
	var c, e int64
	err := sc.Scan(&i.Token, &i.CreatedBy, &i.Note, &c, &e, &i.MaxUses, &i.Uses, &i.Revoked)
	i.CreatedAt, i.ExpiresAt = time.Unix(0, c), time.Unix(0, e)
	return i, err
}

// Get returns the invite with token, whatever its status.
func (s *Store) Get(ctx context.Context, token string) (Invite, error) {
	i, err := scan(s.db.QueryRowContext(ctx, `SELECT `+cols+` FROM invites WHERE token = ?`, token))
	if errors.Is(err, sql.ErrNoRows) {
		return Invite{}, ErrNotFound
	}
	if err != nil {
		return Invite{}, fmt.Errorf("invites: get: %w", err)
	}
	return i, nil
}

// Check returns the invite if it can be redeemed now (XEP-0445 asks the
// server this before the client shows a registration form).
func (s *Store) Check(ctx context.Context, token string) (Invite, error) {
	i, err := s.Get(ctx, token)
	if err != nil {
		return Invite{}, err
	}
	return i, i.Status(s.now())
}

// List returns every invite, newest first.
func (s *Store) List(ctx context.Context) ([]Invite, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+cols+` FROM invites ORDER BY created_at DESC`)
	if err != nil {
		return nil, fmt.Errorf("invites: list: %w", err)
	}
	defer rows.Close()
	var out []Invite
	for rows.Next() {
		i, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("invites: list: %w", err)
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// Revoke stops the invite from creating any more accounts.
func (s *Store) Revoke(ctx context.Context, token string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE invites SET revoked = 1 WHERE token = ?`, token)
	if err != nil {
		return fmt.Errorf("invites: revoke: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// Redemptions lists the accounts made through token.
func (s *Store) Redemptions(ctx context.Context, token string) ([]Redemption, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT token, localpart, at FROM invite_redemptions WHERE token = ? ORDER BY at`, token)
	if err != nil {
		return nil, fmt.Errorf("invites: redemptions: %w", err)
	}
	defer rows.Close()
	var out []Redemption
	for rows.Next() {
		var r Redemption
		var at int64
		if err := rows.Scan(&r.Token, &r.Localpart, &at); err != nil {
			return nil, fmt.Errorf("invites: redemptions: %w", err)
		}
		r.At = time.Unix(0, at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// Redeem creates the account localpart with password through the invite
// token. The use is reserved with one conditional UPDATE before the account
// is made (so two people racing for the last use of an invite cannot both
// win), and handed back if making the account fails. The inviter and the
// new user become contacts; a roster failure is returned wrapped but the
// account stays (it was made; the contact can be added by hand).
func (s *Store) Redeem(ctx context.Context, token, localpart, password string) (Invite, error) {
	if err := ValidLocalpart(localpart); err != nil {
		return Invite{}, err
	}
	now := s.now()
	res, err := s.db.ExecContext(ctx,
		`UPDATE invites SET uses = uses + 1
		 WHERE token = ? AND revoked = 0 AND expires_at > ? AND uses < max_uses`, token, now.UnixNano())
	if err != nil {
		return Invite{}, fmt.Errorf("invites: redeem: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// Say why: not found, revoked, expired or used up.
		i, err := s.Get(ctx, token)
		if err != nil {
			return Invite{}, err
		}
		if err := i.Status(now); err != nil {
			return Invite{}, err
		}
		return Invite{}, ErrUsedUp // lost a race for the last use
	}
	if err := s.accounts.Create(ctx, localpart, password); err != nil {
		if _, uerr := s.db.ExecContext(ctx, `UPDATE invites SET uses = uses - 1 WHERE token = ?`, token); uerr != nil {
			return Invite{}, fmt.Errorf("invites: redeem: %w (and giving the use back: %v)", err, uerr)
		}
		return Invite{}, fmt.Errorf("invites: redeem: %w", err)
	}
	if _, err := s.db.ExecContext(ctx,
		`INSERT INTO invite_redemptions(token, localpart, at) VALUES(?, ?, ?)`, token, localpart, now.UnixNano()); err != nil {
		return Invite{}, fmt.Errorf("invites: redeem: record: %w", err)
	}
	inv, err := s.Get(ctx, token)
	if err != nil {
		return Invite{}, err
	}
	if s.rosters != nil && inv.CreatedBy != "" && inv.CreatedBy != localpart {
		if err := s.rosters.AddMutual(ctx, inv.CreatedBy, localpart); err != nil {
			return inv, fmt.Errorf("invites: account %s made, but adding %s as a contact failed: %w", localpart, inv.CreatedBy, err)
		}
	}
	return inv, nil
}
