package console

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Roles. An admin runs the console; a user may sign in to manage their own
// account (password, second factor); a limited person only chats.
const (
	RoleAdmin   = "admin"
	RoleUser    = "user"
	RoleLimited = "limited"
)

var roles = []string{RoleAdmin, RoleUser, RoleLimited}

func validRole(r string) bool {
	for _, x := range roles {
		if r == x {
			return true
		}
	}
	return false
}

// Person is one row of console_users.
type Person struct {
	Username    string
	DisplayName string
	Role        string
	HasPassword bool
	Disabled    bool
	TOTP        bool
	CreatedAt   time.Time

	pwHash      string
	totpSecret  string
	totpPending string
	totpLast    int64
}

var errNoPerson = errors.New("no such person")

func checkDisplayName(s string) error {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > 100 {
		return errors.New("the display name must be valid text of at most 100 characters")
	}
	if strings.ContainsAny(s, "\x00\r\n") {
		return errors.New("the display name must be one line")
	}
	return nil
}

const personCols = `username, display_name, role, pw_hash, disabled, totp_secret, totp_pending, totp_last, created_at`

func scanPerson(sc interface{ Scan(...any) error }) (Person, error) {
	var p Person
	var c int64
	err := sc.Scan(&p.Username, &p.DisplayName, &p.Role, &p.pwHash, &p.Disabled, &p.totpSecret, &p.totpPending, &p.totpLast, &c)
	p.CreatedAt = time.Unix(0, c)
	p.HasPassword = p.pwHash != ""
	p.TOTP = p.totpSecret != ""
	return p, err
}

func (s *Service) person(ctx context.Context, username string) (Person, error) {
	p, err := scanPerson(s.db.QueryRowContext(ctx, `SELECT `+personCols+` FROM console_users WHERE username = ?`, username))
	if errors.Is(err, sql.ErrNoRows) {
		return Person{}, errNoPerson
	}
	if err != nil {
		return Person{}, fmt.Errorf("console: person: %w", err)
	}
	return p, nil
}

func (s *Service) people(ctx context.Context) ([]Person, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+personCols+` FROM console_users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("console: people: %w", err)
	}
	defer rows.Close()
	var out []Person
	for rows.Next() {
		p, err := scanPerson(rows)
		if err != nil {
			return nil, fmt.Errorf("console: people: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func (s *Service) insertPerson(ctx context.Context, username, display, role, pwHash string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO console_users(username, display_name, role, pw_hash, created_at) VALUES(?, ?, ?, ?, ?)`,
		username, display, role, pwHash, s.now().UnixNano())
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return fmt.Errorf("%s is already taken", username)
		}
		return fmt.Errorf("console: add person: %w", err)
	}
	return nil
}

func (s *Service) exec(ctx context.Context, what, q string, args ...any) error {
	res, err := s.db.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("console: %s: %w", what, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNoPerson
	}
	return nil
}

// adminCount guards against removing the last admin (which would leave
// the box with no one who can run it, short of a factory reset).
func (s *Service) adminCount(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM console_users WHERE role = 'admin' AND disabled = 0`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("console: count admins: %w", err)
	}
	return n, nil
}
