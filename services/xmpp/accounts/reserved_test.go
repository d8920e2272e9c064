package accounts_test

import (
	"context"
	"errors"
	"testing"

	"github.com/chatsecure/box/services/xmpp/accounts"
)

// TestReservedNames: the health check's localparts cannot become accounts,
// in any case spelling, and cannot be given a password.
func TestReservedNames(t *testing.T) {
	ctx := context.Background()
	a := open(t)
	for _, name := range []string{accounts.ReservedPrefix + "abc", "_Box-HealthCheck-x@localhost"} {
		if err := a.Create(ctx, name, "secret"); !errors.Is(err, accounts.ErrBadUsername) {
			t.Errorf("create %q: %v, want ErrBadUsername", name, err)
		}
		if err := a.SetPassword(ctx, name, "secret"); !errors.Is(err, accounts.ErrBadUsername) {
			t.Errorf("passwd %q: %v, want ErrBadUsername", name, err)
		}
	}
	if users, err := a.List(ctx); err != nil || len(users) != 0 {
		t.Fatalf("accounts after refused creates: %v %v", users, err)
	}
	// Near misses are ordinary names.
	if err := a.Create(ctx, "box-healthcheck-x", "secret"); err != nil {
		t.Fatalf("an unreserved name: %v", err)
	}
}
