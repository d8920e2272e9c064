package loadtest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const iterations = 4096

// Server is the fixture. Create with New, stop with Close.
type Server struct {
	Domain string
	// BadServerSignature makes SCRAM success carry a wrong v=, to check
	// that clients verify the server.
	BadServerSignature bool

	ln    net.Listener
	tls   *tls.Config
	mu    sync.Mutex
	users map[string]*account
	// sessions by full JID, and the full JIDs of each bare JID.
	sessions map[string]*session
	conns    map[net.Conn]bool
	wg       sync.WaitGroup

	logins, routed, live atomic.Int64
}

type account struct {
	password string
	salt     []byte
	keys     map[string][2][]byte // mech → StoredKey, ServerKey
}

type session struct {
	jid string
	c   net.Conn
	wmu sync.Mutex
}

// New starts a server on 127.0.0.1 on a free port.
func New(domain string) (*Server, error) {
	cert, err := selfSigned(domain)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("loadtest: listen: %w", err)
	}
	s := &Server{Domain: domain, ln: ln, users: map[string]*account{}, sessions: map[string]*session{},
		conns: map[net.Conn]bool{},
		tls:   &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr is the listener's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Logins counts successful logins (bound resources).
func (s *Server) Logins() int64 { return s.logins.Load() }

// Routed counts messages delivered to a session.
func (s *Server) Routed() int64 { return s.routed.Load() }

// Live counts sessions currently bound.
func (s *Server) Live() int64 { return s.live.Load() }

// AddUser creates an account.
func (s *Server) AddUser(user, password string) error {
	salt := make([]byte, 12)
	if _, err := rand.Read(salt); err != nil {
		return fmt.Errorf("loadtest: salt: %w", err)
	}
	a := &account{password: password, salt: salt, keys: map[string][2][]byte{}}
	for mech, h := range map[string]func() hash.Hash{"SCRAM-SHA-1": sha1.New, "SCRAM-SHA-256": sha256.New} {
		sp, err := pbkdf2.Key(h, password, salt, iterations, h().Size())
		if err != nil {
			return fmt.Errorf("loadtest: %w", err)
		}
		ck := mac(h, sp, "Client Key")
		hh := h()
		hh.Write(ck)
		a.keys[mech] = [2][]byte{hh.Sum(nil), mac(h, sp, "Server Key")}
	}
	s.mu.Lock()
	s.users[user] = a
	s.mu.Unlock()
	return nil
}

// Close stops accepting, drops every session and waits for them.
func (s *Server) Close() error {
	err := s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) accept() {
	defer s.wg.Done()
	var conns sync.WaitGroup
	defer conns.Wait()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		conns.Add(1)
		go func() {
			defer conns.Done()
			defer func() {
				c.Close()
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
			}()
			_ = s.serve(c)
		}()
	}
}

// node is any element, decoded generically.
type node struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Nodes   []node     `xml:",any"`
}

func (n *node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

type stream struct {
	c   net.Conn
	dec *xml.Decoder
}

func (st *stream) open(features string) error {
	for {
		t, err := st.dec.Token()
		if err != nil {
			return err
		}
		if se, ok := t.(xml.StartElement); ok {
			if se.Name.Local != "stream" {
				return fmt.Errorf("want stream, got %s", se.Name.Local)
			}
			break
		}
	}
	_, err := io.WriteString(st.c, "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "+
		"xmlns:stream='http://etherx.jabber.org/streams' version='1.0' from='localhost' id='x'>"+
		"<stream:features>"+features+"</stream:features>")
	return err
}

func (st *stream) next() (*node, error) {
	for {
		t, err := st.dec.Token()
		if err != nil {
			return nil, err
		}
		switch t := t.(type) {
		case xml.StartElement:
			n := &node{}
			if err := st.dec.DecodeElement(n, &t); err != nil {
				return nil, err
			}
			return n, nil
		case xml.EndElement:
			return nil, io.EOF
		}
	}
}

func (s *Server) serve(c net.Conn) error {
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	st := &stream{c: c, dec: xml.NewDecoder(bufio.NewReader(c))}
	if err := st.open("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"); err != nil {
		return err
	}
	n, err := st.next()
	if err != nil || n.XMLName.Local != "starttls" {
		return errors.New("no starttls")
	}
	if _, err := io.WriteString(c, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"); err != nil {
		return err
	}
	tc := tls.Server(c, s.tls)
	if err := tc.Handshake(); err != nil {
		return err
	}
	st = &stream{c: tc, dec: xml.NewDecoder(bufio.NewReader(tc))}
	if err := st.open("<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-256</mechanism>" +
		"<mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms>"); err != nil {
		return err
	}
	user, err := s.auth(st)
	if err != nil {
		_, _ = io.WriteString(tc, "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure></stream:stream>")
		return err
	}
	st.dec = xml.NewDecoder(bufio.NewReader(tc))
	if err := st.open("<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"); err != nil {
		return err
	}
	n, err = st.next()
	if err != nil || n.XMLName.Local != "iq" || len(n.Nodes) != 1 || n.Nodes[0].XMLName.Local != "bind" {
		return errors.New("no bind")
	}
	res := "r" + fmt.Sprint(s.logins.Load())
	for _, k := range n.Nodes[0].Nodes {
		if k.XMLName.Local == "resource" && k.Text != "" {
			res = k.Text
		}
	}
	sess := &session{jid: user + "@" + s.Domain + "/" + res, c: tc}
	s.mu.Lock()
	if old := s.sessions[sess.jid]; old != nil {
		old.c.Close()
	}
	s.sessions[sess.jid] = sess
	s.mu.Unlock()
	s.logins.Add(1)
	s.live.Add(1)
	defer func() {
		s.live.Add(-1)
		s.mu.Lock()
		if s.sessions[sess.jid] == sess {
			delete(s.sessions, sess.jid)
		}
		s.mu.Unlock()
	}()
	if err := sess.write("<iq type='result' id='" + esc(n.attr("id")) + "'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>" +
		esc(sess.jid) + "</jid></bind></iq>"); err != nil {
		return err
	}
	_ = c.SetDeadline(time.Time{})
	for {
		n, err := st.next()
		if err != nil {
			return err
		}
		switch n.XMLName.Local {
		case "message":
			s.route(sess, n)
		case "iq":
			if t := n.attr("type"); t == "get" || t == "set" {
				_ = sess.write("<iq type='error' id='" + esc(n.attr("id")) + "'><error type='cancel'>" +
					"<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
			}
		}
	}
}

func (s *Server) route(from *session, n *node) {
	to := n.attr("to")
	var body string
	for _, k := range n.Nodes {
		if k.XMLName.Local == "body" {
			body = k.Text
		}
	}
	s.mu.Lock()
	dst := s.sessions[to]
	if dst == nil && !strings.Contains(to, "/") {
		for jid, ss := range s.sessions {
			if strings.HasPrefix(jid, to+"/") {
				dst = ss
				break
			}
		}
	}
	s.mu.Unlock()
	if dst == nil {
		_ = from.write("<message type='error' from='" + esc(to) + "'><error type='cancel'>" +
			"<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>")
		return
	}
	if dst.write("<message from='"+esc(from.jid)+"' to='"+esc(dst.jid)+"' type='"+esc(n.attr("type"))+
		"' id='"+esc(n.attr("id"))+"'><body>"+esc(body)+"</body></message>") == nil {
		s.routed.Add(1)
	}
}

func (ss *session) write(x string) error {
	ss.wmu.Lock()
	defer ss.wmu.Unlock()
	_, err := io.WriteString(ss.c, x)
	return err
}

func (s *Server) auth(st *stream) (string, error) {
	n, err := st.next()
	if err != nil {
		return "", err
	}
	if n.XMLName.Local != "auth" {
		return "", errors.New("want auth")
	}
	data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(n.Text))
	if err != nil {
		return "", err
	}
	mech := n.attr("mechanism")
	if mech == "PLAIN" {
		p := strings.Split(string(data), "\x00")
		if len(p) != 3 {
			return "", errors.New("bad PLAIN")
		}
		s.mu.Lock()
		a := s.users[p[1]]
		s.mu.Unlock()
		if a == nil || !hmac.Equal([]byte(a.password), []byte(p[2])) {
			return "", errors.New("not authorized")
		}
		_, err := io.WriteString(st.c, "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
		return p[1], err
	}
	h := map[string]func() hash.Hash{"SCRAM-SHA-1": sha1.New, "SCRAM-SHA-256": sha256.New}[mech]
	if h == nil {
		return "", errors.New("unknown mechanism")
	}
	cf, ok := strings.CutPrefix(string(data), "n,,")
	if !ok {
		return "", errors.New("bad gs2 header")
	}
	var user, cnonce string
	for _, f := range strings.Split(cf, ",") {
		if v, ok := strings.CutPrefix(f, "n="); ok {
			user = v
		} else if v, ok := strings.CutPrefix(f, "r="); ok {
			cnonce = v
		}
	}
	s.mu.Lock()
	a := s.users[user]
	s.mu.Unlock()
	if a == nil || cnonce == "" {
		return "", errors.New("not authorized")
	}
	nonce := cnonce + "srv" + fmt.Sprint(time.Now().UnixNano())
	sf := "r=" + nonce + ",s=" + base64.StdEncoding.EncodeToString(a.salt) + ",i=" + fmt.Sprint(iterations)
	if _, err := io.WriteString(st.c, "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"+
		base64.StdEncoding.EncodeToString([]byte(sf))+"</challenge>"); err != nil {
		return "", err
	}
	n, err = st.next()
	if err != nil {
		return "", err
	}
	data, err = base64.StdEncoding.DecodeString(strings.TrimSpace(n.Text))
	if err != nil {
		return "", err
	}
	final := string(data)
	i := strings.LastIndex(final, ",p=")
	if i < 0 || final[:i] != "c=biws,r="+nonce {
		return "", errors.New("bad client-final")
	}
	proof, err := base64.StdEncoding.DecodeString(final[i+3:])
	if err != nil {
		return "", err
	}
	authMsg := cf + "," + sf + "," + final[:i]
	keys := a.keys[mech]
	sig := mac(h, keys[0], authMsg)
	if len(proof) != len(sig) {
		return "", errors.New("bad proof")
	}
	ck := make([]byte, len(sig))
	for j := range sig {
		ck[j] = proof[j] ^ sig[j]
	}
	hh := h()
	hh.Write(ck)
	if !hmac.Equal(hh.Sum(nil), keys[0]) {
		return "", errors.New("not authorized")
	}
	v := mac(h, keys[1], authMsg)
	if s.BadServerSignature {
		v[0] ^= 1
	}
	_, err = io.WriteString(st.c, "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"+
		base64.StdEncoding.EncodeToString([]byte("v="+base64.StdEncoding.EncodeToString(v)))+"</success>")
	return user, err
}

func mac(h func() hash.Hash, key []byte, msg string) []byte {
	m := hmac.New(h, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return strings.ReplaceAll(b.String(), "'", "&#39;")
}

func selfSigned(domain string) (tls.Certificate, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("loadtest: key: %w", err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: domain},
		DNSNames: []string{domain}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("loadtest: cert: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}, nil
}
