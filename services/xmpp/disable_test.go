package xmpp

import (
	"context"
	"errors"
	"testing"

	"github.com/chatsecure/box/services/xmpp/accounts"
	msasl "mellium.im/sasl"
)

// loginAttempt opens a STARTTLS stream and tries PLAIN, returning the
// server's answer.
func loginAttempt(t *testing.T, s *testServer, user, pass string) string {
	t.Helper()
	c := dial(t, s.c2s)
	c.open("")
	c.starttls()
	c.open("")
	return golden(c.plain(user, pass))
}

// TestDisable: disabling ends the open session with not-authorized and
// refuses logins exactly as a wrong password is refused (PLAIN and
// SCRAM); enabling lets the user in again with the same password.
func TestDisable(t *testing.T) {
	s := startServer(t, nil)
	ctx := context.Background()
	alice := login(t, s, "alice", "a1")
	bob := login(t, s, "bob", "b1")

	if err := s.Accounts().SetDisabled(ctx, "alice", true); err != nil {
		t.Fatal(err)
	}
	if got := alice.expectStreamError(); got != "not-authorized" {
		t.Errorf("open session ended with %q, want not-authorized", got)
	}
	// bob is untouched.
	bob.send("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>")
	bob.expect("<iq type='result' id='p1' to='bob@localhost/b1'/>")

	const refused = "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>"
	if got := loginAttempt(t, s, "alice", "wrong"); got != refused {
		t.Fatalf("wrong password: %s", got)
	}
	if got := loginAttempt(t, s, "alice", "pencil"); got != refused {
		t.Errorf("disabled, right password: %s, want %s", got, refused)
	}
	c := dial(t, s.c2s)
	c.open("")
	c.starttls()
	f := c.open("")
	var mechs []string
	for _, m := range f.Child(nsSASL, "mechanisms").Elements() {
		mechs = append(mechs, m.Text())
	}
	if got := golden(c.scram(msasl.ScramSha256, "alice", "pencil", mechs)); got != refused {
		t.Errorf("disabled, SCRAM: %s, want %s", got, refused)
	}

	if err := s.Accounts().SetDisabled(ctx, "alice@localhost", false); err != nil {
		t.Fatal(err)
	}
	if got := loginAttempt(t, s, "alice", "pencil"); got != "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>" {
		t.Errorf("enabled again: %s", got)
	}
	login(t, s, "alice", "a2")

	if err := s.Accounts().SetDisabled(ctx, "nobody", true); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("unknown account: %v, want ErrNotFound", err)
	}
}
