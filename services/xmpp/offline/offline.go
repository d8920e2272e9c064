package offline

import (
	"context"
	"database/sql"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chatsecure/box/services/xmpp/elem"
)

// NSDelay is XEP-0203.
const NSDelay = "urn:xmpp:delay"

// ErrQuota means the user's offline storage is full; the sender gets
// service-unavailable (XEP-0160 §3).
var ErrQuota = errors.New("offline: quota reached")

// Store keeps offline messages.
type Store struct {
	db     *sql.DB
	domain string
	quota  int
	now    func() time.Time
}

// New returns a Store keeping up to quota messages per user.
func New(db *sql.DB, domain string, quota int, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, domain: domain, quota: quota, now: now}
}

// Put stores msg for owner, adding a delay stamp.
func (s *Store) Put(ctx context.Context, owner string, msg *elem.Element) error {
	m := msg.Copy()
	if m.Child(NSDelay, "delay") == nil {
		m.Add(elem.New(NSDelay, "delay", "from", s.domain, "stamp", s.now().UTC().Format("2006-01-02T15:04:05Z")))
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("offline: put: %w", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM xmpp_offline WHERE owner = ?`, owner).Scan(&n); err != nil {
		return fmt.Errorf("offline: count %s: %w", owner, err)
	}
	if n >= s.quota {
		return ErrQuota
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO xmpp_offline (owner, stanza) VALUES (?, ?)`,
		owner, string(m.Append(nil, elem.NSClient))); err != nil {
		return fmt.Errorf("offline: put %s: %w", owner, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("offline: put: %w", err)
	}
	return nil
}

// Take returns and deletes all of owner's messages, oldest first.
func (s *Store) Take(ctx context.Context, owner string) ([]*elem.Element, error) {
	// Most logins find nothing: check without a write transaction (and
	// its fsync).
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM xmpp_offline WHERE owner = ?`, owner).Scan(&n); err != nil {
		return nil, fmt.Errorf("offline: count %s: %w", owner, err)
	}
	if n == 0 {
		return nil, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("offline: take: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT stanza FROM xmpp_offline WHERE owner = ? ORDER BY id`, owner)
	if err != nil {
		return nil, fmt.Errorf("offline: take %s: %w", owner, err)
	}
	var out []*elem.Element
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			rows.Close()
			return nil, fmt.Errorf("offline: take %s: %w", owner, err)
		}
		e, err := Parse(raw)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("offline: stored stanza of %s: %w", owner, err)
		}
		out = append(out, e)
	}
	rows.Close()
	if _, err := tx.ExecContext(ctx, `DELETE FROM xmpp_offline WHERE owner = ?`, owner); err != nil {
		return nil, fmt.Errorf("offline: clear %s: %w", owner, err)
	}
	return out, tx.Commit()
}

// Parse reads a stanza stored in jabber:client.
func Parse(raw string) (*elem.Element, error) {
	d := xml.NewDecoder(strings.NewReader(`<s xmlns='jabber:client'>` + raw + `</s>`))
	if _, err := d.Token(); err != nil {
		return nil, err
	}
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		if st, ok := tok.(xml.StartElement); ok {
			return elem.Read(d, st)
		}
	}
}
