package blocking

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/chatsecure/box/services/xmpp/elem"
	"mellium.im/xmpp/jid"
)

// NS is XEP-0191's namespace; NSErrors its error namespace.
const (
	NS       = "urn:xmpp:blocking"
	NSErrors = "urn:xmpp:blocking:errors"
)

// Store is the block lists.
type Store struct {
	db    *sql.DB
	mu    sync.Mutex
	cache map[string]map[string]bool // owner → blocked JIDs
}

// New returns a Store over a migrated database.
func New(db *sql.DB) *Store {
	return &Store{db: db, cache: make(map[string]map[string]bool)}
}

func (s *Store) load(ctx context.Context, owner string) (map[string]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.cache[owner]; ok {
		return m, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT jid FROM xmpp_blocklist WHERE owner = ?`, owner)
	if err != nil {
		return nil, fmt.Errorf("blocking: load %s: %w", owner, err)
	}
	defer rows.Close()
	m := make(map[string]bool)
	for rows.Next() {
		var j string
		if err := rows.Scan(&j); err != nil {
			return nil, fmt.Errorf("blocking: load %s: %w", owner, err)
		}
		m[j] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("blocking: load %s: %w", owner, err)
	}
	s.cache[owner] = m
	return m, nil
}

// Forget drops owner's cached list (account deleted).
func (s *Store) Forget(owner string) {
	s.mu.Lock()
	delete(s.cache, owner)
	s.mu.Unlock()
}

// List returns owner's blocked JIDs.
func (s *Store) List(ctx context.Context, owner string) ([]string, error) {
	m, err := s.load(ctx, owner)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(m))
	for j := range m {
		out = append(out, j)
	}
	return out, nil
}

// Blocked reports whether owner blocks other: by full JID, bare JID or
// domain (XEP-0191 §3.4 follows RFC 6121 §2.3.3 matching).
func (s *Store) Blocked(ctx context.Context, owner string, other jid.JID) bool {
	m, err := s.load(ctx, owner)
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(m) == 0 {
		return false
	}
	return m[other.String()] || m[other.Bare().String()] || m[other.Domainpart()]
}

// Block adds JIDs to owner's list.
func (s *Store) Block(ctx context.Context, owner string, jids []string) error {
	if _, err := s.load(ctx, owner); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("blocking: block: %w", err)
	}
	defer tx.Rollback()
	for _, j := range jids {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO xmpp_blocklist (owner, jid) VALUES (?, ?)`, owner, j); err != nil {
			return fmt.Errorf("blocking: block %s: %w", owner, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("blocking: block: %w", err)
	}
	s.mu.Lock()
	for _, j := range jids {
		s.cache[owner][j] = true
	}
	s.mu.Unlock()
	return nil
}

// Unblock removes jids, or everything when jids is empty.
func (s *Store) Unblock(ctx context.Context, owner string, jids []string) error {
	if _, err := s.load(ctx, owner); err != nil {
		return err
	}
	var err error
	if len(jids) == 0 {
		_, err = s.db.ExecContext(ctx, `DELETE FROM xmpp_blocklist WHERE owner = ?`, owner)
	} else {
		tx, e := s.db.BeginTx(ctx, nil)
		if e != nil {
			return fmt.Errorf("blocking: unblock: %w", e)
		}
		defer tx.Rollback()
		for _, j := range jids {
			if _, err = tx.ExecContext(ctx, `DELETE FROM xmpp_blocklist WHERE owner = ? AND jid = ?`, owner, j); err != nil {
				break
			}
		}
		if err == nil {
			err = tx.Commit()
		}
	}
	if err != nil {
		return fmt.Errorf("blocking: unblock %s: %w", owner, err)
	}
	s.mu.Lock()
	if len(jids) == 0 {
		s.cache[owner] = map[string]bool{}
	}
	for _, j := range jids {
		delete(s.cache[owner], j)
	}
	s.mu.Unlock()
	return nil
}

// ParseItems reads the JIDs of a block or unblock element, normalized.
func ParseItems(e *elem.Element) ([]string, error) {
	var out []string
	for _, it := range e.Elements() {
		if it.Name.Local != "item" || it.Name.Space != NS {
			continue
		}
		j, err := jid.Parse(it.Get("jid"))
		if err != nil {
			return nil, fmt.Errorf("blocking: item %q: %w", it.Get("jid"), err)
		}
		out = append(out, j.String())
	}
	return out, nil
}

// ListXML renders the blocklist result.
func ListXML(jids []string) *elem.Element {
	b := elem.New(NS, "blocklist")
	for _, j := range jids {
		b.Add(elem.New(NS, "item", "jid", j))
	}
	return b
}
