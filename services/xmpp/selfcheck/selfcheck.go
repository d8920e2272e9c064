package selfcheck

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"sync/atomic"

	msasl "mellium.im/sasl"
	"mellium.im/xmlstream"
	mxmpp "mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/roster"
)

// Options say where and as whom to log in.
type Options struct {
	// Addr is the c2s listener, host:port (a loopback address): STARTTLS,
	// or direct TLS (XEP-0368) when DirectTLS is set.
	Addr      string
	DirectTLS bool
	Domain    string
	Username  string // localpart
	Password  string
	// Cert is the DER of the box's own certificate: the only one the
	// check accepts, so it cannot be fooled by anything else on the port.
	Cert []byte
}

// Steps of a login, named in an Error.
const (
	StepDial   = "dial"
	StepTLS    = "tls"
	StepLogin  = "login" // stream, SASL, bind
	StepRoster = "roster"
)

// Error says which step of the check failed.
type Error struct {
	Step string
	Err  error
}

func (e *Error) Error() string { return "selfcheck: " + e.Step + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Login runs the check once; nil means a client could have logged in and
// used its account. ctx bounds the whole exchange.
func Login(ctx context.Context, o Options) error {
	if o.Addr == "" || o.Domain == "" || o.Username == "" || o.Password == "" || len(o.Cert) == 0 {
		return &Error{StepDial, errors.New("address, domain, username, password and certificate are required")}
	}
	me, err := jid.New(o.Username, o.Domain, "healthcheck")
	if err != nil {
		return &Error{StepLogin, fmt.Errorf("jid: %w", err)}
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", o.Addr)
	if err != nil {
		return &Error{StepDial, err}
	}
	defer nc.Close()
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	var tlsOK atomic.Bool
	tlsCfg := &tls.Config{
		ServerName: o.Domain,
		MinVersion: tls.VersionTLS12,
		// The box's certificate is self-signed or from a CA the box
		// cannot reach offline: compare it to the one the box holds.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || !bytes.Equal(cs.PeerCertificates[0].Raw, o.Cert) {
				return errors.New("the listener's certificate is not the box's own")
			}
			tlsOK.Store(true)
			return nil
		},
	}
	features := []mxmpp.StreamFeature{
		mxmpp.SASL("", o.Password, msasl.ScramSha256Plus, msasl.ScramSha256),
		mxmpp.BindResource(),
	}
	var rw net.Conn = nc
	if o.DirectTLS {
		tlsCfg.NextProtos = []string{"xmpp-client"}
		tc := tls.Client(nc, tlsCfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return &Error{StepTLS, err}
		}
		rw = tc
	} else {
		features = append([]mxmpp.StreamFeature{mxmpp.StartTLS(tlsCfg)}, features...)
	}
	s, err := mxmpp.NewClientSession(ctx, me, rw, features...)
	if err != nil {
		if !tlsOK.Load() {
			return &Error{StepTLS, err}
		}
		return &Error{StepLogin, err}
	}
	defer s.Close()
	// Serve reads the answers (to the roster IQ); it ends when the
	// stream closes.
	go s.Serve(mxmpp.HandlerFunc(func(xmlstream.TokenReadEncoder, *xml.StartElement) error { return nil }))
	if err := fetchRoster(ctx, s); err != nil {
		return &Error{StepRoster, err}
	}
	if err := s.Close(); err != nil {
		return &Error{StepRoster, fmt.Errorf("close: %w", err)}
	}
	return nil
}

// fetchRoster asks for the roster and reads the answer to its end: the
// server reads it from the store.
func fetchRoster(ctx context.Context, s *mxmpp.Session) error {
	it := roster.Fetch(ctx, s)
	for it.Next() {
	}
	err := it.Err()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	return err
}
