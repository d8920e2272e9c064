package xmpp

import (
	"context"
	"errors"
	"testing"

	"github.com/chatsecure/box/services/xmpp/accounts"
)

// TestAddMutual: alice is online and asked for her roster, so she gets a
// push and bob's presence; bob logs in later and finds alice in his
// roster. Both items have subscription both, and a second call changes
// nothing.
func TestAddMutual(t *testing.T) {
	s := startServer(t, nil)
	ctx := context.Background()
	alice := login(t, s, "alice", "a1")
	alice.send("<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>")
	alice.expect("<iq type='result' id='r1' to='alice@localhost/a1'><query xmlns='jabber:iq:roster' ver='0'/></iq>")
	alice.send("<presence/>")
	alice.expect("<presence from='alice@localhost/a1'/>")

	if err := s.AddMutual(ctx, "alice", "bob@localhost"); err != nil {
		t.Fatal(err)
	}
	alice.expect("<iq type='set' id='push-*' to='alice@localhost/a1'><query xmlns='jabber:iq:roster' ver='1'><item jid='bob@localhost' subscription='both'/></query></iq>")

	bob := login(t, s, "bob", "b1")
	bob.send("<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>")
	bob.expect("<iq type='result' id='r1' to='bob@localhost/b1'><query xmlns='jabber:iq:roster' ver='1'><item jid='alice@localhost' subscription='both'/></query></iq>")
	// Contacts with subscription both exchange presence at once.
	bob.send("<presence/>")
	alice.expect("<presence from='bob@localhost/b1' to='alice@localhost/a1'/>")

	// Idempotent: no new version, no push.
	if err := s.AddMutual(ctx, "bob", "alice"); err != nil {
		t.Fatal(err)
	}
	alice.send("<iq type='get' id='r2'><query xmlns='jabber:iq:roster' ver='1'/></iq>")
	alice.expect("<iq type='result' id='r2' to='alice@localhost/a1'/>")

	if err := s.AddMutual(ctx, "alice", "nobody"); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("unknown contact: %v, want ErrNotFound", err)
	}
	if err := s.AddMutual(ctx, "alice", "alice"); err == nil {
		t.Error("befriending oneself worked")
	}
	if err := s.AddMutual(ctx, "alice", "x@elsewhere"); !errors.Is(err, accounts.ErrBadUsername) {
		t.Errorf("remote JID: %v, want ErrBadUsername", err)
	}
}
