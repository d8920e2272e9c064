package xmpp

import (
	"context"
	"crypto/tls"
	"encoding/xml"
	"net"
	"testing"
	"time"

	msasl "mellium.im/sasl"
	"mellium.im/xmlstream"
	mxmpp "mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	mping "mellium.im/xmpp/ping"
	"mellium.im/xmpp/stanza"
)

func melliumLogin(t *testing.T, ctx context.Context, addr, user, res string) *mxmpp.Session {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	origin := jid.MustParse(user + "@localhost/" + res)
	s, err := mxmpp.NewClientSession(ctx, origin, nc,
		mxmpp.StartTLS(&tls.Config{ServerName: "localhost", InsecureSkipVerify: true}),
		mxmpp.SASL("", "pencil", msasl.ScramSha256Plus, msasl.ScramSha256, msasl.ScramSha1),
		mxmpp.BindResource(),
	)
	if err != nil {
		t.Fatalf("mellium login %s: %v", user, err)
	}
	return s
}

// TestMelliumClient: mellium.im/xmpp's client negotiates STARTTLS,
// SCRAM-SHA-256-PLUS (tls-exporter) and binding with the server, pings it
// and gets a chat message across.
func TestMelliumClient(t *testing.T) {
	s := startServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // hang guard
	defer cancel()

	bob := melliumLogin(t, ctx, s.c2s, "bob", "m")
	got := make(chan string, 1)
	go bob.Serve(mxmpp.HandlerFunc(func(r xmlstream.TokenReadEncoder, start *xml.StartElement) error {
		if start.Name.Local != "message" {
			return nil
		}
		// Collect the text inside <body/>.
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
		got <- body
		return nil
	}))
	if err := bob.Send(ctx, stanza.Presence{}.Wrap(nil)); err != nil {
		t.Fatal(err)
	}

	alice := melliumLogin(t, ctx, s.c2s, "alice", "m")
	// mellium v0.22.0 sends an empty <resource/>: the server makes one.
	if a := alice.LocalAddr(); a.Bare().String() != "alice@localhost" || a.Resourcepart() == "" {
		t.Fatalf("alice bound as %s", a)
	}
	go alice.Serve(nil)
	if err := mping.Send(ctx, alice, jid.MustParse("localhost")); err != nil {
		t.Fatalf("ping: %v", err)
	}
	body := xmlstream.Wrap(xmlstream.Token(xml.CharData("hello from mellium")), xml.StartElement{Name: xml.Name{Local: "body"}})
	if err := alice.Send(ctx, stanza.Message{To: jid.MustParse("bob@localhost"), Type: stanza.ChatMessage}.Wrap(body)); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-got:
		if b != "hello from mellium" {
			t.Fatalf("body %q", b)
		}
	case <-ctx.Done():
		t.Fatal("message never arrived")
	}
}
