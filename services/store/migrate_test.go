package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chatsecure/box/services/store/storetest"
)

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	steps := []string{
		"CREATE TABLE a(x INTEGER)",
		"ALTER TABLE a ADD COLUMN y TEXT",
	}
	if err := st.Migrate(ctx, "svc", steps[:1]); err != nil {
		t.Fatal(err)
	}
	if v, _ := st.Version(ctx, "svc"); v != 1 {
		t.Fatalf("version %d, want 1", v)
	}
	// Re-running applied steps is a no-op; appending runs only the new one.
	if err := st.Migrate(ctx, "svc", steps); err != nil {
		t.Fatal(err)
	}
	if v, _ := st.Version(ctx, "svc"); v != 2 {
		t.Fatalf("version %d, want 2", v)
	}
	if _, err := st.DB().Exec("INSERT INTO a(x, y) VALUES(1, 'b')"); err != nil {
		t.Fatal(err)
	}
	// Services have their own version lines.
	if v, _ := st.Version(ctx, "other"); v != 0 {
		t.Fatalf("other version %d", v)
	}
	// A build with fewer steps than the database has is refused.
	err := st.Migrate(ctx, "svc", steps[:1])
	if err == nil || !strings.Contains(err.Error(), "downgraded") {
		t.Fatalf("got %v", err)
	}
}

func TestMigrateFailedStepRollsBack(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	err := st.Migrate(ctx, "svc", []string{"CREATE TABLE a(x)", "CREATE TABLE a(x)"})
	if err == nil {
		t.Fatal("duplicate table accepted")
	}
	if v, _ := st.Version(ctx, "svc"); v != 1 {
		t.Fatalf("version %d, want 1 (first step kept, second rolled back)", v)
	}
}

func TestForeignKeysOn(t *testing.T) {
	st := storetest.Open(t)
	var on int
	if err := st.DB().QueryRow("PRAGMA foreign_keys").Scan(&on); err != nil || on != 1 {
		t.Fatalf("foreign_keys = %d, %v", on, err)
	}
	var mode string
	st.DB().QueryRow("PRAGMA journal_mode").Scan(&mode)
	if mode != "wal" {
		t.Fatalf("journal_mode = %q", mode)
	}
}
