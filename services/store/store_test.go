package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatsecure/box/services/store"
)

func newKey(t *testing.T) []byte {
	k := make([]byte, store.KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// secretText is unusual enough that finding it in a file can only mean it
// was written there in clear.
const secretText = "attack-at-dawn-7f3a9c1e-plaintext-marker"

// TestNothingPlainOnDisk writes a known string and greps every file the
// store keeps, with the WAL still holding it (before a checkpoint) and after.
func TestNothingPlainOnDisk(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "box.db")
	st, err := store.Create(ctx, path, newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx, "t", []string{"CREATE TABLE notes(body TEXT)"}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		if _, err := st.DB().Exec("INSERT INTO notes VALUES(?)", secretText+strings.Repeat("x", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("expected a WAL while open: %v", err)
	}
	grepDir(t, dir) // WAL holds the rows now
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	grepDir(t, dir) // checkpointed into the db
}

func grepDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, needle := range [][]byte{[]byte("SQLite format 3"), []byte(secretText), []byte("CREATE TABLE")} {
			if bytes.Contains(b, needle) {
				t.Errorf("%s holds plaintext %q", e.Name(), needle)
			}
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no files to check")
	}
}

func TestWrongKeyLeavesFileAlone(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "box.db")
	st, err := store.Create(ctx, path, newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx, "t", []string{"CREATE TABLE notes(body TEXT)"}); err != nil {
		t.Fatal(err)
	}
	st.DB().Exec("INSERT INTO notes VALUES('x')")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)

	_, err = store.Open(ctx, path, newKey(t))
	if !errors.Is(err, store.ErrWrongKey) {
		t.Fatalf("Open with wrong key: got %v, want ErrWrongKey", err)
	}
	if !strings.Contains(err.Error(), "wrong key or not a ChatSecure Box database") {
		t.Errorf("error does not say what is wrong: %v", err)
	}
	after := snapshot(t, dir)
	if before[filepath.Base(path)] != after[filepath.Base(path)] {
		t.Error("database file changed after a wrong-key open")
	}
}

func TestNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "box.db")
	junk := bytes.Repeat([]byte("not a database "), 500)
	os.WriteFile(path, junk, 0o600)
	_, err := store.Open(context.Background(), path, newKey(t))
	if !errors.Is(err, store.ErrWrongKey) {
		t.Fatalf("got %v, want ErrWrongKey", err)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, junk) {
		t.Error("file changed")
	}
}

func snapshot(t *testing.T, dir string) map[string]string {
	m := map[string]string{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = string(b)
	}
	return m
}

func TestOpenNeverCreates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "box.db")
	_, err := store.Open(context.Background(), path, newKey(t))
	if !errors.Is(err, store.ErrNotExist) {
		t.Fatalf("got %v, want ErrNotExist", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Error("Open created a file")
	}
}

func TestCreateRefusesExisting(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "box.db")
	st, err := store.Create(ctx, path, newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := store.Create(ctx, path, newKey(t)); !errors.Is(err, store.ErrExist) {
		t.Fatalf("got %v, want ErrExist", err)
	}
}

func TestReopenSameKey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "box.db")
	key := newKey(t)
	st, err := store.Create(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	st.Migrate(ctx, "t", []string{"CREATE TABLE notes(body TEXT)"})
	st.DB().Exec("INSERT INTO notes VALUES('kept')")
	st.Close()
	st, err = store.Open(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var body string
	if err := st.DB().QueryRow("SELECT body FROM notes").Scan(&body); err != nil || body != "kept" {
		t.Fatalf("got %q, %v", body, err)
	}
	if err := st.Check(ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

func TestBadKeyLength(t *testing.T) {
	_, err := store.Create(context.Background(), filepath.Join(t.TempDir(), "db"), []byte("short"))
	if err == nil || !strings.Contains(err.Error(), "key is 5 bytes") {
		t.Fatalf("got %v", err)
	}
}

func TestFilesAreOwnerOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Create(ctx, filepath.Join(dir, "box.db"), newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.Migrate(ctx, "t", []string{"CREATE TABLE a(x)"})
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		fi, _ := e.Info()
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is %v", e.Name(), fi.Mode().Perm())
		}
	}
	if len(entries) < 2 {
		t.Fatalf("expected db and wal, got %d files", len(entries))
	}
}
