package xmpp

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatsecure/box/config"
	"github.com/chatsecure/box/services/xmpp/elem"
	msasl "mellium.im/sasl"
)

func TestFeaturesGolden(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s.c2s)
	caps := golden(s.caps)
	f := c.open("")
	if got, want := golden(f), "<features xmlns='http://etherx.jabber.org/streams'><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"+caps+"</features>"; got != want {
		t.Fatalf("pre-TLS features\n got %s\nwant %s", got, want)
	}
	c.starttls()
	f = c.open("")
	want := "<features xmlns='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" +
		"<mechanism>SCRAM-SHA-256-PLUS</mechanism><mechanism>SCRAM-SHA-256</mechanism><mechanism>SCRAM-SHA-1-PLUS</mechanism>" +
		"<mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms>" +
		"<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='tls-exporter'/><channel-binding type='tls-server-end-point'/></sasl-channel-binding>" +
		caps + "</features>"
	if got := golden(f); got != want {
		t.Fatalf("TLS features\n got %s\nwant %s", got, want)
	}
	if e := c.scram(msasl.ScramSha256, "alice", "pencil", nil); e.Name.Local != "success" {
		t.Fatalf("scram: %s", e)
	}
	f = c.open("")
	want = "<features xmlns='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>" +
		"<session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session><csi xmlns='urn:xmpp:csi:0'/>" +
		"<ver xmlns='urn:xmpp:features:rosterver'/>" + caps + "</features>"
	if got := golden(f); got != want {
		t.Fatalf("bind features\n got %s\nwant %s", got, want)
	}
	// No resource asked: the server makes one.
	j := c.bind("")
	if !strings.HasPrefix(j, "alice@localhost/box-") {
		t.Fatalf("bound %s", j)
	}
	// The legacy session IQ is answered.
	c.send("<iq type='set' id='s1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>")
	c.expect("<iq type='result' id='s1'/>")
}

func TestSCRAMMechanisms(t *testing.T) {
	s := startServer(t, nil)
	offered := []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-1", "PLAIN"}
	for _, m := range []msasl.Mechanism{msasl.ScramSha1, msasl.ScramSha256, msasl.ScramSha1Plus, msasl.ScramSha256Plus} {
		t.Run(m.Name, func(t *testing.T) {
			c := dial(t, s.c2s)
			c.open("")
			c.starttls() // TLS 1.3: mellium binds with tls-exporter
			c.open("")
			if e := c.scram(m, "bob", "pencil", offered); e.Name.Local != "success" {
				t.Fatalf("%s: %s", m.Name, e)
			}
			c.open("")
			if j := c.bind("r"); j != "bob@localhost/r" {
				t.Fatalf("bound %s", j)
			}
		})
	}
	t.Run("wrong password", func(t *testing.T) {
		c := dial(t, s.c2s)
		c.open("")
		c.starttls()
		c.open("")
		e := c.scram(msasl.ScramSha1, "bob", "wrong", offered)
		if golden(e) != "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>" {
			t.Fatalf("got %s", golden(e))
		}
	})
}

func TestDirectTLS(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s.direct)
	c.handshake([]string{"xmpp-client"})
	if p := c.tls.ConnectionState().NegotiatedProtocol; p != "xmpp-client" {
		t.Fatalf("ALPN %q", p)
	}
	f := c.open("")
	if f.Child(nsSASL, "mechanisms") == nil || f.Child(nsTLS, "starttls") != nil {
		t.Fatalf("direct TLS features %s", golden(f))
	}
	if e := c.plain("carol", "pencil"); e.Name.Local != "success" {
		t.Fatalf("plain: %s", e)
	}
}

// TestOldTLSRefused: TLS 1.1 and below never complete a handshake.
func TestOldTLSRefused(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s.direct)
	tc := tlsClient(c.nc, 0x0302)
	if err := tc.Handshake(); err == nil {
		t.Fatal("TLS 1.1 handshake succeeded")
	}
}

// TestIdentityIsSASLIdentity: a client authenticated as alice that says
// from='bob' in its stream header and stanzas is still alice.
func TestIdentityIsSASLIdentity(t *testing.T) {
	s := startServer(t, nil)
	bob := login(t, s, "bob", "home")
	bob.send("<presence/>")
	bob.expect("<presence from='bob@localhost/home'/>")

	c := dial(t, s.c2s)
	c.open("bob@localhost")
	c.starttls()
	c.open("bob@localhost")
	if e := c.plain("alice", "pencil"); e.Name.Local != "success" {
		t.Fatalf("plain: %s", e)
	}
	c.open("bob@localhost")
	c.send("<iq type='set' id='b' from='bob@localhost/home'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>home</resource></bind></iq>")
	c.expect("<iq type='result' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>alice@localhost/home</jid></bind></iq>")
	c.send("<message from='bob@localhost/home' to='bob@localhost/home' type='chat' id='m'><body>hi</body></message>")
	bob.expect("<message from='alice@localhost/home' to='bob@localhost/home' type='chat' id='m'><body>hi</body></message>")
}

func TestPlainNeedsTLS(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s.c2s)
	c.open("")
	c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGFsaWNlAHBlbmNpbA==</auth>")
	if cond := c.expectStreamError(); cond != "policy-violation" {
		t.Fatalf("got %s", cond)
	}
}

func TestResourceConflict(t *testing.T) {
	s := startServer(t, nil)
	old := login(t, s, "alice", "phone")
	login(t, s, "alice", "phone")
	if cond := old.expectStreamError(); cond != "conflict" {
		t.Fatalf("old session got %s", cond)
	}
}

func TestSessionsPerAccount(t *testing.T) {
	s := startServer(t, func(c *config.XMPP) { c.SessionsPerAccount = 2 })
	login(t, s, "alice", "1")
	login(t, s, "alice", "2")
	c := dial(t, s.c2s)
	c.open("")
	c.starttls()
	c.open("")
	c.plain("alice", "pencil")
	c.open("")
	c.send("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>3</resource></bind></iq>")
	c.expect("<iq type='error' id='b'><error type='wait'><resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
}

func TestStreamLimits(t *testing.T) {
	s := startServer(t, func(c *config.XMPP) {
		c.MaxStanzaBytes = 4096
		c.AuthTimeout = config.Duration(300 * time.Millisecond)
	})
	t.Run("stanza too large", func(t *testing.T) {
		c := login(t, s, "alice", "big")
		c.send("<message to='bob@localhost'><body>" + strings.Repeat("x", 5000) + "</body></message>")
		if cond := c.expectStreamError(); cond != "policy-violation" {
			t.Fatalf("got %s", cond)
		}
	})
	t.Run("too deep", func(t *testing.T) {
		c := login(t, s, "alice", "deep")
		c.send("<message>" + strings.Repeat("<a>", 60))
		if cond := c.expectStreamError(); cond != "policy-violation" {
			t.Fatalf("got %s", cond)
		}
	})
	t.Run("DTD", func(t *testing.T) {
		c := dial(t, s.c2s)
		c.send("<?xml version='1.0'?><!DOCTYPE lol [<!ENTITY lol 'lol'>]><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>")
		if cond := c.expectStreamError(); cond != "restricted-xml" {
			t.Fatalf("got %s", cond)
		}
	})
	t.Run("entity", func(t *testing.T) {
		c := login(t, s, "alice", "ent")
		c.send("<message><body>&lol;</body></message>")
		if cond := c.expectStreamError(); cond != "not-well-formed" {
			t.Fatalf("got %s", cond)
		}
	})
	t.Run("not well-formed", func(t *testing.T) {
		c := login(t, s, "alice", "nwf")
		c.send("<message></presence>")
		if cond := c.expectStreamError(); cond != "not-well-formed" {
			t.Fatalf("got %s", cond)
		}
	})
	t.Run("auth timeout", func(t *testing.T) {
		c := dial(t, s.c2s)
		c.open("")
		// Say nothing more: the server must end the stream.
		if cond := c.expectStreamError(); cond != "connection-timeout" {
			t.Fatalf("got %s", cond)
		}
	})
	t.Run("wrong host", func(t *testing.T) {
		c := dial(t, s.c2s)
		c.send("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.org' version='1.0'>")
		if cond := c.expectStreamError(); cond != "host-unknown" {
			t.Fatalf("got %s", cond)
		}
	})
	t.Run("stanza before auth", func(t *testing.T) {
		c := dial(t, s.c2s)
		c.open("")
		c.starttls()
		c.open("")
		c.send("<message to='bob@localhost'><body>x</body></message>")
		if cond := c.expectStreamError(); cond != "not-authorized" {
			t.Fatalf("got %s", cond)
		}
	})
}

func TestConnsPerIP(t *testing.T) {
	s := startServer(t, func(c *config.XMPP) { c.ConnsPerIP = 2 })
	a := dial(t, s.c2s)
	a.open("")
	b := dial(t, s.c2s)
	b.open("")
	c := dial(t, s.c2s)
	c.send("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>")
	if cond := c.expectStreamError(); cond != "policy-violation" {
		t.Fatalf("got %s", cond)
	}
}

func TestFailedLoginBackoff(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s.c2s)
	c.open("")
	c.starttls()
	c.open("")
	for i := 0; i < 3; i++ {
		if e := c.plain("alice", "wrong"); golden(e) != "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>" {
			t.Fatalf("attempt %d: %s", i, golden(e))
		}
	}
	// The fourth failure starts the account's wait...
	c.plain("alice", "wrong")
	// ...so even the right password is refused for now, on any stream.
	d := dial(t, s.c2s)
	d.open("")
	d.starttls()
	d.open("")
	e := d.plain("alice", "pencil")
	if e.Child(nsSASL, "temporary-auth-failure") == nil {
		t.Fatalf("during backoff: %s", golden(e))
	}
	// Another account is not affected.
	if e := d.plain("bob", "pencil"); e.Name.Local != "success" {
		t.Fatalf("bob: %s", golden(e))
	}
}

// scramY runs SCRAM-SHA-1 by hand with the gs2 flag "y" (client supports
// channel binding but believes the server does not), as slixmpp does
// after its tls-unique attempt fails on TLS 1.3.
func scramY(c *client, user, pass string) *elem.Element {
	c.t.Helper()
	first := "n=" + user + ",r=clientnonce"
	c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>" + base64.StdEncoding.EncodeToString([]byte("y,,"+first)) + "</auth>")
	e := c.next()
	if e.Name.Local != "challenge" {
		return e
	}
	sf, _ := base64.StdEncoding.DecodeString(e.Text())
	var nonce, salt string
	var iter int
	for _, kv := range strings.Split(string(sf), ",") {
		switch {
		case strings.HasPrefix(kv, "r="):
			nonce = kv[2:]
		case strings.HasPrefix(kv, "s="):
			salt = kv[2:]
		case strings.HasPrefix(kv, "i="):
			iter, _ = strconv.Atoi(kv[2:])
		}
	}
	saltB, _ := base64.StdEncoding.DecodeString(salt)
	salted, _ := pbkdf2.Key(sha1.New, pass, saltB, iter, sha1.Size)
	mac := func(k []byte, m string) []byte { h := hmac.New(sha1.New, k); h.Write([]byte(m)); return h.Sum(nil) }
	clientKey := mac(salted, "Client Key")
	stored := sha1.Sum(clientKey)
	without := "c=" + base64.StdEncoding.EncodeToString([]byte("y,,")) + ",r=" + nonce
	sig := mac(stored[:], first+","+string(sf)+","+without)
	for i := range sig {
		sig[i] ^= clientKey[i]
	}
	c.send("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + base64.StdEncoding.EncodeToString([]byte(without+",p="+base64.StdEncoding.EncodeToString(sig))) + "</response>")
	return c.next()
}

// TestChannelBindingFallback: with StrictChannelBinding, "y" while -PLUS
// is offered is a downgrade and fails, unless this client already asked
// for a binding type the connection lacks (slixmpp with Python's
// tls-unique on TLS 1.3). By default "y" is accepted.
func TestChannelBindingFallback(t *testing.T) {
	s := startServer(t, nil, func(s *Server) { s.StrictChannelBinding = true })
	c := dial(t, s.c2s)
	c.open("")
	c.starttls()
	c.open("")
	if e := scramY(c, "alice", "pencil"); e.Child(nsSASL, "not-authorized") == nil {
		t.Fatalf("y accepted with -PLUS offered: %s", golden(e))
	}
	d := dial(t, s.c2s)
	d.open("")
	d.starttls()
	d.open("")
	d.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1-PLUS'>" + base64.StdEncoding.EncodeToString([]byte("p=tls-unique,,n=alice,r=abc")) + "</auth>")
	if e := d.next(); e.Name.Local != "failure" {
		t.Fatalf("tls-unique on TLS 1.3: %s", golden(e))
	}
	if e := scramY(d, "alice", "pencil"); e.Name.Local != "success" {
		t.Fatalf("y after tls-unique: %s", golden(e))
	}
}

func TestChannelBindingYAcceptedByDefault(t *testing.T) {
	s := startServer(t, nil)
	c := dial(t, s.c2s)
	c.open("")
	c.starttls()
	c.open("")
	if e := scramY(c, "alice", "pencil"); e.Name.Local != "success" {
		t.Fatalf("y refused by default: %s", golden(e))
	}
}
