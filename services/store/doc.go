// Package store is the box's one database: SQLCipher (github.com/mutecomm/go-sqlcipher/v4)
// opened with the raw 32-byte key, WAL, synchronous=FULL, foreign keys.
// Each service creates its own tables through Migrate with its own name, so
// services never share schema versions.
//
// No file the store writes (db, -wal, -shm) may hold plaintext: the tests grep
// them. storetest opens a throwaway store for other packages' tests.
package store
