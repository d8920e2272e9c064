package router_test

import (
	"context"
	"testing"
	"time"

	"github.com/chatsecure/box/services/store/storetest"
	"github.com/chatsecure/box/services/xmpp/accounts"
	"github.com/chatsecure/box/services/xmpp/blocking"
	"github.com/chatsecure/box/services/xmpp/elem"
	"github.com/chatsecure/box/services/xmpp/offline"
	"github.com/chatsecure/box/services/xmpp/roster"
	"github.com/chatsecure/box/services/xmpp/router"
	"github.com/chatsecure/box/services/xmpp/schema"
)

// TestMessagesPerMinute: messages clients send are counted over a sliding
// minute on an injected clock; errors are not counted.
func TestMessagesPerMinute(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	if err := schema.Migrate(ctx, st); err != nil {
		t.Fatal(err)
	}
	acc := accounts.New(st.DB(), "x", 4096)
	acc.Create(ctx, "alice", "p")
	acc.Create(ctx, "bob", "p")
	now := time.Unix(1_000_000, 0)
	r := router.New(router.Config{
		Domain: "x", Accounts: acc, Roster: roster.New(st.DB()),
		Offline: offline.New(st.DB(), "x", 10, nil), Blocking: blocking.New(st.DB()),
		Now: func() time.Time { return now },
	})
	a, err := r.Bind("alice", "a", &fake{})
	if err != nil {
		t.Fatal(err)
	}
	r.Bind("bob", "b", &fake{})
	send := func(typ string) {
		a.Route(ctx, elem.New(elem.NSClient, "message", "to", "bob@x", "type", typ).Add(elem.New(elem.NSClient, "body").AddText("hi")))
	}
	if n := r.MessagesPerMinute(); n != 0 {
		t.Fatalf("idle: %d", n)
	}
	send("chat")
	send("chat")
	send("error")
	now = now.Add(30 * time.Second)
	send("normal")
	if n := r.MessagesPerMinute(); n != 3 {
		t.Fatalf("after 3 messages and an error: %d, want 3", n)
	}
	now = now.Add(30 * time.Second) // the first two are 60 s old: out
	if n := r.MessagesPerMinute(); n != 1 {
		t.Fatalf("a minute after the first two: %d, want 1", n)
	}
	now = now.Add(2 * time.Minute)
	if n := r.MessagesPerMinute(); n != 0 {
		t.Fatalf("after a quiet while: %d, want 0", n)
	}
	// A bucket reused 60 s later starts again from zero.
	send("chat")
	if n := r.MessagesPerMinute(); n != 1 {
		t.Fatalf("bucket reuse: %d, want 1", n)
	}
}
