package console

// The console's own tables. Passwords are argon2id PHC strings; session ids
// and reset tokens are kept only as SHA-256 hashes, so a copy of the
// database does not log anyone in.
var migrations = []string{
	`CREATE TABLE console_users (
		username     TEXT PRIMARY KEY,
		display_name TEXT NOT NULL,
		role         TEXT NOT NULL CHECK (role IN ('admin', 'user', 'limited')),
		pw_hash      TEXT NOT NULL DEFAULT '',
		disabled     INTEGER NOT NULL DEFAULT 0,
		totp_secret  TEXT NOT NULL DEFAULT '',
		totp_pending TEXT NOT NULL DEFAULT '',
		totp_last    INTEGER NOT NULL DEFAULT 0,
		created_at   INTEGER NOT NULL
	);
	CREATE TABLE console_sessions (
		id_hash    TEXT PRIMARY KEY,
		username   TEXT NOT NULL REFERENCES console_users(username) ON DELETE CASCADE,
		mfa_ok     INTEGER NOT NULL,
		created_at INTEGER NOT NULL,
		last_seen  INTEGER NOT NULL,
		origin     TEXT NOT NULL
	);
	CREATE TABLE console_login_failures (
		k     TEXT PRIMARY KEY,
		count INTEGER NOT NULL,
		last  INTEGER NOT NULL
	);
	CREATE TABLE console_resets (
		token_hash TEXT PRIMARY KEY,
		username   TEXT NOT NULL REFERENCES console_users(username) ON DELETE CASCADE,
		expires_at INTEGER NOT NULL
	);
	CREATE TABLE console_meta (
		k TEXT PRIMARY KEY,
		v BLOB NOT NULL
	);`,
}
