package appliance

import (
	"context"
	"crypto/tls"
	"encoding/xml"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chatsecure/box/config"
	"github.com/chatsecure/box/services"
	"github.com/chatsecure/box/services/console"
	"github.com/chatsecure/box/services/console/consoletest"
	"github.com/chatsecure/box/services/store/storetest"
	"github.com/chatsecure/box/services/xmpp"
	"github.com/chatsecure/box/services/xmpp/roster"
)

// rawXMPP is just enough of a client to register in-band: it reads
// top-level elements as strings of their name, attributes and text.
type rawXMPP struct {
	t   *testing.T
	nc  net.Conn
	dec *xml.Decoder
}

func (c *rawXMPP) send(s string) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.nc.Write([]byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

// next returns the next top-level element (after any stream header) as
// "name type=… | child names and text", enough to tell answers apart.
func (c *rawXMPP) next() string {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second)) // hang guard
	for {
		tok, err := c.dec.Token()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		start, ok := tok.(xml.StartElement)
		if !ok || start.Name.Local == "stream" {
			continue
		}
		var b strings.Builder
		b.WriteString(start.Name.Local)
		for _, a := range start.Attr {
			if a.Name.Local == "type" {
				b.WriteString(" type=" + a.Value)
			}
		}
		b.WriteString(" |")
		for depth := 1; depth > 0; {
			tok, err := c.dec.Token()
			if err != nil {
				c.t.Fatalf("read: %v", err)
			}
			switch t := tok.(type) {
			case xml.StartElement:
				depth++
				b.WriteString(" " + t.Name.Space + ":" + t.Name.Local)
			case xml.EndElement:
				depth--
			case xml.CharData:
				if s := strings.TrimSpace(string(t)); s != "" {
					b.WriteString(" " + s)
				}
			}
		}
		return b.String()
	}
}

func (c *rawXMPP) open() string {
	c.send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='" + config.Dev().XMPP.Domain + "' version='1.0'>")
	return c.next()
}

// dialTLS opens a STARTTLS stream and returns it with the features
// offered before authentication.
func dialTLS(t *testing.T, addr string) (*rawXMPP, string) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &rawXMPP{t: t, nc: nc, dec: xml.NewDecoder(nc)}
	c.open()
	c.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
	if p := c.next(); !strings.HasPrefix(p, "proceed") {
		t.Fatalf("starttls: %s", p)
	}
	tc := tls.Client(nc, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.nc, c.dec = tc, xml.NewDecoder(tc)
	return c, c.open()
}

// TestServicesWiring makes the services as boxd does and checks what
// services.go connects: registration over XMPP goes through the console's
// invite store (the invitee becomes a person and the inviter's mutual
// contact), nothing registers without an invite, the console can disable
// an account, and the dashboard gets a message rate.
func TestServicesWiring(t *testing.T) {
	ctx := context.Background()
	cfg := config.Dev()
	cfg.DataDir = t.TempDir()
	cfg.XMPP.C2S, cfg.XMPP.C2STLS = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Console.Listen = "127.0.0.1:0"
	st := storetest.Open(t)
	box, err := consoletest.NewBox(nil)
	if err != nil {
		t.Fatal(err)
	}
	var rate func() int
	env := ServiceEnv{
		Config: cfg, Store: st, TLS: box.TLSConfig(), Box: box,
		Logger:               slog.New(slog.DiscardHandler),
		Made:                 map[string]services.Service{},
		SetSessions:          func(func() int) {},
		SetMessagesPerMinute: func(f func() int) { rate = f },
	}
	for _, f := range serviceFactories() {
		svc, err := f.New(env)
		if err != nil {
			t.Fatal(err)
		}
		env.Made[svc.Name()] = svc
	}
	x := env.Made["xmpp"].(*xmpp.Server)
	con := env.Made["console"].(*console.Service)
	if rate == nil || rate() != 0 {
		t.Fatal("no message rate for the dashboard")
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- x.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })
	for len(x.Addrs()) < 2 {
		select {
		case err := <-done:
			done <- err // for the cleanup
			t.Fatalf("xmpp Run: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	addr := x.Addrs()[0].String()

	acc := xmppAccounts{x}
	if err := acc.Create(ctx, "alice", "alice-password"); err != nil {
		t.Fatal(err)
	}
	inv, err := con.Invites().Create(ctx, "alice", "for juliet", time.Hour, 1)
	if err != nil {
		t.Fatal(err)
	}

	c, feats := dialTLS(t, addr)
	if !strings.Contains(feats, "urn:xmpp:ibr-token:0:register") {
		t.Fatalf("no ibr-token feature: %s", feats)
	}
	// No token: refused.
	c.send("<iq type='set' id='r0'><query xmlns='jabber:iq:register'><username>mallory</username><password>mallory-password</password></query></iq>")
	if got := c.next(); !strings.Contains(got, "not-allowed") {
		t.Fatalf("register without a token: %s", got)
	}
	c.send("<iq type='set' id='p1'><preauth xmlns='urn:xmpp:pars:0' token='" + inv.Token + "'/></iq>")
	if got := c.next(); got != "iq type=result |" {
		t.Fatalf("preauth: %s", got)
	}
	// The console's password rule applies: it says why.
	c.send("<iq type='set' id='r1'><query xmlns='jabber:iq:register'><username>juliet</username><password>short</password></query></iq>")
	if got := c.next(); !strings.Contains(got, "not-acceptable") || !strings.Contains(got, "at least") {
		t.Fatalf("short password: %s", got)
	}
	c.send("<iq type='set' id='r2'><query xmlns='jabber:iq:register'><username>juliet</username><password>balcony-2026</password></query></iq>")
	if got := c.next(); got != "iq type=result |" {
		t.Fatalf("register: %s", got)
	}

	if ok, _ := x.Accounts().Exists(ctx, "mallory"); ok {
		t.Fatal("mallory registered without an invite")
	}
	if ok, _ := x.Accounts().Exists(ctx, "juliet"); !ok {
		t.Fatal("juliet was not registered")
	}
	red, err := con.Invites().Redemptions(ctx, inv.Token)
	if err != nil || len(red) != 1 || red[0].Localpart != "juliet" {
		t.Fatalf("redemptions: %+v %v", red, err)
	}
	rs := roster.New(st.DB())
	for _, p := range [][2]string{{"alice", "juliet"}, {"juliet", "alice"}} {
		items, err := rs.Items(ctx, p[0])
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 1 || items[0].JID != p[1]+"@"+cfg.XMPP.Domain || items[0].Sub != roster.Both {
			t.Errorf("%s's roster: %+v, want %s with subscription both", p[0], items, p[1])
		}
	}

	if err := acc.SetDisabled(ctx, "juliet", true); err != nil {
		t.Fatal(err)
	}
	if off, _ := x.Accounts().Disabled(ctx, "juliet"); !off {
		t.Fatal("SetDisabled did not disable")
	}
	if err := acc.SetDisabled(ctx, "juliet", false); err != nil {
		t.Fatal(err)
	}
	if off, _ := x.Accounts().Disabled(ctx, "juliet"); off {
		t.Fatal("enabling did not take")
	}
}
