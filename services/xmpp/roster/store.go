package roster

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
)

// Store keeps rosters in the database. Safe for concurrent use; the caller
// serializes changes to one user's roster (the router holds a lock per
// subscription exchange).
type Store struct {
	db *sql.DB
	// Items are read on every presence broadcast; the box process is the
	// only writer, so a per-user copy is kept and dropped on each change.
	mu    sync.Mutex
	cache map[string][]Item
	gen   uint64
}

// New returns a Store over a migrated database.
func New(db *sql.DB) *Store { return &Store{db: db, cache: make(map[string][]Item)} }

func (s *Store) forget(owner string) {
	s.mu.Lock()
	delete(s.cache, owner)
	s.gen++
	s.mu.Unlock()
}

// Version is the user's current roster version string.
func (s *Store) Version(ctx context.Context, owner string) (string, error) {
	var v int64
	err := s.db.QueryRowContext(ctx, `SELECT ver FROM xmpp_roster_version WHERE owner = ?`, owner).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "0", nil
	}
	if err != nil {
		return "", fmt.Errorf("roster: version %s: %w", owner, err)
	}
	return strconv.FormatInt(v, 10), nil
}

// Items returns every item, including hidden pending-in ones.
func (s *Store) Items(ctx context.Context, owner string) ([]Item, error) {
	s.mu.Lock()
	items, ok := s.cache[owner]
	gen := s.gen
	s.mu.Unlock()
	if ok {
		return copyItems(items), nil
	}
	items, err := s.readItems(ctx, owner)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.gen == gen {
		s.cache[owner] = items
	}
	s.mu.Unlock()
	return copyItems(items), nil
}

func copyItems(items []Item) []Item {
	out := make([]Item, len(items))
	copy(out, items)
	return out
}

func (s *Store) readItems(ctx context.Context, owner string) ([]Item, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT contact, name, groups, sub, ask, pending_in, in_roster
		FROM xmpp_roster WHERE owner = ? ORDER BY contact`, owner)
	if err != nil {
		return nil, fmt.Errorf("roster: items %s: %w", owner, err)
	}
	defer rows.Close()
	var out []Item
	for rows.Next() {
		it, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("roster: items %s: %w", owner, err)
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// Item returns one item; a missing one comes back as a fresh none item.
func (s *Store) Item(ctx context.Context, owner, contact string) (Item, error) {
	row := s.db.QueryRowContext(ctx, `SELECT contact, name, groups, sub, ask, pending_in, in_roster
		FROM xmpp_roster WHERE owner = ? AND contact = ?`, owner, contact)
	it, err := scan(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Item{JID: contact, Sub: None}, nil
	}
	if err != nil {
		return Item{}, fmt.Errorf("roster: item %s/%s: %w", owner, contact, err)
	}
	return it, nil
}

type scanner interface{ Scan(...any) error }

func scan(r scanner) (Item, error) {
	var it Item
	var groups string
	var ask, pin, in int
	if err := r.Scan(&it.JID, &it.Name, &groups, &it.Sub, &ask, &pin, &in); err != nil {
		return it, err
	}
	if err := json.Unmarshal([]byte(groups), &it.Groups); err != nil {
		return it, fmt.Errorf("groups: %w", err)
	}
	it.Ask, it.PendingIn, it.InRoster = ask != 0, pin != 0, in != 0
	return it, nil
}

// Put stores an item. When bump is set (a visible change), the roster
// version goes up and the new version is returned.
func (s *Store) Put(ctx context.Context, owner string, it Item, bump bool) (string, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("roster: put: %w", err)
	}
	defer tx.Rollback()
	if it.Groups == nil {
		it.Groups = []string{}
	}
	groups, _ := json.Marshal(it.Groups)
	if !it.InRoster && it.Sub == None && !it.Ask && !it.PendingIn {
		_, err = tx.ExecContext(ctx, `DELETE FROM xmpp_roster WHERE owner = ? AND contact = ?`, owner, it.JID)
	} else {
		_, err = tx.ExecContext(ctx, `INSERT INTO xmpp_roster (owner, contact, name, groups, sub, ask, pending_in, in_roster)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT(owner, contact) DO UPDATE SET name = excluded.name, groups = excluded.groups,
			sub = excluded.sub, ask = excluded.ask, pending_in = excluded.pending_in, in_roster = excluded.in_roster`,
			owner, it.JID, it.Name, string(groups), it.Sub, b2i(it.Ask), b2i(it.PendingIn), b2i(it.InRoster))
	}
	if err != nil {
		return "", fmt.Errorf("roster: put %s/%s: %w", owner, it.JID, err)
	}
	ver := ""
	if bump {
		var v int64
		_, err = tx.ExecContext(ctx, `INSERT INTO xmpp_roster_version (owner, ver) VALUES (?, 1)
			ON CONFLICT(owner) DO UPDATE SET ver = ver + 1`, owner)
		if err == nil {
			err = tx.QueryRowContext(ctx, `SELECT ver FROM xmpp_roster_version WHERE owner = ?`, owner).Scan(&v)
		}
		if err != nil {
			return "", fmt.Errorf("roster: bump %s: %w", owner, err)
		}
		ver = strconv.FormatInt(v, 10)
	}
	err = tx.Commit()
	s.forget(owner)
	if err != nil {
		return "", fmt.Errorf("roster: put: %w", err)
	}
	return ver, nil
}

// Remove deletes an item entirely and bumps the version.
func (s *Store) Remove(ctx context.Context, owner, contact string) (string, error) {
	return s.Put(ctx, owner, Item{JID: contact, Sub: None}, true)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
