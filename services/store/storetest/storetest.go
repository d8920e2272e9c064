package storetest

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"

	"github.com/chatsecure/box/services/store"
)

// Open creates a new store with a random key in a temporary directory and
// closes it when the test ends.
func Open(t testing.TB) *store.Store {
	t.Helper()
	key := make([]byte, store.KeySize)
	rand.Read(key)
	st, err := store.Create(context.Background(), filepath.Join(t.TempDir(), "box.db"), key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
