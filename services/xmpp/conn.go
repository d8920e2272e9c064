package xmpp

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatsecure/box/services/xmpp/csi"
	"github.com/chatsecure/box/services/xmpp/elem"
	"github.com/chatsecure/box/services/xmpp/ping"
	"github.com/chatsecure/box/services/xmpp/router"
	"github.com/chatsecure/box/services/xmpp/xmlguard"
	"mellium.im/xmpp/jid"
)

// Namespaces of stream negotiation.
const (
	nsStream  = "http://etherx.jabber.org/streams"
	nsTLS     = "urn:ietf:params:xml:ns:xmpp-tls"
	nsSASL    = "urn:ietf:params:xml:ns:xmpp-sasl"
	nsBind    = "urn:ietf:params:xml:ns:xmpp-bind"
	nsSession = "urn:ietf:params:xml:ns:xmpp-session"
	nsSASLCB  = "urn:xmpp:sasl-cb:0"
	nsRostVer = "urn:xmpp:features:rosterver"
)

// streamError ends a stream with a defined condition (RFC 6120 §4.9.3).
type streamError struct {
	cond, text string
}

func (e *streamError) Error() string { return "xmpp: stream error " + e.cond + ": " + e.text }

// conn is one client connection through negotiation and, once bound, the
// session's stream. One goroutine reads; any goroutine may write.
type conn struct {
	s      *Server
	raw    *rawConn
	nc     net.Conn // raw, or the TLS conn over it
	tls    *tls.Conn
	direct bool
	ip     string

	overLimit bool // over the per-IP limit: refused once the stream opens
	ended     bool // end ran (only the reader goroutine touches it)

	guard  *xmlguard.Guard
	dec    *xml.Decoder // nil while parked (decoder.go)
	decOff int64        // decoder offset not from the guard (decoder.go)
	hdr    string       // the stream header to remake dec with

	wmu    sync.Mutex
	closed bool        // no more writes (under wmu)
	opened atomic.Bool // our stream header is out

	// The output queue (outq.go): stanzas for a session are written by a
	// short-lived writer goroutine, so a slow reader never blocks senders.
	qmu     sync.Mutex
	q       []outBuf
	queued  int
	writing bool
	closing bool
	writers sync.WaitGroup

	authed    bool
	user      string
	authFails int
	// cbUnsupported: this client asked for a channel binding type we
	// lack; its retry with the "y" flag is then not a downgrade attack.
	cbUnsupported bool
	// preauthToken is an invite token accepted by <preauth/> (XEP-0445)
	// on this stream, which allows one in-band registration.
	preauthToken string
	cb           map[string][]byte // channel bindings (auth.go)
	rc           *router.Conn

	// Dead-peer detection once bound.
	lastTotal uint64
	pingID    string
	deadline  time.Time // the read deadline for idleness (session.go)
	polled    bool      // pollFD ran (session.go)
	pollFn    func(uintptr) bool

	// Parking (park.go).
	pstate atomic.Int32
	pwhy   wakeReason
	pctx   context.Context
	ptimer *time.Timer
	pfd    int32  // the socket's descriptor, -1 if none
	pgen   uint32 // poller registration generation, 0 until parked
}

func (s *Server) newConn(nc net.Conn, direct bool) *conn {
	ip, _, err := net.SplitHostPort(nc.RemoteAddr().String())
	if err != nil {
		ip = nc.RemoteAddr().String()
	}
	raw := newRawConn(nc)
	c := &conn{s: s, raw: raw, nc: raw, direct: direct, ip: ip, pfd: -1}
	c.pollFn = c.pollFD
	if raw.sc != nil && s.poller != nil {
		raw.sc.Control(func(fd uintptr) { c.pfd = int32(fd) })
		raw.onClose = c.onClose
	}
	return c
}

func (c *conn) secure() bool { return c.tls != nil }

func (c *conn) serve(ctx context.Context) {
	c.overLimit = !c.s.acquireIP(c.ip)
	c.guarded(ctx, c.start)
}

// errParked means the session's reader handed over to a new goroutine
// (park) and this one just returns.
var errParked = errors.New("xmpp: session parked")

// guarded runs step and, unless the session parked, ends it.
func (c *conn) guarded(ctx context.Context, step func(context.Context) error) {
	// A bug in one stanza's handling must not take the box down: end
	// that stream, keep serving the others.
	defer func() {
		if r := recover(); r != nil {
			c.s.log.Error("xmpp: panic serving a stream", "ip", c.ip, "user", c.user, "panic", r, "stack", string(debug.Stack()))
			c.end(&streamError{"internal-server-error", ""})
		}
	}()
	if err := step(ctx); err != errParked {
		c.end(err)
	}
}

// start runs on the accepting goroutine: TLS for direct TLS, then the
// stream.
func (c *conn) start(ctx context.Context) error {
	// Everything up to resource binding must finish by the auth deadline
	// (slowloris and idle unauthenticated streams).
	c.raw.SetDeadline(time.Now().Add(time.Duration(c.s.cfg.AuthTimeout)))
	if c.direct {
		t := tls.Server(c.raw, c.s.direct)
		if err := t.HandshakeContext(ctx); err != nil {
			c.s.log.Debug("xmpp: direct TLS handshake", "ip", c.ip, "err", err)
			return errHandshake
		}
		c.tls, c.nc = t, t
	}
	return c.run(ctx, c.overLimit)
}

// errHandshake: the direct TLS handshake failed; nothing can be said.
var errHandshake = errors.New("xmpp: TLS handshake failed")

// end finishes the connection once, on whichever goroutine reads it last.
func (c *conn) end(err error) {
	if c.ended {
		return
	}
	c.ended = true
	if c.rc != nil {
		c.rc.Unbind()
	}
	if err != errHandshake {
		c.fail(err)
		// Let the writer put out what is queued (the stream error last)
		// before the close; it is bounded by the write deadline.
		c.writers.Wait()
	}
	c.raw.Close()
	if c.ptimer != nil {
		c.ptimer.Stop()
	}
	if !c.overLimit {
		c.s.releaseIP(c.ip)
	}
	c.s.connDone(c)
}

// fail ends the stream for err: a stream error where one applies.
func (c *conn) fail(err error) {
	var se *streamError
	switch {
	case err == nil, errors.Is(err, io.EOF):
		c.closeStream()
		return
	case errors.As(err, &se):
	case errors.Is(err, xmlguard.ErrTooLarge):
		se = &streamError{"policy-violation", "stanza too large"}
	case errors.Is(err, xmlguard.ErrTooDeep):
		se = &streamError{"policy-violation", "XML nested too deep"}
	case errors.Is(err, xmlguard.ErrRestricted):
		se = &streamError{"restricted-xml", ""}
	case isTimeout(err):
		se = &streamError{"connection-timeout", ""}
	case isSyntax(err):
		se = &streamError{"not-well-formed", ""}
	default:
		// The connection broke (reset, closed by Close); nothing to say.
		c.closeStream()
		return
	}
	c.Close(se.cond, se.text)
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

func isSyntax(err error) bool {
	var se *xml.SyntaxError
	return errors.As(err, &se) || errors.Is(err, elem.ErrUnexpectedEOF) ||
		strings.HasPrefix(err.Error(), "elem:") || strings.HasPrefix(err.Error(), "xml:")
}

// write sends raw bytes under the write lock.
func (c *conn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked(b)
}

func (c *conn) writeLocked(b []byte) error {
	if c.closed {
		return net.ErrClosed
	}
	if !c.raw.tryWrite.Load() {
		// A non-blocking write needs no deadline.
		c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	}
	if _, err := c.nc.Write(b); err != nil {
		// A timed-out TLS write leaves the conn unusable: close it.
		c.closed = true
		c.raw.Close()
		return err
	}
	return nil
}

// flushLocked writes what a non-blocking write left pending.
func (c *conn) flushLocked() error {
	if c.closed {
		return net.ErrClosed
	}
	c.raw.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err := c.raw.Flush(); err != nil {
		c.closed = true
		c.raw.Close()
		return err
	}
	return nil
}

func (c *conn) header(b []byte, to string) []byte {
	var id [12]byte
	rand.Read(id[:])
	b = append(b, "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='"...)
	b = append(b, hex.EncodeToString(id[:])...)
	b = append(b, "' from='"...)
	b = append(b, c.s.cfg.Domain...)
	if to != "" {
		// Echo the client's "from" (RFC 6120 §4.7.2); it is not an
		// identity: that comes from SASL alone.
		b = append(b, "' to='"...)
		b = append(b, escapeAttr(to)...)
	}
	b = append(b, "' version='1.0' xml:lang='en'>"...)
	return b
}

// openStream reads the client's stream header on a fresh parser and
// answers with ours and the features.
func (c *conn) openStream() error {
	c.guard = xmlguard.New(c.nc, xmlguard.Limits{MaxStanza: c.s.cfg.MaxStanzaBytes, MaxDepth: maxDepth})
	c.guard.OnTimeout = c.onTimeout
	c.dec = xml.NewDecoder(c.guard)
	c.dec.Strict = true
	c.decOff = 0
	c.opened.Store(false)
	var start xml.StartElement
	for {
		tok, err := c.dec.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.ProcInst:
			continue // the XML declaration
		case xml.CharData:
			if len(strings.TrimSpace(string(t))) == 0 {
				continue
			}
			return &streamError{"not-well-formed", "text before the stream header"}
		case xml.StartElement:
			start = t
		default:
			return &streamError{"restricted-xml", ""}
		}
		break
	}
	c.hdr = streamHeader(start)
	var from string
	for _, a := range start.Attr {
		if a.Name.Space == "" && a.Name.Local == "from" {
			if j, err := jid.Parse(a.Value); err == nil {
				from = j.String()
			}
		}
	}
	// Our header goes out with the features, or before the stream error.
	b := c.header(nil, from)
	if err := c.checkHeader(start); err != nil {
		c.wmu.Lock()
		werr := c.writeLocked(b)
		c.opened.Store(true)
		c.wmu.Unlock()
		if werr != nil {
			return werr
		}
		return err
	}
	// The stream prefix is bound to the streams namespace by our header.
	b = append(b, "<stream:features>"...)
	for _, f := range c.features().Elements() {
		b = f.Append(b, elem.NSClient)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.opened.Store(true)
	return c.writeLocked(append(b, "</stream:features>"...))
}

// checkHeader validates the client's stream header (RFC 6120 §4.7).
func (c *conn) checkHeader(start xml.StartElement) error {
	if start.Name.Space != nsStream || start.Name.Local != "stream" {
		return &streamError{"invalid-namespace", ""}
	}
	var to, ver, xmlns string
	for _, a := range start.Attr {
		switch {
		case a.Name.Space == "" && a.Name.Local == "to":
			to = a.Value
		case a.Name.Space == "" && a.Name.Local == "version":
			ver = a.Value
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			xmlns = a.Value
		}
	}
	if xmlns != elem.NSClient {
		return &streamError{"invalid-namespace", "only jabber:client streams here"}
	}
	if !strings.EqualFold(to, c.s.cfg.Domain) {
		return &streamError{"host-unknown", ""}
	}
	if ver == "" || !strings.HasPrefix(ver, "1.") {
		return &streamError{"unsupported-version", ""}
	}
	return nil
}

// features is the features list for the current state.
func (c *conn) features() *elem.Element {
	f := elem.New(nsStream, "features")
	switch {
	case !c.secure():
		f.Add(elem.New(nsTLS, "starttls").Add(elem.New(nsTLS, "required")))
	case !c.authed:
		m := elem.New(nsSASL, "mechanisms")
		for _, name := range c.mechanisms() {
			m.Add(elem.New(nsSASL, "mechanism").AddText(name))
		}
		f.Add(m)
		if b := c.bindings(); len(b) > 0 {
			// XEP-0440: which channel bindings we support.
			cb := elem.New(nsSASLCB, "sasl-channel-binding")
			for _, t := range []string{"tls-exporter", "tls-server-end-point"} {
				if _, ok := b[t]; ok {
					cb.Add(elem.New(nsSASLCB, "channel-binding", "type", t))
				}
			}
			f.Add(cb)
		}
		if c.s.getInvites() != nil {
			registrationFeatures(f)
		}
	default:
		f.Add(elem.New(nsBind, "bind"))
		f.Add(elem.New(nsSession, "session").Add(elem.New(nsSession, "optional")))
		f.Add(elem.New(csi.NS, "csi"))
		f.Add(elem.New(nsRostVer, "ver"))
	}
	f.Add(c.s.caps)
	return f
}

// next reads the next top-level element; io.EOF when the client closes
// its stream.
func (c *conn) next() (*elem.Element, error) {
	for {
		tok, err := c.dec.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return elem.Read(c.dec, t)
		case xml.EndElement:
			return nil, io.EOF
		case xml.CharData:
			if len(strings.TrimSpace(string(t))) != 0 {
				return nil, &streamError{"not-well-formed", "text between stanzas"}
			}
		default:
			return nil, &streamError{"restricted-xml", ""}
		}
	}
}

// run negotiates and then serves the session.
func (c *conn) run(ctx context.Context, overLimit bool) error {
	if err := c.openStream(); err != nil {
		return err
	}
	if overLimit {
		return &streamError{"policy-violation", "too many connections from your address"}
	}
	for {
		el, err := c.next()
		if err != nil {
			return err
		}
		switch {
		case !c.secure():
			if el.Name.Space != nsTLS || el.Name.Local != "starttls" {
				return &streamError{"policy-violation", "STARTTLS is required"}
			}
			if err := c.startTLS(ctx); err != nil {
				return err
			}
		case !c.authed:
			if preauthIQ(el) {
				if err := c.register(ctx, el); err != nil {
					return err
				}
				continue
			}
			if el.Name.Space != nsSASL || el.Name.Local != "auth" {
				return &streamError{"not-authorized", ""}
			}
			if err := c.auth(ctx, el); err != nil {
				return err
			}
		default:
			if err := c.bind(el); err != nil {
				return err
			}
			if c.rc != nil {
				return c.session(ctx)
			}
		}
	}
}

func (c *conn) startTLS(ctx context.Context) error {
	if err := c.write([]byte("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")); err != nil {
		return err
	}
	t := tls.Server(c.raw, c.s.tlsCfg)
	if err := t.HandshakeContext(ctx); err != nil {
		c.wmu.Lock()
		c.closed = true
		c.wmu.Unlock()
		return err
	}
	c.wmu.Lock()
	c.tls, c.nc = t, t
	c.wmu.Unlock()
	return c.openStream()
}

// stanza handles one element of a bound session.
func (c *conn) stanza(ctx context.Context, el *elem.Element) error {
	if el.IsStanza() {
		if el.Name.Local == "iq" && el.Type() == "set" {
			if p := el.FirstElement(); p != nil && p.Name.Space == nsSession {
				// Legacy session establishment (RFC 3921): a no-op.
				return c.Send(elem.Result(el))
			}
		}
		c.rc.Route(ctx, el)
		return nil
	}
	if el.Name.Space == csi.NS {
		switch el.Name.Local {
		case "active":
			c.rc.SetActive(true)
			return nil
		case "inactive":
			c.rc.SetActive(false)
			return nil
		}
	}
	return &streamError{"unsupported-stanza-type", ""}
}

// bind handles resource binding (RFC 6120 §7) and the legacy session IQ.
// The JID is made from the SASL identity only; the stream header's "from"
// and any "from" on the IQ are ignored.
func (c *conn) bind(el *elem.Element) error {
	if !el.IsStanza() || el.Name.Local != "iq" {
		return &streamError{"not-authorized", "bind a resource first"}
	}
	p := el.FirstElement()
	if el.Type() != "set" || p == nil || p.Name.Space != nsBind || p.Name.Local != "bind" {
		if el.Type() == "get" || el.Type() == "set" {
			return c.Send(elem.ErrorReply(el, elem.Cancel, "not-allowed"))
		}
		return nil
	}
	el.SetAttr("from", "")
	var res string
	if r := p.Child(nsBind, "resource"); r != nil {
		res = strings.TrimSpace(r.Text())
	}
	rc, err := c.s.router.Bind(c.user, res, c)
	switch {
	case errors.Is(err, router.ErrTooManySessions):
		return c.Send(elem.ErrorReply(el, elem.Wait, "resource-constraint"))
	case err != nil:
		return c.Send(elem.ErrorReply(el, elem.Modify, "bad-request"))
	}
	// Checked after binding: an account disabled since SASL either shows
	// here or is kicked by SetDisabled, which now sees this session.
	if off, err := c.s.acc.Disabled(context.Background(), c.user); err != nil || off {
		rc.Unbind()
		return &streamError{"not-authorized", ""}
	}
	c.rc = rc
	rc.SetPong(func(id string) {})
	// From now on the deadline is about idleness, not authentication.
	c.lastTotal = c.guard.Total
	c.setReadDeadline(time.Now().Add(c.s.idle))
	c.raw.SetWriteDeadline(time.Time{})
	reply := elem.Result(el).Add(elem.New(nsBind, "bind").Add(elem.New(nsBind, "jid").AddText(rc.JID().String())))
	return c.Send(reply)
}

// onTimeout runs when a read deadline passes. Before binding that is the
// auth timeout: give up. Afterwards: if bytes came in since the last check
// the peer is alive; otherwise ping it once (XEP-0199) and give it
// pingWait to answer anything.
func (c *conn) onTimeout() bool {
	if c.rc == nil {
		return false
	}
	now := time.Now()
	if c.guard.Total != c.lastTotal {
		c.lastTotal = c.guard.Total
		c.pingID = ""
		c.setReadDeadline(now.Add(c.s.idle))
		return true
	}
	if c.pingID != "" {
		return false // no answer to our ping: dead peer
	}
	var b [6]byte
	rand.Read(b[:])
	c.pingID = "ping-" + base64.RawURLEncoding.EncodeToString(b[:])
	if err := c.Send(ping.Request(c.pingID, c.rc.JID().String())); err != nil {
		return false
	}
	c.setReadDeadline(now.Add(c.s.pingWait))
	return true
}

func escapeAttr(s string) string {
	if s == "" {
		return "" // SetAttr would drop an empty attribute
	}
	e := elem.New("", "x", "a", s)
	out := string(e.Append(nil, ""))
	return out[len("<x a='") : len(out)-len("'/>")]
}
