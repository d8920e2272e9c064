package offline_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chatsecure/box/services/store/storetest"
	"github.com/chatsecure/box/services/xmpp/accounts"
	"github.com/chatsecure/box/services/xmpp/elem"
	"github.com/chatsecure/box/services/xmpp/offline"
	"github.com/chatsecure/box/services/xmpp/schema"
)

func TestOffline(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	schema.Migrate(ctx, st)
	accounts.New(st.DB(), "x", 4096).Create(ctx, "bob", "p")
	now := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	s := offline.New(st.DB(), "x", 2, now)
	for i, body := range []string{"one", "two"} {
		m := elem.New(elem.NSClient, "message", "from", "alice@x/a", "to", "bob@x", "type", "chat")
		m.Add(elem.New(elem.NSClient, "body").AddText(body))
		if err := s.Put(ctx, "bob", m); err != nil {
			t.Fatal(i, err)
		}
	}
	if err := s.Put(ctx, "bob", elem.New(elem.NSClient, "message")); !errors.Is(err, offline.ErrQuota) {
		t.Fatalf("over quota: %v", err)
	}
	got, err := s.Take(ctx, "bob")
	if err != nil || len(got) != 2 {
		t.Fatal(len(got), err)
	}
	want := `<message from='alice@x/a' to='bob@x' type='chat'><body>one</body><delay xmlns='urn:xmpp:delay' from='x' stamp='2026-01-02T03:04:05Z'/></message>`
	if s := string(got[0].Append(nil, elem.NSClient)); s != want {
		t.Fatalf("\n got %s\nwant %s", s, want)
	}
	if again, _ := s.Take(ctx, "bob"); len(again) != 0 {
		t.Fatal("taken twice")
	}
}
