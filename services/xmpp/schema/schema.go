package schema

import (
	"context"
	"fmt"
)

// Service is the name the steps are migrated under.
const Service = "xmpp"

// Steps are the schema migrations, in order. Append only.
var Steps = []string{
	`CREATE TABLE xmpp_accounts (
		username      TEXT PRIMARY KEY,
		salt          BLOB NOT NULL,
		iter          INTEGER NOT NULL,
		sha1_stored   BLOB NOT NULL,
		sha1_server   BLOB NOT NULL,
		sha256_stored BLOB NOT NULL,
		sha256_server BLOB NOT NULL,
		created       INTEGER NOT NULL
	)`,
	`CREATE TABLE xmpp_roster (
		owner      TEXT NOT NULL REFERENCES xmpp_accounts(username) ON DELETE CASCADE,
		contact    TEXT NOT NULL,
		name       TEXT NOT NULL DEFAULT '',
		groups     TEXT NOT NULL DEFAULT '[]',
		sub        TEXT NOT NULL DEFAULT 'none',
		ask        INTEGER NOT NULL DEFAULT 0,
		pending_in INTEGER NOT NULL DEFAULT 0,
		in_roster  INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (owner, contact)
	)`,
	`CREATE TABLE xmpp_roster_version (
		owner TEXT PRIMARY KEY REFERENCES xmpp_accounts(username) ON DELETE CASCADE,
		ver   INTEGER NOT NULL
	)`,
	`CREATE TABLE xmpp_offline (
		id     INTEGER PRIMARY KEY AUTOINCREMENT,
		owner  TEXT NOT NULL REFERENCES xmpp_accounts(username) ON DELETE CASCADE,
		stanza TEXT NOT NULL
	)`,
	`CREATE INDEX xmpp_offline_owner ON xmpp_offline(owner, id)`,
	`CREATE TABLE xmpp_blocklist (
		owner TEXT NOT NULL REFERENCES xmpp_accounts(username) ON DELETE CASCADE,
		jid   TEXT NOT NULL,
		PRIMARY KEY (owner, jid)
	)`,
	`CREATE TABLE xmpp_vcard (
		owner TEXT PRIMARY KEY REFERENCES xmpp_accounts(username) ON DELETE CASCADE,
		xml   TEXT NOT NULL
	)`,
	`CREATE TABLE xmpp_private (
		owner TEXT NOT NULL REFERENCES xmpp_accounts(username) ON DELETE CASCADE,
		ns    TEXT NOT NULL,
		xml   TEXT NOT NULL,
		PRIMARY KEY (owner, ns)
	)`,
	// A disabled account keeps its data but cannot log in.
	`ALTER TABLE xmpp_accounts ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0`,
}

// Migrator is the part of *store.Store this package needs.
type Migrator interface {
	Migrate(ctx context.Context, service string, steps []string) error
}

// Migrate brings the tables up to date.
func Migrate(ctx context.Context, st Migrator) error {
	if err := st.Migrate(ctx, Service, Steps); err != nil {
		return fmt.Errorf("xmpp schema: %w", err)
	}
	return nil
}
