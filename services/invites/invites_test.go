package invites_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatsecure/box/services/console/consoletest"
	"github.com/chatsecure/box/services/invites"
	"github.com/chatsecure/box/services/store/storetest"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func open(t *testing.T) (*invites.Store, *consoletest.Accounts, *consoletest.Rosters, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	acc, ros := consoletest.NewAccounts(), &consoletest.Rosters{}
	s, err := invites.Open(context.Background(), storetest.Open(t), invites.Options{Accounts: acc, Rosters: ros, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return s, acc, ros, clk
}

func TestSingleUse(t *testing.T) {
	ctx := context.Background()
	s, acc, ros, _ := open(t)
	inv, err := s.Create(ctx, "ada", "for bob", time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Redeem(ctx, inv.Token, "bob", "pw-bob-123"); err != nil {
		t.Fatal(err)
	}
	if pw, ok := acc.Password("bob"); !ok || pw != "pw-bob-123" {
		t.Fatal("account not made")
	}
	if !ros.Contacts("ada", "bob") {
		t.Fatal("inviter and invitee are not contacts")
	}
	if _, err := s.Redeem(ctx, inv.Token, "carol", "pw-carol-123"); !errors.Is(err, invites.ErrUsedUp) {
		t.Fatalf("second use: %v", err)
	}
	if _, ok := acc.Password("carol"); ok {
		t.Fatal("used-up invite made an account")
	}
	rs, _ := s.Redemptions(ctx, inv.Token)
	if len(rs) != 1 || rs[0].Localpart != "bob" {
		t.Fatalf("redemptions %+v", rs)
	}
}

func TestGroupUseCounts(t *testing.T) {
	ctx := context.Background()
	s, acc, _, _ := open(t)
	inv, _ := s.Create(ctx, "ada", "team", time.Hour, 3)
	for i, name := range []string{"u1", "u2", "u3"} {
		if _, err := s.Redeem(ctx, inv.Token, name, "password-123"); err != nil {
			t.Fatalf("use %d: %v", i+1, err)
		}
		got, _ := s.Get(ctx, inv.Token)
		if got.Uses != i+1 {
			t.Fatalf("uses %d after %d redemptions", got.Uses, i+1)
		}
	}
	if _, err := s.Redeem(ctx, inv.Token, "u4", "password-123"); !errors.Is(err, invites.ErrUsedUp) {
		t.Fatalf("fourth use: %v", err)
	}
	if len(acc.Names()) != 3 {
		t.Fatalf("accounts %v", acc.Names())
	}
}

func TestConcurrentRedeemsNeverExceedMaxUses(t *testing.T) {
	ctx := context.Background()
	s, acc, _, _ := open(t)
	inv, _ := s.Create(ctx, "", "", time.Hour, 5)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Redeem(ctx, inv.Token, "p"+string(rune('a'+i)), "password-123")
		}()
	}
	wg.Wait()
	got, _ := s.Get(ctx, inv.Token)
	if got.Uses != 5 || len(acc.Names()) != 5 {
		t.Fatalf("uses %d, accounts %d; want 5 and 5", got.Uses, len(acc.Names()))
	}
}

func TestExpiry(t *testing.T) {
	ctx := context.Background()
	s, acc, _, clk := open(t)
	inv, _ := s.Create(ctx, "ada", "", time.Hour, 1)
	clk.t = clk.t.Add(time.Hour)
	if _, err := s.Check(ctx, inv.Token); !errors.Is(err, invites.ErrExpired) {
		t.Fatalf("check at expiry: %v", err)
	}
	if _, err := s.Redeem(ctx, inv.Token, "bob", "password-123"); !errors.Is(err, invites.ErrExpired) {
		t.Fatalf("redeem at expiry: %v", err)
	}
	if len(acc.Names()) != 0 {
		t.Fatal("expired invite made an account")
	}
}

func TestRevocation(t *testing.T) {
	ctx := context.Background()
	s, acc, _, _ := open(t)
	inv, _ := s.Create(ctx, "ada", "", time.Hour, 10)
	s.Redeem(ctx, inv.Token, "bob", "password-123")
	if err := s.Revoke(ctx, inv.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Redeem(ctx, inv.Token, "carol", "password-123"); !errors.Is(err, invites.ErrRevoked) {
		t.Fatalf("after revoke: %v", err)
	}
	if err := s.Revoke(ctx, "nope"); !errors.Is(err, invites.ErrNotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
	if _, err := s.Redeem(ctx, "nope", "dave", "password-123"); !errors.Is(err, invites.ErrNotFound) {
		t.Fatalf("unknown token: %v", err)
	}
	if len(acc.Names()) != 1 {
		t.Fatalf("accounts %v", acc.Names())
	}
}

func TestFailedAccountGivesTheUseBack(t *testing.T) {
	ctx := context.Background()
	s, acc, _, _ := open(t)
	acc.Create(ctx, "taken", "x")
	inv, _ := s.Create(ctx, "ada", "", time.Hour, 1)
	if _, err := s.Redeem(ctx, inv.Token, "taken", "password-123"); err == nil {
		t.Fatal("taken name accepted")
	}
	if got, _ := s.Get(ctx, inv.Token); got.Uses != 0 {
		t.Fatalf("uses %d after a failed account", got.Uses)
	}
	if _, err := s.Redeem(ctx, inv.Token, "free", "password-123"); err != nil {
		t.Fatalf("retry with another name: %v", err)
	}
	if _, err := s.Redeem(ctx, inv.Token, "Bad Name", "password-123"); !errors.Is(err, invites.ErrBadLocalpart) {
		t.Fatalf("bad localpart: %v", err)
	}
}

func TestCreateRejectsBadInput(t *testing.T) {
	s, _, _, _ := open(t)
	ctx := context.Background()
	for _, c := range []struct {
		ttl  time.Duration
		uses int
		note string
	}{{0, 1, ""}, {time.Hour, 0, ""}, {time.Hour, invites.MaxUsesLimit + 1, ""}, {400 * 24 * time.Hour, 1, ""}, {time.Hour, 1, strings.Repeat("n", 501)}} {
		if _, err := s.Create(ctx, "ada", c.note, c.ttl, c.uses); err == nil {
			t.Errorf("accepted ttl=%v uses=%d note=%d", c.ttl, c.uses, len(c.note))
		}
	}
}

func TestURI(t *testing.T) {
	i := invites.Invite{Token: "abc234", CreatedBy: "ada"}
	if got := invites.URI("example.org", i); got != "xmpp:ada@example.org?roster;preauth=abc234;ibr=y" {
		t.Fatal(got)
	}
	i.CreatedBy = ""
	if got := invites.URI("example.org", i); got != "xmpp:example.org?register;preauth=abc234" {
		t.Fatal(got)
	}
}

func TestValidLocalpart(t *testing.T) {
	for _, ok := range []string{"a", "bob", "anna.k", "x_y-z", "0day", strings.Repeat("a", 64)} {
		if err := invites.ValidLocalpart(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Bob", ".a", "-a", "a b", "a@b", "a/b", "ä", strings.Repeat("a", 65), "a\x00"} {
		if invites.ValidLocalpart(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzValidLocalpart(f *testing.F) {
	for _, s := range []string{"bob", "", "Bob", "a.b", "a@b", "\u0430dmin", "a\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if invites.ValidLocalpart(s) != nil {
			return
		}
		// Whatever is accepted is safe in a JID, a URL path and a URI query.
		if len(s) == 0 || len(s) > 64 || strings.ContainsAny(s, "@/?#;&=% \t\r\n\"'<>") || strings.ToLower(s) != s {
			t.Fatalf("accepted %q", s)
		}
		for _, r := range s {
			if r > 127 {
				t.Fatalf("accepted non-ASCII %q", s)
			}
		}
	})
}
