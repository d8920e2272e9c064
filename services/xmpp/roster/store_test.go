package roster_test

import (
	"context"
	"testing"

	"github.com/chatsecure/box/services/store/storetest"
	"github.com/chatsecure/box/services/xmpp/accounts"
	"github.com/chatsecure/box/services/xmpp/roster"
	"github.com/chatsecure/box/services/xmpp/schema"
)

func TestStore(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	if err := schema.Migrate(ctx, st); err != nil {
		t.Fatal(err)
	}
	accounts.New(st.DB(), "x", 4096).Create(ctx, "alice", "p")
	s := roster.New(st.DB())
	if v, _ := s.Version(ctx, "alice"); v != "0" {
		t.Fatalf("version %s", v)
	}
	v1, err := s.Put(ctx, "alice", roster.Item{JID: "bob@x", Name: "Bob", Groups: []string{"Friends"}, Sub: roster.None, InRoster: true}, true)
	if err != nil || v1 != "1" {
		t.Fatal(v1, err)
	}
	s.Put(ctx, "alice", roster.Item{JID: "eve@x", Sub: roster.None, PendingIn: true}, false)
	items, _ := s.Items(ctx, "alice")
	if len(items) != 2 || items[0].Name != "Bob" || items[0].Groups[0] != "Friends" || !items[1].PendingIn {
		t.Fatalf("items %+v", items)
	}
	got := roster.Query(items, v1).String()
	want := `<query xmlns='jabber:iq:roster' ver='1'><item jid='bob@x' name='Bob' subscription='none'><group>Friends</group></item></query>`
	if got != want {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
	v2, _ := s.Remove(ctx, "alice", "bob@x")
	if v2 != "2" {
		t.Fatalf("version after remove %s", v2)
	}
	it, _ := s.Item(ctx, "alice", "bob@x")
	if it.InRoster || it.Sub != roster.None {
		t.Fatalf("removed item %+v", it)
	}
}
