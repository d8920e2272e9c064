package blocking_test

import (
	"context"
	"testing"

	"github.com/chatsecure/box/services/store/storetest"
	"github.com/chatsecure/box/services/xmpp/accounts"
	"github.com/chatsecure/box/services/xmpp/blocking"
	"github.com/chatsecure/box/services/xmpp/schema"
	"mellium.im/xmpp/jid"
)

func TestBlocking(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	schema.Migrate(ctx, st)
	accounts.New(st.DB(), "x", 4096).Create(ctx, "alice", "p")
	s := blocking.New(st.DB())
	if err := s.Block(ctx, "alice", []string{"eve@x", "spam.example"}); err != nil {
		t.Fatal(err)
	}
	for j, want := range map[string]bool{
		"eve@x/phone":         true,
		"eve@x":               true,
		"bob@x":               false,
		"anyone@spam.example": true,
	} {
		if got := s.Blocked(ctx, "alice", jid.MustParse(j)); got != want {
			t.Errorf("%s: %v", j, got)
		}
	}
	// A fresh store (after a restart) reads the same list from disk.
	s2 := blocking.New(st.DB())
	if !s2.Blocked(ctx, "alice", jid.MustParse("eve@x")) {
		t.Fatal("block list not persisted")
	}
	s.Unblock(ctx, "alice", []string{"eve@x"})
	if s.Blocked(ctx, "alice", jid.MustParse("eve@x")) {
		t.Fatal("still blocked")
	}
	s.Unblock(ctx, "alice", nil)
	if l, _ := s.List(ctx, "alice"); len(l) != 0 {
		t.Fatalf("unblock all left %v", l)
	}
}
