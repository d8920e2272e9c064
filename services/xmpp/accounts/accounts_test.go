package accounts_test

import (
	"context"
	"errors"
	"testing"

	"github.com/chatsecure/box/services/store/storetest"
	"github.com/chatsecure/box/services/xmpp/accounts"
	"github.com/chatsecure/box/services/xmpp/schema"
)

func open(t *testing.T) *accounts.Accounts {
	st := storetest.Open(t)
	if err := schema.Migrate(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	return accounts.New(st.DB(), "localhost", 4096)
}

func TestAccounts(t *testing.T) {
	ctx := context.Background()
	a := open(t)
	if err := a.Create(ctx, "Alice@localhost", "pencil"); err != nil {
		t.Fatal(err)
	}
	if err := a.Create(ctx, "alice", "x"); !errors.Is(err, accounts.ErrExists) {
		t.Fatalf("duplicate: %v", err)
	}
	for _, bad := range []string{"bob@example.org", "bob@localhost/res", "@localhost", "a b@localhost"} {
		if err := a.Create(ctx, bad, "x"); !errors.Is(err, accounts.ErrBadUsername) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if err := a.Create(ctx, "carol", ""); !errors.Is(err, accounts.ErrBadPassword) {
		t.Fatalf("empty password: %v", err)
	}
	c, ok, err := a.Credentials(ctx, "alice")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if !c.VerifyPassword("pencil") || c.VerifyPassword("Pencil") || c.Iter < 4096 {
		t.Fatal("credentials do not match the password")
	}
	if err := a.SetPassword(ctx, "alice@localhost", "pen"); err != nil {
		t.Fatal(err)
	}
	c, _, _ = a.Credentials(ctx, "alice")
	if !c.VerifyPassword("pen") || c.VerifyPassword("pencil") {
		t.Fatal("passwd did not take")
	}
	if err := a.SetPassword(ctx, "nobody", "x"); !errors.Is(err, accounts.ErrNotFound) {
		t.Fatalf("passwd unknown: %v", err)
	}
	a.Create(ctx, "bob", "x")
	l, err := a.List(ctx)
	if err != nil || len(l) != 2 || l[0] != "alice" || l[1] != "bob" {
		t.Fatalf("list %v %v", l, err)
	}
	if err := a.Delete(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, "alice"); !errors.Is(err, accounts.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if ok, _ := a.Exists(ctx, "alice"); ok {
		t.Fatal("deleted account exists")
	}
}

func TestDisabled(t *testing.T) {
	ctx := context.Background()
	a := open(t)
	var got []accounts.Change
	a.OnChange(func(u string, c accounts.Change) { got = append(got, c) })
	if err := a.Create(ctx, "alice", "pencil"); err != nil {
		t.Fatal(err)
	}
	if off, err := a.Disabled(ctx, "alice"); err != nil || off {
		t.Fatalf("new account disabled=%v err=%v", off, err)
	}
	if err := a.SetDisabled(ctx, "alice", true); err != nil {
		t.Fatal(err)
	}
	if off, err := a.Disabled(ctx, "alice"); err != nil || !off {
		t.Fatalf("after disabling: disabled=%v err=%v", off, err)
	}
	// The credentials stay, so enabling needs no new password.
	if c, ok, _ := a.Credentials(ctx, "alice"); !ok || !c.VerifyPassword("pencil") {
		t.Fatal("disabling lost the credentials")
	}
	if err := a.SetDisabled(ctx, "alice@localhost", false); err != nil {
		t.Fatal(err)
	}
	if off, _ := a.Disabled(ctx, "alice"); off {
		t.Fatal("still disabled after enabling")
	}
	if len(got) != 1 || got[0] != accounts.Disabled {
		t.Fatalf("OnChange saw %v, want one Disabled", got)
	}
	if err := a.SetDisabled(ctx, "nobody", true); !errors.Is(err, accounts.ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	if err := a.SetDisabled(ctx, "x@elsewhere", true); !errors.Is(err, accounts.ErrBadUsername) {
		t.Fatalf("remote: %v", err)
	}
}
