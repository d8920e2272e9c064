package xmpp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chatsecure/box/services/invites"
	"github.com/chatsecure/box/services/store/storetest"
	"github.com/chatsecure/box/services/xmpp/accounts"
)

// refusingAccounts is an account maker that refuses like the console
// does: plain-language errors, or a wrapped account-table error.
type refusingAccounts struct{ err error }

func (a refusingAccounts) Create(ctx context.Context, localpart, password string) error { return a.err }

// TestInviteStoreErrors: the adapter sorts the invite store's errors into
// the three kinds registration answers differently, with the reason the
// user reads.
func TestInviteStoreErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		create   error
		sentinel error
		text     string
	}{
		{errors.New("the password needs at least 10 characters"), ErrNotAcceptable, "the password needs at least 10 characters"},
		{fmt.Errorf("%w: bob", accounts.ErrExists), accounts.ErrExists, ""},
		{fmt.Errorf("%w: too long", accounts.ErrBadPassword), ErrNotAcceptable, "the password is not acceptable"},
	} {
		st, err := invites.Open(ctx, storetest.Open(t), invites.Options{Accounts: refusingAccounts{tc.create}})
		if err != nil {
			t.Fatal(err)
		}
		inv, err := st.Create(ctx, "alice", "", time.Hour, 1)
		if err != nil {
			t.Fatal(err)
		}
		a := InviteStore(st)
		if err := a.Check(ctx, inv.Token); err != nil {
			t.Fatalf("Check of a fresh invite: %v", err)
		}
		_, err = a.Redeem(ctx, inv.Token, "juliet", "pw")
		if !errors.Is(err, tc.sentinel) {
			t.Errorf("%v: got %v, want %v", tc.create, err, tc.sentinel)
			continue
		}
		if tc.text != "" && reason(err, tc.sentinel) != tc.text {
			t.Errorf("%v: reason %q, want %q", tc.create, reason(err, tc.sentinel), tc.text)
		}
	}

	st, err := invites.Open(ctx, storetest.Open(t), invites.Options{Accounts: refusingAccounts{}})
	if err != nil {
		t.Fatal(err)
	}
	a := InviteStore(st)
	for _, tok := range []string{"", "nosuch"} {
		if err := a.Check(ctx, tok); !errors.Is(err, ErrInviteInvalid) || reason(err, ErrInviteInvalid) != "no such invite" {
			t.Errorf("Check(%q): %v", tok, err)
		}
	}
	inv, _ := st.Create(ctx, "alice", "", time.Hour, 1)
	if _, err := a.Redeem(ctx, inv.Token, "Not Valid", "pw"); !errors.Is(err, ErrNotAcceptable) || !strings.Contains(err.Error(), "username must be") {
		t.Errorf("bad localpart: %v", err)
	}
	inviter, err := a.Redeem(ctx, inv.Token, "juliet", "pw")
	if err != nil || inviter != "alice" {
		t.Fatalf("Redeem: %q %v", inviter, err)
	}
	if _, err := a.Redeem(ctx, inv.Token, "romeo", "pw"); !errors.Is(err, ErrInviteInvalid) || reason(err, ErrInviteInvalid) != "this invite has already been used" {
		t.Errorf("used up: %v", err)
	}
}
