package xmpp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chatsecure/box/config"
	"github.com/chatsecure/box/services/store"
	"github.com/chatsecure/box/services/store/storetest"
	"github.com/chatsecure/box/services/xmpp/elem"
	msasl "mellium.im/sasl"
)

// testCert makes an ECDSA P-256 self-signed certificate for localhost,
// like the box's dev mode.
func testCert(t testing.TB) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

type testServer struct {
	*Server
	c2s, direct string
	st          *store.Store
}

// startServer runs a server on 127.0.0.1 with accounts alice, bob and
// carol (password "pencil"); mod may change the config first.
func startServer(t testing.TB, mod func(*config.XMPP), setup ...func(*Server)) *testServer {
	t.Helper()
	cfg := config.Dev().XMPP
	cfg.C2S, cfg.C2STLS = "127.0.0.1:0", "127.0.0.1:0"
	if mod != nil {
		mod(&cfg)
	}
	st := storetest.Open(t)
	var log *slog.Logger
	if os.Getenv("XMPP_DEBUG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s, err := New(cfg, st, &tls.Config{Certificates: []tls.Certificate{testCert(t)}}, log)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice", "bob", "carol"} {
		if err := s.acc.Create(context.Background(), u, "pencil"); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range setup {
		f(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	for len(s.Addrs()) < 2 {
		select {
		case err := <-done:
			cancel()
			t.Fatalf("Run: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	a := s.Addrs()
	return &testServer{Server: s, c2s: a[0].String(), direct: a[1].String(), st: st}
}

// client is a raw XML test client.
type client struct {
	t   testing.TB
	nc  net.Conn
	tls *tls.Conn
	dec *xml.Decoder
	jid string
}

func dial(t testing.TB, addr string) *client {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &client{t: t, nc: nc}
	c.dec = xml.NewDecoder(nc)
	return c
}

func (c *client) send(s string) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.nc.Write([]byte(s)); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// next reads the next element at stream level; it fails the test on
// error. A hang guard, not a timing assertion: 10 s.
func (c *client) next() *elem.Element {
	c.t.Helper()
	e, err := c.tryNext()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return e
}

func (c *client) tryNext() (*elem.Element, error) {
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		tok, err := c.dec.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "stream" {
				continue // a stream header
			}
			return elem.Read(c.dec, t)
		case xml.EndElement:
			return nil, fmt.Errorf("stream closed")
		}
	}
}

// expectStreamError reads until a stream error and returns its condition.
func (c *client) expectStreamError() string {
	c.t.Helper()
	for {
		e, err := c.tryNext()
		if err != nil {
			c.t.Fatalf("no stream error: %v", err)
		}
		if e.Name.Local == "error" && e.Name.Space == nsStream {
			return e.FirstElement().Name.Local
		}
	}
}

func (c *client) open(from string) *elem.Element {
	c.t.Helper()
	fromAttr := ""
	if from != "" {
		fromAttr = " from='" + from + "'"
	}
	c.send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'" + fromAttr + ">")
	f := c.next()
	if f.Name.Local != "features" {
		c.t.Fatalf("want features, got %s", f)
	}
	return f
}

func (c *client) starttls() {
	c.t.Helper()
	c.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
	if p := c.next(); p.Name.Local != "proceed" {
		c.t.Fatalf("starttls: %s", p)
	}
	c.handshake(nil)
}

func (c *client) handshake(alpn []string) {
	c.t.Helper()
	tc := tls.Client(c.nc, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost", NextProtos: alpn})
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("handshake: %v", err)
	}
	c.tls, c.nc = tc, tc
	c.dec = xml.NewDecoder(tc)
}

func (c *client) plain(user, pass string) *elem.Element {
	c.t.Helper()
	c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" +
		base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00"+pass)) + "</auth>")
	return c.next()
}

// scram logs in with mellium's SASL client (a SCRAM implementation
// nobody here wrote).
func (c *client) scram(mech msasl.Mechanism, user, pass string, offered []string) *elem.Element {
	c.t.Helper()
	opts := []msasl.Option{
		msasl.Credentials(func() ([]byte, []byte, []byte) { return []byte(user), []byte(pass), nil }),
		msasl.RemoteMechanisms(offered...),
	}
	if c.tls != nil {
		opts = append(opts, msasl.TLSState(c.tls.ConnectionState()))
	}
	cl := msasl.NewClient(mech, opts...)
	_, resp, err := cl.Step(nil)
	if err != nil {
		c.t.Fatal(err)
	}
	c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='" + mech.Name + "'>" + base64.StdEncoding.EncodeToString(resp) + "</auth>")
	for {
		e := c.next()
		switch e.Name.Local {
		case "challenge":
			ch, _ := base64.StdEncoding.DecodeString(e.Text())
			_, resp, err := cl.Step(ch)
			if err != nil {
				c.t.Fatal(err)
			}
			c.send("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + base64.StdEncoding.EncodeToString(resp) + "</response>")
		case "success":
			v, _ := base64.StdEncoding.DecodeString(e.Text())
			if _, _, err := cl.Step(v); err != nil {
				c.t.Fatalf("server signature: %v", err)
			}
			return e
		default:
			return e
		}
	}
}

func (c *client) bind(res string) string {
	c.t.Helper()
	r := ""
	if res != "" {
		r = "<resource>" + res + "</resource>"
	}
	c.send("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>" + r + "</bind></iq>")
	e := c.next()
	b := e.Child(nsBind, "bind")
	if e.Type() != "result" || b == nil {
		c.t.Fatalf("bind: %s", e)
	}
	c.jid = b.Child(nsBind, "jid").Text()
	return c.jid
}

// login connects over STARTTLS with PLAIN and binds res.
func login(t testing.TB, s *testServer, user, res string) *client {
	t.Helper()
	c := dial(t, s.c2s)
	c.open("")
	c.starttls()
	c.open("")
	if e := c.plain(user, "pencil"); e.Name.Local != "success" {
		t.Fatalf("login %s: %s", user, e)
	}
	c.open("")
	c.bind(res)
	return c
}

var volatile = regexp.MustCompile(`(id|stamp|ver)='(push-|block-|ping-)?[^']*'`)

// golden writes e with generated values masked, for comparison.
func golden(e *elem.Element) string {
	s := string(e.Append(nil, elem.NSClient))
	return volatile.ReplaceAllStringFunc(s, func(m string) string {
		switch {
		case strings.HasPrefix(m, "id='push-"), strings.HasPrefix(m, "id='block-"), strings.HasPrefix(m, "id='ping-"):
			return m[:strings.IndexByte(m, '-')] + "-*'"
		case strings.HasPrefix(m, "stamp="):
			return "stamp='*'"
		}
		return m
	})
}

// expect reads the next element and compares it with want.
func (c *client) expect(want string) {
	c.t.Helper()
	if got := golden(c.next()); got != want {
		c.t.Fatalf("%s got\n  %s\nwant\n  %s", c.jid, got, want)
	}
}

// expectSkippingPresence is expect, ignoring presence stanzas before it.
func (c *client) expectSkippingPresence(want string) {
	c.t.Helper()
	for {
		e := c.next()
		if e.Name.Local == "presence" {
			continue
		}
		if got := golden(e); got != want {
			c.t.Fatalf("%s got\n  %s\nwant\n  %s", c.jid, got, want)
		}
		return
	}
}
