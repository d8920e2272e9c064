//go:build e2e

package e2e

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	msasl "mellium.im/sasl"
	"mellium.im/xmlstream"
	mxmpp "mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	mping "mellium.im/xmpp/ping"
	"mellium.im/xmpp/stanza"
)

// pinned accepts exactly the certificate whose SHA-256 boxd reports in its
// status (cert_fingerprint, "AB:CD:..."): the box's self-signed one.
func pinned(fingerprint string) *tls.Config {
	want := strings.ToLower(strings.ReplaceAll(fingerprint, ":", ""))
	return &tls.Config{
		ServerName:         "box.test",
		InsecureSkipVerify: true, // self-signed; VerifyConnection pins it instead
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("no certificate")
			}
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if got := hex.EncodeToString(sum[:]); got != want {
				return fmt.Errorf("certificate %s is not the box's %s", got, want)
			}
			return nil
		},
	}
}

// xmppRoundTrip logs in as user@box.test over the forwarded c2s port
// (STARTTLS, then SCRAM), pings the server and sends a message to its own
// full JID, which must come back.
func xmppRoundTrip(ctx context.Context, addr, user, password, fingerprint string) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("xmpp: dial: %w", err)
	}
	defer nc.Close()
	me := jid.MustParse(user + "@box.test/e2e")
	s, err := mxmpp.NewClientSession(ctx, me, nc,
		mxmpp.StartTLS(pinned(fingerprint)),
		mxmpp.SASL("", password, msasl.ScramSha256Plus, msasl.ScramSha256, msasl.ScramSha1),
		mxmpp.BindResource(),
	)
	if err != nil {
		return fmt.Errorf("xmpp: login %s: %w", me.Bare(), err)
	}
	defer s.Close()
	got := make(chan string, 1)
	go s.Serve(mxmpp.HandlerFunc(func(r xmlstream.TokenReadEncoder, start *xml.StartElement) error {
		if start.Name.Local != "message" {
			return nil
		}
		var body string
		in := false
		for {
			tok, err := r.Token()
			if err != nil {
				break
			}
			switch t := tok.(type) {
			case xml.StartElement:
				in = t.Name.Local == "body"
			case xml.EndElement:
				in = false
			case xml.CharData:
				if in {
					body += string(t)
				}
			}
		}
		select {
		case got <- body:
		default:
		}
		return nil
	}))
	if err := mping.Send(ctx, s, jid.MustParse("box.test")); err != nil {
		return fmt.Errorf("xmpp: ping: %w", err)
	}
	text := fmt.Sprintf("note to self %d", time.Now().UnixNano())
	body := xmlstream.Wrap(xmlstream.Token(xml.CharData(text)), xml.StartElement{Name: xml.Name{Local: "body"}})
	if err := s.Send(ctx, stanza.Message{To: s.LocalAddr(), Type: stanza.ChatMessage}.Wrap(body)); err != nil {
		return fmt.Errorf("xmpp: send: %w", err)
	}
	select {
	case b := <-got:
		if b != text {
			return fmt.Errorf("xmpp: got back %q, sent %q", b, text)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("xmpp: the message to self never came back: %w", ctx.Err())
	}
}
