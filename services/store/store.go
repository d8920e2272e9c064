package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	sqlcipher "github.com/mutecomm/go-sqlcipher/v4"
)

// KeySize is the length of the raw database key.
const KeySize = 32

var (
	// ErrWrongKey means the file exists but the key does not open it: either
	// the key is wrong or the file is not a ChatSecure Box database.
	ErrWrongKey = errors.New("wrong key or not a ChatSecure Box database")
	// ErrNotExist means there is no database at the path (Open never
	// creates one: a missing key must never lead to a new empty store).
	ErrNotExist = errors.New("no database")
	// ErrExist means Create found a database (or its WAL) already there.
	ErrExist = errors.New("database already exists")
)

// driverName is our own registration of the SQLCipher driver, so every pooled
// connection gets the per-connection pragmas from connectHook.
const driverName = "box-sqlcipher"

var registerOnce sync.Once

// connectHook sets what SQLite keeps per connection. temp_store=MEMORY keeps
// sorter and temp-table spills (plaintext!) out of /tmp.
func connectHook(c *sqlcipher.SQLiteConn) error {
	for _, p := range []string{
		"PRAGMA temp_store = MEMORY",
		"PRAGMA secure_delete = ON",
	} {
		if _, err := c.Exec(p, nil); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return nil
}

// Store is the open, decrypted database.
type Store struct {
	db   *sql.DB
	path string
}

// Open opens the existing database at path with the raw 32-byte key.
func Open(ctx context.Context, path string, key []byte) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("store: open %s: %w", path, ErrNotExist)
		}
		return nil, fmt.Errorf("store: open: %w", err)
	}
	return open(ctx, path, key)
}

// Create makes a new database at path, refusing to touch an existing one.
func Create(ctx context.Context, path string, key []byte) (*Store, error) {
	for _, p := range []string{path, path + "-wal"} {
		if _, err := os.Stat(p); err == nil {
			return nil, fmt.Errorf("store: create %s: %w", p, ErrExist)
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("store: create: %w", err)
		}
	}
	// SQLite would create the file with the umask's mode; the store is
	// the owner's alone (its -wal and -shm inherit this mode).
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: create: %w", err)
	}
	f.Close()
	s, err := open(ctx, path, key)
	if err != nil {
		os.Remove(path)
		return nil, err
	}
	return s, nil
}

func open(ctx context.Context, path string, key []byte) (*Store, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("store: key is %d bytes, want %d", len(key), KeySize)
	}
	registerOnce.Do(func() {
		sql.Register(driverName, &sqlcipher.SQLiteDriver{ConnectHook: connectHook})
	})
	// The raw key form (x'…') skips SQLCipher's PBKDF2: ~1 ms instead of
	// ~440 ms per connection. _txlock=immediate takes the write lock at
	// BEGIN, so concurrent writers wait (busy timeout) instead of failing.
	dsn := fmt.Sprintf("file:%s?_pragma_key=x'%s'&_pragma_cipher_page_size=4096"+
		"&_journal_mode=WAL&_synchronous=FULL&_foreign_keys=1&_busy_timeout=5000&_txlock=immediate",
		path, strings.ToUpper(hex.EncodeToString(key)))
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// sql.Open checks nothing: the first query is where a wrong key shows.
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
		db.Close()
		if isNotADB(err) {
			return nil, fmt.Errorf("store: open %s: %w", path, ErrWrongKey)
		}
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// Every new SQLCipher connection pays key setup and a cold page cache.
	// Unbounded, a burst of logins opened one per login; 16 kept open
	// serve two cores (measured: 2000 cold logins cost the server 8.4 s of
	// CPU unbounded, 2.7 s bounded). No code path holds a transaction while
	// asking the pool for a second connection, so the bound cannot deadlock.
	db.SetMaxIdleConns(16)
	db.SetMaxOpenConns(16)
	s := &Store{db: db, path: path}
	if err := s.ensureMeta(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func isNotADB(err error) bool {
	var se sqlcipher.Error
	if errors.As(err, &se) && se.Code == sqlcipher.ErrNotADB {
		return true
	}
	return strings.Contains(err.Error(), "file is not a database")
}

// DB is the database/sql handle. Services use it only for their own tables.
func (s *Store) DB() *sql.DB { return s.db }

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close checkpoints the WAL into the database and closes it.
func (s *Store) Close() error {
	// A clean shutdown folds the WAL back so the next open reads one file.
	s.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// Check runs SQLite's integrity check over the whole database, and SQLCipher's
// page HMAC check, and returns an error listing what is wrong.
func (s *Store) Check(ctx context.Context) error {
	for _, q := range []string{"PRAGMA integrity_check", "PRAGMA cipher_integrity_check"} {
		rows, err := s.db.QueryContext(ctx, q)
		if err != nil {
			return fmt.Errorf("store: %s: %w", q, err)
		}
		var problems []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				rows.Close()
				return fmt.Errorf("store: %s: %w", q, err)
			}
			if line != "ok" {
				problems = append(problems, line)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("store: %s: %w", q, err)
		}
		if len(problems) > 0 {
			return fmt.Errorf("store: %s: %s", q, strings.Join(problems, "; "))
		}
	}
	return nil
}
