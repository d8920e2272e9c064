package xmpp

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/chatsecure/box/services/invites"
)

// clock is an injected time for the invite store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// startInviteServer is startServer with the real invite store plugged in
// (accounts made straight in the XMPP account table, contacts through
// AddMutual) and a clock the test moves.
func startInviteServer(t *testing.T) (*testServer, *invites.Store, *clock) {
	t.Helper()
	s := startServer(t, nil)
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	st, err := invites.Open(context.Background(), s.st, invites.Options{Accounts: s.acc, Rosters: s.Server, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	s.SetInvites(InviteStore(st))
	return s, st, clk
}

// unauthenticated opens a STARTTLS stream and stops before SASL; it
// returns the features offered there.
func unauthenticated(t *testing.T, s *testServer) (*client, map[string]string) {
	t.Helper()
	c := dial(t, s.c2s)
	c.open("")
	c.starttls()
	f := c.open("")
	feats := make(map[string]string)
	for _, e := range f.Elements() {
		feats[e.Name.Space+" "+e.Name.Local] = golden(e)
	}
	return c, feats
}

func newInvite(t *testing.T, st *invites.Store, by string, uses int) string {
	t.Helper()
	inv, err := st.Create(context.Background(), by, "test", time.Hour, uses)
	if err != nil {
		t.Fatal(err)
	}
	return inv.Token
}

func (s *testServer) exists(t *testing.T, user string) bool {
	t.Helper()
	ok, err := s.acc.Exists(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

const (
	featIBRToken = "<register xmlns='urn:xmpp:ibr-token:0'/>"
	featRegister = "<register xmlns='http://jabber.org/features/iq-register'/>"
)

// TestRegisterFeatures: the XEP-0445 and XEP-0077 features are offered
// after TLS and before SASL, and only when the box takes invites.
func TestRegisterFeatures(t *testing.T) {
	plain := startServer(t, nil)
	_, f := unauthenticated(t, plain)
	if _, ok := f[nsIBRToken+" register"]; ok {
		t.Errorf("ibr-token offered without an invite store: %v", f)
	}
	if _, ok := f[nsRegFeature+" register"]; ok {
		t.Errorf("iq-register offered without an invite store: %v", f)
	}
	if _, ok := f[nsInviteOld+" register"]; ok {
		t.Errorf("urn:xmpp:invite offered without an invite store: %v", f)
	}

	s, _, _ := startInviteServer(t)
	c := dial(t, s.c2s)
	pre := c.open("")
	if pre.Child(nsIBRToken, "register") != nil {
		t.Errorf("registration offered before TLS: %s", pre)
	}
	_, f = unauthenticated(t, s)
	if f[nsIBRToken+" register"] != featIBRToken || f[nsRegFeature+" register"] != featRegister ||
		f[nsInviteOld+" register"] != "<register xmlns='urn:xmpp:invite'/>" {
		t.Errorf("after TLS: %v", f)
	}
	if _, ok := f[nsSASL+" mechanisms"]; !ok {
		t.Errorf("SASL not offered beside registration: %v", f)
	}
	c2 := dial(t, s.c2s)
	c2.open("")
	c2.starttls()
	c2.open("")
	if e := c2.plain("alice", "pencil"); e.Name.Local != "success" {
		t.Fatal(e)
	}
	if f := c2.open(""); f.Child(nsIBRToken, "register") != nil || f.Child(nsRegFeature, "register") != nil {
		t.Errorf("registration offered after SASL: %s", f)
	}
}

// TestRegisterThroughInvite walks Conversations' flow for
// xmpp:alice@localhost?roster;preauth=TOKEN;ibr=y: preauth, form, register,
// then SASL on the same stream. alice (online) gets a roster push for
// juliet with subscription both, juliet finds alice in her roster, the
// invite counts the use and remembers juliet, and the used-up token is
// refused afterwards.
func TestRegisterThroughInvite(t *testing.T) {
	s, st, _ := startInviteServer(t)
	alice := login(t, s, "alice", "a1")
	alice.send("<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>")
	alice.expect("<iq type='result' id='r1' to='alice@localhost/a1'><query xmlns='jabber:iq:roster' ver='0'/></iq>")
	tok := newInvite(t, st, "alice", 1)

	c, _ := unauthenticated(t, s)
	c.send("<iq type='set' to='localhost' id='pa1'><preauth xmlns='urn:xmpp:pars:0' token='" + tok + "'/></iq>")
	c.expect("<iq type='result' id='pa1' from='localhost'/>")
	c.send("<iq type='get' to='localhost' id='reg1'><query xmlns='jabber:iq:register'/></iq>")
	c.expect("<iq type='result' id='reg1' from='localhost'><query xmlns='jabber:iq:register'><instructions>Choose a username and a password.</instructions><username/><password/></query></iq>")
	c.send("<iq type='set' to='localhost' id='reg2'><query xmlns='jabber:iq:register'><username>juliet</username><password>balcony-2026</password></query></iq>")
	c.expect("<iq type='result' id='reg2' from='localhost'/>")

	alice.expect("<iq type='set' id='push-*' to='alice@localhost/a1'><query xmlns='jabber:iq:roster' ver='1'><item jid='juliet@localhost' subscription='both'/></query></iq>")

	// Same stream, now SASL with the new account (XEP-0077 §3.1).
	if e := c.plain("juliet", "balcony-2026"); e.Name.Local != "success" {
		t.Fatalf("login after registration: %s", e)
	}
	c.open("")
	c.bind("phone")
	c.send("<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>")
	c.expect("<iq type='result' id='r1' to='juliet@localhost/phone'><query xmlns='jabber:iq:roster' ver='1'><item jid='alice@localhost' subscription='both'/></query></iq>")

	inv, err := st.Get(context.Background(), tok)
	if err != nil || inv.Uses != 1 {
		t.Fatalf("invite after use: %+v %v", inv, err)
	}
	red, err := st.Redemptions(context.Background(), tok)
	if err != nil || len(red) != 1 || red[0].Localpart != "juliet" {
		t.Fatalf("redemptions: %+v %v", red, err)
	}

	c2, _ := unauthenticated(t, s)
	c2.send("<iq type='set' id='pa2'><preauth xmlns='urn:xmpp:pars:0' token='" + tok + "'/></iq>")
	c2.expect("<iq type='error' id='pa2' from='localhost'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>this invite has already been used</text></error></iq>")
}

// TestRegisterRefused: without an accepted token nothing is created, and
// each refusal says why.
func TestRegisterRefused(t *testing.T) {
	s, st, clk := startInviteServer(t)
	ctx := context.Background()
	const notAllowed = "<iq type='error' id='reg' from='localhost'><error type='cancel'><not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>registration needs an invite: open the invite link from your administrator</text></error></iq>"
	notFound := func(text string) string {
		return "<iq type='error' id='pa' from='localhost'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>" + text + "</text></error></iq>"
	}
	preauth := func(c *client, tok string) {
		c.send("<iq type='set' id='pa'><preauth xmlns='urn:xmpp:pars:0' token='" + tok + "'/></iq>")
	}
	registerAs := func(c *client, user string) {
		c.send("<iq type='set' id='reg'><query xmlns='jabber:iq:register'><username>" + user + "</username><password>balcony-2026</password></query></iq>")
	}

	// No token at all: neither the form nor the set.
	c, _ := unauthenticated(t, s)
	c.send("<iq type='get' id='reg'><query xmlns='jabber:iq:register'/></iq>")
	c.expect(notAllowed)
	registerAs(c, "mallory")
	c.expect(notAllowed)

	// Unknown, expired, revoked and used-up tokens.
	preauth(c, "nosuchtoken")
	c.expect(notFound("no such invite"))
	registerAs(c, "mallory")
	c.expect(notAllowed)

	expired := newInvite(t, st, "alice", 1)
	revoked := newInvite(t, st, "alice", 1)
	if err := st.Revoke(ctx, revoked); err != nil {
		t.Fatal(err)
	}
	clk.add(30 * time.Minute)
	good := newInvite(t, st, "alice", 1) // still valid after the next step
	clk.add(31 * time.Minute)            // expired is now past its hour
	used := newInvite(t, st, "", 1)
	if _, err := st.Redeem(ctx, used, "first", "pw"); err != nil {
		t.Fatal(err)
	}

	c2, _ := unauthenticated(t, s)
	preauth(c2, expired)
	c2.expect(notFound("this invite has expired"))
	preauth(c2, revoked)
	c2.expect(notFound("this invite was revoked"))
	preauth(c2, used)
	c2.expect(notFound("this invite has already been used"))
	registerAs(c2, "mallory")
	c2.expect(notAllowed)

	// Accepted, then revoked before the register IQ: refused at Redeem.
	c3, _ := unauthenticated(t, s)
	preauth(c3, good)
	c3.expect("<iq type='result' id='pa' from='localhost'/>")
	if err := st.Revoke(ctx, good); err != nil {
		t.Fatal(err)
	}
	registerAs(c3, "mallory")
	c3.expect("<iq type='error' id='reg' from='localhost'><error type='cancel'><not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>this invite was revoked</text></error></iq>")

	if s.exists(t, "mallory") {
		t.Fatal("an account was made without a valid invite")
	}

	// A valid token, but a taken or bad name: refused, the use given back.
	tok := newInvite(t, st, "alice", 1)
	c4, _ := unauthenticated(t, s)
	preauth(c4, tok)
	c4.expect("<iq type='result' id='pa' from='localhost'/>")
	registerAs(c4, "bob")
	c4.expect("<iq type='error' id='reg' from='localhost'><error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>that username is taken</text></error></iq>")
	registerAs(c4, "Bad Name")
	c4.expect("<iq type='error' id='reg' from='localhost'><error type='modify'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>that username is not valid here</text></error></iq>")
	c4.send("<iq type='set' id='reg'><query xmlns='jabber:iq:register'><username>romeo</username></query></iq>")
	c4.expect("<iq type='error' id='reg' from='localhost'><error type='modify'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>a username and a password are required</text></error></iq>")
	if inv, _ := st.Get(ctx, tok); inv.Uses != 0 {
		t.Fatalf("refused registrations used the invite: %+v", inv)
	}
	registerAs(c4, "romeo")
	c4.expect("<iq type='result' id='reg' from='localhost'/>")
	if !s.exists(t, "romeo") {
		t.Fatal("romeo was not created")
	}
	// One registration per accepted token and stream.
	registerAs(c4, "tybalt")
	c4.expect(notAllowed)
	if s.exists(t, "tybalt") {
		t.Fatal("second registration on one preauth")
	}
}

// TestRegisterWithoutInvites: a server without an invite store refuses
// registration outright.
func TestRegisterWithoutInvites(t *testing.T) {
	s := startServer(t, nil)
	c, _ := unauthenticated(t, s)
	c.send("<iq type='set' id='pa'><preauth xmlns='urn:xmpp:pars:0' token='x'/></iq>")
	c.expect("<iq type='error' id='pa' from='localhost'><error type='cancel'><not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>this server has no in-band registration</text></error></iq>")
}

// TestPreauthGuessing: failed tokens count like failed logins and end
// the stream after maxAuthFails.
func TestPreauthGuessing(t *testing.T) {
	s, _, _ := startInviteServer(t)
	c, _ := unauthenticated(t, s)
	for i := 0; i < maxAuthFails; i++ {
		c.send("<iq type='set' id='pa'><preauth xmlns='urn:xmpp:pars:0' token='guess'/></iq>")
		if i < maxAuthFails-1 {
			c.next()
		}
	}
	if got := c.expectStreamError(); got != "policy-violation" {
		t.Fatalf("after %d guesses: %s", maxAuthFails, got)
	}
}
