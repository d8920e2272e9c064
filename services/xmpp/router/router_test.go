package router_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/chatsecure/box/services/store/storetest"
	"github.com/chatsecure/box/services/xmpp/accounts"
	"github.com/chatsecure/box/services/xmpp/blocking"
	"github.com/chatsecure/box/services/xmpp/elem"
	"github.com/chatsecure/box/services/xmpp/offline"
	"github.com/chatsecure/box/services/xmpp/roster"
	"github.com/chatsecure/box/services/xmpp/router"
	"github.com/chatsecure/box/services/xmpp/schema"
)

// fake is a Sender that records what it gets.
type fake struct {
	mu     sync.Mutex
	got    []string
	closed string
}

func (f *fake) Send(e *elem.Element) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, string(e.Append(nil, elem.NSClient)))
	return nil
}

func (f *fake) Close(cond, text string) {
	f.mu.Lock()
	f.closed = cond
	f.mu.Unlock()
}

func (f *fake) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.got
	f.got = nil
	return g
}

func newRouter(t *testing.T, max int) *router.Router {
	ctx := context.Background()
	st := storetest.Open(t)
	if err := schema.Migrate(ctx, st); err != nil {
		t.Fatal(err)
	}
	acc := accounts.New(st.DB(), "x", 4096)
	for _, u := range []string{"alice", "bob"} {
		acc.Create(ctx, u, "p")
	}
	return router.New(router.Config{
		Domain: "x", MaxSessions: max, Accounts: acc,
		Roster: roster.New(st.DB()), Offline: offline.New(st.DB(), "x", 10, nil), Blocking: blocking.New(st.DB()),
	})
}

func TestBind(t *testing.T) {
	r := newRouter(t, 2)
	a1 := &fake{}
	c, err := r.Bind("alice", "", a1)
	if err != nil || !strings.HasPrefix(c.JID().String(), "alice@x/box-") {
		t.Fatalf("server-made resource: %v %v", c, err)
	}
	if _, err := r.Bind("alice", "phone", &fake{}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Bind("alice", "third", &fake{}); !errors.Is(err, router.ErrTooManySessions) {
		t.Fatalf("third session: %v", err)
	}
	// The same resource again replaces the old one, even at the limit.
	old := &fake{}
	r2 := newRouter(t, 1)
	c1, _ := r2.Bind("bob", "r", old)
	if _, err := r2.Bind("bob", "r", &fake{}); err != nil {
		t.Fatalf("replace: %v", err)
	}
	if old.closed != "conflict" {
		t.Fatalf("old session closed with %q", old.closed)
	}
	// The old conn unbinding later must not remove the new one.
	c1.Unbind()
	if r2.Sessions() != 1 {
		t.Fatalf("%d sessions", r2.Sessions())
	}
	r.Kick("alice", "reset")
	if a1.closed != "reset" {
		t.Fatalf("kick: %q", a1.closed)
	}
}

func TestRouteStampsFrom(t *testing.T) {
	ctx := context.Background()
	r := newRouter(t, 5)
	af, bf := &fake{}, &fake{}
	a, _ := r.Bind("alice", "a", af)
	b, _ := r.Bind("bob", "b", bf)
	b.Route(ctx, elem.New(elem.NSClient, "presence"))
	bf.take()
	msg := elem.New(elem.NSClient, "message", "from", "eve@x/evil", "to", "bob@x", "type", "chat")
	msg.Add(elem.New(elem.NSClient, "body").AddText("hi"))
	a.Route(ctx, msg)
	got := bf.take()
	want := "<message from='alice@x/a' to='bob@x' type='chat'><body>hi</body></message>"
	if len(got) != 1 || got[0] != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}
