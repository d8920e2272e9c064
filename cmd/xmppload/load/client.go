package load

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"
)

// Account is one login: the local part and the password.
type Account struct {
	User     string
	Password string
}

// Dialer holds what every connection of a run shares.
type Dialer struct {
	Addr     string      // host:port of the c2s listener (STARTTLS)
	Domain   string      // the stream's to= and the JIDs' domain
	Mech     string      // SCRAM-SHA-1, SCRAM-SHA-256 or PLAIN
	TLS      *tls.Config // ServerName should be Domain
	Cache    *ScramCache // may be nil
	Resource string      // requested resource; empty lets the server choose
	Timeout  time.Duration
}

// Conn is a logged-in client stream: a minimal hand-rolled client that does
// STARTTLS, SASL and bind and then only sends and reads stanzas, so that the
// tool costs little CPU next to the server it measures.
type Conn struct {
	nc  net.Conn
	tc  *tls.Conn
	br  *bufio.Reader
	dec *xml.Decoder
	wmu sync.Mutex
	// JID is the full JID the server bound.
	JID string
	// Mech is the SASL mechanism used.
	Mech string
	// rawBuf is reused by ReadRaw; the element it returns is valid until
	// the next call.
	rawBuf []byte
}

// Dial connects and logs in; the returned Conn has a bound resource but has
// sent no presence.
func (d *Dialer) Dial(ctx context.Context, acct Account) (*Conn, error) {
	if d.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.Timeout)
		defer cancel()
	}
	var nd net.Dialer
	nc, err := nd.DialContext(ctx, "tcp", d.Addr)
	if err != nil {
		return nil, fmt.Errorf("xmpp: dial %s: %w", d.Addr, err)
	}
	c := &Conn{nc: nc}
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	// Closing the socket when ctx ends unblocks a read stuck mid-login.
	stop := context.AfterFunc(ctx, func() { _ = nc.Close() })
	defer stop()
	if err := c.login(ctx, d, acct); err != nil {
		_ = nc.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("xmpp: login %s: %w (%w)", acct.User, err, ctx.Err())
		}
		return nil, fmt.Errorf("xmpp: login %s: %w", acct.User, err)
	}
	_ = nc.SetDeadline(time.Time{})
	return c, nil
}

func (c *Conn) restart(domain string, r *bufio.Reader) (*elem, error) {
	c.br = r
	c.dec = xml.NewDecoder(r)
	hdr := "<?xml version='1.0'?><stream:stream to='" + xmlEscape(domain) +
		"' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
	if err := c.write(hdr); err != nil {
		return nil, err
	}
	if _, err := readStreamStart(c.dec); err != nil {
		return nil, err
	}
	f, err := readElem(c.dec)
	if err != nil {
		return nil, err
	}
	if f.Name.Local != "features" || f.Name.Space != nsStream {
		return nil, fmt.Errorf("xmpp: want stream features, got <%s>", f.Name.Local)
	}
	return f, nil
}

func (c *Conn) login(ctx context.Context, d *Dialer, acct Account) error {
	f, err := c.restart(d.Domain, bufio.NewReaderSize(c.nc, 4096))
	if err != nil {
		return err
	}
	if f.kid("starttls", nsTLS) == nil {
		return errors.New("xmpp: server offers no STARTTLS")
	}
	if err := c.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"); err != nil {
		return err
	}
	e, err := readElem(c.dec)
	if err != nil {
		return err
	}
	if e.Name.Local != "proceed" {
		return fmt.Errorf("xmpp: starttls: got <%s>", e.Name.Local)
	}
	c.tc = tls.Client(c.nc, d.TLS)
	if err := c.tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("xmpp: tls handshake: %w", err)
	}
	if f, err = c.restart(d.Domain, bufio.NewReaderSize(c.tc, 4096)); err != nil {
		return err
	}
	if err := c.auth(d, f, acct); err != nil {
		return err
	}
	if f, err = c.restart(d.Domain, c.br); err != nil {
		return err
	}
	return c.bind(d, f)
}

func (c *Conn) auth(d *Dialer, f *elem, acct Account) error {
	mechs := f.kid("mechanisms", nsSASL)
	if mechs == nil {
		return errors.New("xmpp: server offers no SASL mechanisms")
	}
	var offered []string
	for _, m := range mechs.Kids {
		offered = append(offered, m.Text)
	}
	if !slices.Contains(offered, d.Mech) {
		return fmt.Errorf("xmpp: sasl: %s not offered (server offers %s)", d.Mech, strings.Join(offered, " "))
	}
	c.Mech = d.Mech
	b64 := base64.StdEncoding.EncodeToString
	if d.Mech == "PLAIN" {
		ir := b64([]byte("\x00" + acct.User + "\x00" + acct.Password))
		if err := c.write("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + ir + "</auth>"); err != nil {
			return err
		}
		_, err := c.saslStep()
		return err
	}
	sc, err := newScramClient(d.Mech, acct.User, acct.Password, d.Cache)
	if err != nil {
		return err
	}
	if err := c.write("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='" + d.Mech + "'>" + b64(sc.First()) + "</auth>"); err != nil {
		return err
	}
	ch, err := c.saslStep()
	if err != nil {
		return err
	}
	if ch.success {
		return errors.New("xmpp: sasl: success before the SCRAM exchange finished")
	}
	final, err := sc.Final(ch.data)
	if err != nil {
		return err
	}
	if err := c.write("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + b64(final) + "</response>"); err != nil {
		return err
	}
	res, err := c.saslStep()
	if err != nil {
		return err
	}
	if !res.success {
		// Some servers send v= in a challenge and an empty success after.
		if err := sc.Verify(res.data); err != nil {
			return err
		}
		if err := c.write("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"); err != nil {
			return err
		}
		if res, err = c.saslStep(); err != nil {
			return err
		}
		if !res.success {
			return errors.New("xmpp: sasl: no success after server-final")
		}
		return nil
	}
	return sc.Verify(res.data)
}

type saslReply struct {
	success bool
	data    []byte
}

func (c *Conn) saslStep() (saslReply, error) {
	e, err := c.readSkipping()
	if err != nil {
		return saslReply{}, err
	}
	if e.Name.Space != nsSASL {
		return saslReply{}, fmt.Errorf("xmpp: sasl: unexpected <%s>", e.Name.Local)
	}
	data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(e.Text))
	if err != nil {
		return saslReply{}, fmt.Errorf("xmpp: sasl <%s>: %w", e.Name.Local, err)
	}
	switch e.Name.Local {
	case "challenge":
		return saslReply{data: data}, nil
	case "success":
		return saslReply{success: true, data: data}, nil
	case "failure":
		cond := "unknown"
		if len(e.Kids) > 0 {
			cond = e.Kids[0].Name.Local
		}
		return saslReply{}, fmt.Errorf("xmpp: sasl failure: %s", cond)
	}
	return saslReply{}, fmt.Errorf("xmpp: sasl: unexpected <%s>", e.Name.Local)
}

// readSkipping reads the next element, answering and skipping IQs the server
// may interleave (e.g. a ping) — none are expected during login.
func (c *Conn) readSkipping() (*elem, error) {
	for {
		e, err := readElem(c.dec)
		if err != nil {
			return nil, err
		}
		if e.Name.Local == "iq" && e.Name.Space == nsClient {
			if t := e.attr("type"); t == "get" || t == "set" {
				if err := c.answerIQ(e); err != nil {
					return nil, err
				}
				continue
			}
		}
		return e, nil
	}
}

func (c *Conn) bind(d *Dialer, f *elem) error {
	if f.kid("bind", nsBind) == nil {
		return errors.New("xmpp: server offers no resource binding")
	}
	res := ""
	if d.Resource != "" {
		res = "<resource>" + xmlEscape(d.Resource) + "</resource>"
	}
	if err := c.write("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>" + res + "</bind></iq>"); err != nil {
		return err
	}
	e, err := c.readSkipping()
	if err != nil {
		return err
	}
	if e.Name.Local != "iq" || e.attr("id") != "bind1" || e.attr("type") != "result" {
		return fmt.Errorf("xmpp: bind: got <%s type=%q>", e.Name.Local, e.attr("type"))
	}
	b := e.kid("bind", nsBind)
	if b == nil || b.kid("jid", "") == nil {
		return errors.New("xmpp: bind: result without a jid")
	}
	c.JID = strings.TrimSpace(b.kid("jid", "").Text)
	// RFC 3921 session establishment, only when the server says it is needed.
	if s := f.kid("session", nsSess); s != nil && s.kid("optional", "") == nil {
		if err := c.write("<iq type='set' id='sess1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>"); err != nil {
			return err
		}
		e, err := c.readSkipping()
		if err != nil {
			return err
		}
		if e.attr("id") != "sess1" || e.attr("type") != "result" {
			return fmt.Errorf("xmpp: session: got <%s type=%q>", e.Name.Local, e.attr("type"))
		}
	}
	return nil
}

// answerIQ replies to a server IQ: a result for ping, service-unavailable
// for anything else, as RFC 6120 §8.2.3 requires an answer.
func (c *Conn) answerIQ(e *elem) error {
	id, from := xmlEscape(e.attr("id")), e.attr("from")
	to := ""
	if from != "" {
		to = " to='" + xmlEscape(from) + "'"
	}
	if len(e.Kids) == 1 && e.Kids[0].Name.Local == "ping" {
		return c.write("<iq type='result' id='" + id + "'" + to + "/>")
	}
	return c.write("<iq type='error' id='" + id + "'" + to + "><error type='cancel'><service-unavailable xmlns='" +
		nsStanza + "'/></error></iq>")
}

// write sends raw XML; safe for concurrent use.
func (c *Conn) write(s string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	var err error
	if c.tc != nil {
		_, err = c.tc.Write([]byte(s))
	} else {
		_, err = c.nc.Write([]byte(s))
	}
	if err != nil {
		return fmt.Errorf("xmpp: write: %w", err)
	}
	return nil
}

// Send writes one stanza (raw XML the caller built).
func (c *Conn) Send(stanza string) error { return c.write(stanza) }

// Read returns the next stanza, answering server IQs on the way.
func (c *Conn) Read() (*elem, error) { return c.readSkipping() }

// SetReadDeadline bounds the next reads.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.nc.SetReadDeadline(t) }

// Close ends the stream politely and closes the socket without waiting for
// the server's closing tag (the server must cope with that anyway).
func (c *Conn) Close() error {
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	_ = c.write("</stream:stream>")
	return c.nc.Close()
}
