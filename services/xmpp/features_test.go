package xmpp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestFeatureIQs: golden answers of the small XEPs.
func TestFeatureIQs(t *testing.T) {
	s := startServer(t, nil, func(s *Server) {
		s.now = func() time.Time { return time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC) }
	})
	a := login(t, s, "alice", "a")
	ver := s.info.Ver()
	for _, tc := range []struct{ name, send, want string }{
		{"disco#info server", "<iq type='get' id='1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
			"<iq type='result' id='1' from='localhost' to='alice@localhost/a'><query xmlns='http://jabber.org/protocol/disco#info'>" +
				"<identity category='server' type='im' name='ChatSecure Box'/>" +
				"<feature var='http://jabber.org/protocol/disco#info'/><feature var='http://jabber.org/protocol/disco#items'/>" +
				"<feature var='jabber:iq:private'/><feature var='jabber:iq:roster'/><feature var='jabber:iq:version'/>" +
				"<feature var='msgoffline'/><feature var='urn:xmpp:blocking'/><feature var='urn:xmpp:carbons:2'/>" +
				"<feature var='urn:xmpp:ping'/><feature var='urn:xmpp:time'/><feature var='vcard-temp'/></query></iq>"},
		{"disco#info caps node", "<iq type='get' id='2' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info' node='https://github.com/chatsecure/box#" + ver + "'/></iq>",
			"<iq type='result' id='2' from='localhost' to='alice@localhost/a'><query xmlns='http://jabber.org/protocol/disco#info' node='https://github.com/chatsecure/box#" + ver + "'>" +
				"<identity category='server' type='im' name='ChatSecure Box'/>" +
				"<feature var='http://jabber.org/protocol/disco#info'/><feature var='http://jabber.org/protocol/disco#items'/>" +
				"<feature var='jabber:iq:private'/><feature var='jabber:iq:roster'/><feature var='jabber:iq:version'/>" +
				"<feature var='msgoffline'/><feature var='urn:xmpp:blocking'/><feature var='urn:xmpp:carbons:2'/>" +
				"<feature var='urn:xmpp:ping'/><feature var='urn:xmpp:time'/><feature var='vcard-temp'/></query></iq>"},
		{"disco#info account", "<iq type='get' id='3' to='bob@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
			"<iq type='result' id='3' from='bob@localhost' to='alice@localhost/a'><query xmlns='http://jabber.org/protocol/disco#info'>" +
				"<identity category='account' type='registered'/><feature var='http://jabber.org/protocol/disco#info'/>" +
				"<feature var='http://jabber.org/protocol/disco#items'/></query></iq>"},
		{"disco#info no account", "<iq type='get' id='4' to='nobody@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
			"<iq type='error' id='4' from='nobody@localhost' to='alice@localhost/a'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"},
		{"disco#items", "<iq type='get' id='5' to='localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>",
			"<iq type='result' id='5' from='localhost' to='alice@localhost/a'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>"},
		{"ping", "<iq type='get' id='6' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>",
			"<iq type='result' id='6' from='localhost' to='alice@localhost/a'/>"},
		{"version", "<iq type='get' id='7' to='localhost'><query xmlns='jabber:iq:version'/></iq>",
			"<iq type='result' id='7' from='localhost' to='alice@localhost/a'><query xmlns='jabber:iq:version'><name>ChatSecure Box</name><version>0.1</version></query></iq>"},
		{"time", "<iq type='get' id='8' to='localhost'><time xmlns='urn:xmpp:time'/></iq>",
			"<iq type='result' id='8' from='localhost' to='alice@localhost/a'><time xmlns='urn:xmpp:time'><tzo>+00:00</tzo><utc>2026-11-26T08:00:00Z</utc></time></iq>"},
		{"vcard empty", "<iq type='get' id='9'><vCard xmlns='vcard-temp'/></iq>",
			"<iq type='result' id='9' to='alice@localhost/a'><vCard xmlns='vcard-temp'/></iq>"},
		{"vcard set", "<iq type='set' id='10'><vCard xmlns='vcard-temp'><FN>Alice</FN></vCard></iq>",
			"<iq type='result' id='10' to='alice@localhost/a'/>"},
		{"vcard get", "<iq type='get' id='11'><vCard xmlns='vcard-temp'/></iq>",
			"<iq type='result' id='11' to='alice@localhost/a'><vCard xmlns='vcard-temp'><FN>Alice</FN></vCard></iq>"},
		{"vcard of another user", "<iq type='get' id='12' to='bob@localhost'><vCard xmlns='vcard-temp'/></iq>",
			"<iq type='result' id='12' from='bob@localhost' to='alice@localhost/a'><vCard xmlns='vcard-temp'/></iq>"},
		{"vcard set for another user", "<iq type='set' id='13' to='bob@localhost'><vCard xmlns='vcard-temp'><FN>Evil</FN></vCard></iq>",
			"<iq type='error' id='13' from='bob@localhost' to='alice@localhost/a'><error type='auth'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"},
		{"private empty", "<iq type='get' id='14'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>",
			"<iq type='result' id='14' to='alice@localhost/a'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>"},
		{"private set", "<iq type='set' id='15'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'><conference jid='r@muc' autojoin='true'/></storage></query></iq>",
			"<iq type='result' id='15' to='alice@localhost/a'/>"},
		{"private get", "<iq type='get' id='16'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>",
			"<iq type='result' id='16' to='alice@localhost/a'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'><conference jid='r@muc' autojoin='true'/></storage></query></iq>"},
		{"private of another user", "<iq type='get' id='17' to='bob@localhost'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>",
			"<iq type='error' id='17' from='bob@localhost' to='alice@localhost/a'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"},
		{"unknown payload", "<iq type='get' id='18'><query xmlns='urn:example:nothing'/></iq>",
			"<iq type='error' id='18' to='alice@localhost/a'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"},
		{"two payloads", "<iq type='get' id='19'><a xmlns='x'/><b xmlns='y'/></iq>",
			"<iq type='error' id='19' to='alice@localhost/a'><error type='modify'><bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"},
		{"remote domain", "<iq type='get' id='20' to='example.org'><ping xmlns='urn:xmpp:ping'/></iq>",
			"<iq type='error' id='20' from='example.org' to='alice@localhost/a'><error type='cancel'><remote-server-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"},
		{"malformed to", "<iq type='get' id='21' to='@@'><ping xmlns='urn:xmpp:ping'/></iq>",
			"<iq type='error' id='21' from='@@' to='alice@localhost/a'><error type='modify'><jid-malformed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"},
	} {
		a.send(tc.send)
		if got := golden(a.next()); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

// TestCSI: an inactive client gets presence only when it becomes active,
// but messages with a body at once.
func TestCSI(t *testing.T) {
	s := startServer(t, nil)
	alice := login(t, s, "alice", "a")
	bob := login(t, s, "bob", "b")
	alice.send("<presence/>")
	alice.expect("<presence from='alice@localhost/a'/>")
	bob.send("<presence/>")
	bob.expect("<presence from='bob@localhost/b'/>")
	alice.send("<inactive xmlns='urn:xmpp:csi:0'/>")
	// alice's stanzas are handled in order: once her ping is answered
	// (IQs are urgent), she is inactive.
	alice.send("<iq type='get' id='p0'><ping xmlns='urn:xmpp:ping'/></iq>")
	alice.expect("<iq type='result' id='p0' to='alice@localhost/a'/>")
	bob.send("<presence to='alice@localhost'><show>dnd</show></presence>")
	bob.send("<message to='alice@localhost' type='chat' id='c1'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>")
	bob.send("<message to='alice@localhost' type='chat' id='m1'><body>urgent</body></message>")
	// The body message jumps the queue... and flushes what was held first.
	alice.expect("<presence to='alice@localhost' from='bob@localhost/b'><show>dnd</show></presence>")
	alice.expect("<message to='alice@localhost' type='chat' id='c1' from='bob@localhost/b'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>")
	alice.expect("<message to='alice@localhost' type='chat' id='m1' from='bob@localhost/b'><body>urgent</body></message>")
	bob.send("<presence to='alice@localhost'><show>away</show></presence>")
	bob.send("<presence to='alice@localhost'><show>xa</show></presence>")
	// bob's stanzas are handled in order: once his ping is answered,
	// both presences are held for alice.
	bob.send("<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>")
	bob.expect("<iq type='result' id='p' to='bob@localhost/b'/>")
	alice.send("<active xmlns='urn:xmpp:csi:0'/>")
	// Only the newest held presence per sender is delivered.
	alice.expect("<presence to='alice@localhost' from='bob@localhost/b'><show>xa</show></presence>")
}

// TestServerPing: an idle client is pinged; one that never answers is
// dropped with connection-timeout (dead-peer detection).
func TestServerPing(t *testing.T) {
	s := startServer(t, nil, func(s *Server) { s.idle, s.pingWait = 50*time.Millisecond, 50*time.Millisecond })
	a := login(t, s, "alice", "a")
	a.expect("<iq type='get' id='ping-*' to='alice@localhost/a'><ping xmlns='urn:xmpp:ping'/></iq>")
	if cond := a.expectStreamError(); cond != "connection-timeout" {
		t.Fatalf("got %s", cond)
	}
	// A client that answers stays.
	b := login(t, s, "bob", "b")
	p := b.next()
	b.send("<iq type='result' id='" + p.Get("id") + "'/>")
	b.expect("<iq type='get' id='ping-*' to='bob@localhost/b'><ping xmlns='urn:xmpp:ping'/></iq>")
}

func TestAdminAPI(t *testing.T) {
	s := startServer(t, nil)
	mux := http.NewServeMux()
	s.RegisterAdmin(mux)
	do := func(method, path, body string) (int, map[string]any) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %s: body %q: %v", method, path, rec.Body, err)
		}
		return rec.Code, out
	}
	if code, out := do("POST", "/v1/xmpp/users", `{"jid":"dave@localhost","password":"secret"}`); code != 201 || out["jid"] != "dave@localhost" {
		t.Fatalf("add: %d %v", code, out)
	}
	if code, out := do("POST", "/v1/xmpp/users", `{"jid":"dave","password":"x"}`); code != 409 || out["error"] == nil {
		t.Fatalf("add twice: %d %v", code, out)
	}
	if code, _ := do("POST", "/v1/xmpp/users", `{"jid":"eve@example.org","password":"x"}`); code != 400 {
		t.Fatalf("other domain: %d", code)
	}
	if code, _ := do("POST", "/v1/xmpp/users", `{"jid":"eve"}`); code != 400 {
		t.Fatalf("no password: %d", code)
	}
	if code, _ := do("POST", "/v1/xmpp/users", `not json`); code != 400 {
		t.Fatalf("bad json: %d", code)
	}
	code, out := do("GET", "/v1/xmpp/users", "")
	users, _ := json.Marshal(out["users"])
	if code != 200 || string(users) != `["alice@localhost","bob@localhost","carol@localhost","dave@localhost"]` {
		t.Fatalf("list: %d %s", code, users)
	}
	// dave logs in, then his password changes: the session ends and the
	// new password works.
	c := dial(t, s.c2s)
	c.open("")
	c.starttls()
	c.open("")
	if e := c.plain("dave", "secret"); e.Name.Local != "success" {
		t.Fatalf("dave: %s", e)
	}
	c.open("")
	c.bind("d")
	if code, _ := do("POST", "/v1/xmpp/users/passwd", `{"jid":"dave@localhost","password":"new"}`); code != 200 {
		t.Fatalf("passwd: %d", code)
	}
	if cond := c.expectStreamError(); cond != "reset" {
		t.Fatalf("session after passwd: %s", cond)
	}
	if code, _ := do("POST", "/v1/xmpp/users/passwd", `{"jid":"nobody@localhost","password":"new"}`); code != 404 {
		t.Fatalf("passwd unknown: %d", code)
	}
	d := dial(t, s.c2s)
	d.open("")
	d.starttls()
	d.open("")
	if e := d.plain("dave", "new"); e.Name.Local != "success" {
		t.Fatalf("new password: %s", e)
	}
	if code, _ := do("DELETE", "/v1/xmpp/users/dave@localhost", ""); code != 200 {
		t.Fatalf("delete: %d", code)
	}
	if code, _ := do("DELETE", "/v1/xmpp/users/dave@localhost", ""); code != 404 {
		t.Fatalf("delete twice: %d", code)
	}
	if ok, _ := s.acc.Exists(context.Background(), "dave"); ok {
		t.Fatal("dave still exists")
	}
}

// TestAccountsChangeEndsSessions: a password change or deletion through
// Accounts() (the console's path) ends the user's sessions too.
func TestAccountsChangeEndsSessions(t *testing.T) {
	s := startServer(t, nil)
	a := login(t, s, "alice", "a")
	if err := s.Accounts().SetPassword(context.Background(), "alice", "new"); err != nil {
		t.Fatal(err)
	}
	if cond := a.expectStreamError(); cond != "reset" {
		t.Fatalf("after passwd: %s", cond)
	}
	b := login(t, s, "bob", "b")
	if err := s.Accounts().Delete(context.Background(), "bob"); err != nil {
		t.Fatal(err)
	}
	if cond := b.expectStreamError(); cond != "not-authorized" {
		t.Fatalf("after delete: %s", cond)
	}
}
