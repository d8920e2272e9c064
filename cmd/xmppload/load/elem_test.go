package load

import (
	"encoding/xml"
	"errors"
	"strings"
	"testing"
)

const streamHead = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"

func TestReadElem(t *testing.T) {
	d := xml.NewDecoder(strings.NewReader(streamHead +
		" <message from='a@x/r' type='chat'><body>12&amp;3</body><x xmlns='urn:y'><z/></x></message>\n" +
		"<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>replaced</text></stream:error>"))
	if _, err := readStreamStart(d); err != nil {
		t.Fatal(err)
	}
	e, err := readElem(d)
	if err != nil {
		t.Fatal(err)
	}
	if e.Name.Local != "message" || e.Name.Space != nsClient || e.attr("from") != "a@x/r" || e.attr("type") != "chat" {
		t.Fatalf("message = %+v", e)
	}
	if b := e.kid("body", ""); b == nil || b.Text != "12&3" {
		t.Fatalf("body = %+v", b)
	}
	if x := e.kid("x", "urn:y"); x == nil || x.kid("z", "") == nil {
		t.Fatalf("x = %+v", x)
	}
	if e.kid("x", "urn:other") != nil {
		t.Fatal("kid matched the wrong namespace")
	}
	_, err = readElem(d)
	var se *StreamError
	if !errors.As(err, &se) || se.Condition != "conflict" || se.Text != "replaced" {
		t.Fatalf("stream error = %v", err)
	}
}

func TestReadElemEnds(t *testing.T) {
	d := xml.NewDecoder(strings.NewReader(streamHead + "</stream:stream>"))
	if _, err := readStreamStart(d); err != nil {
		t.Fatal(err)
	}
	if _, err := readElem(d); !errors.Is(err, errStreamClosed) {
		t.Fatalf("close tag: %v", err)
	}
	d = xml.NewDecoder(strings.NewReader(streamHead + "<message><body>x"))
	readStreamStart(d)
	if _, err := readElem(d); err == nil {
		t.Fatal("a truncated stanza was accepted")
	}
	d = xml.NewDecoder(strings.NewReader(streamHead + "<iq/>"))
	readStreamStart(d)
	readElem(d)
	if _, err := readElem(d); err == nil {
		t.Fatal("EOF between stanzas gave no error")
	}
	d = xml.NewDecoder(strings.NewReader("<html>"))
	if _, err := readStreamStart(d); err == nil {
		t.Fatal("a non-stream header was accepted")
	}
	deep := streamHead + strings.Repeat("<a>", maxElemDepth+2) + strings.Repeat("</a>", maxElemDepth+2)
	d = xml.NewDecoder(strings.NewReader(deep))
	readStreamStart(d)
	if _, err := readElem(d); err == nil {
		t.Fatal("nesting beyond the limit was accepted")
	}
}

func FuzzReadElem(f *testing.F) {
	f.Add("<message to='a'><body>1</body></message>")
	f.Add("<stream:error><x/></stream:error>")
	f.Add("</stream:stream>")
	f.Add("text<iq/>")
	f.Add("<a><b><c>&lt;</c></b></a><iq type='get'/>")
	f.Fuzz(func(t *testing.T, s string) {
		d := xml.NewDecoder(strings.NewReader(streamHead + s))
		if _, err := readStreamStart(d); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 100; i++ {
			e, err := readElem(d)
			if err != nil {
				return
			}
			if e == nil || e.Name.Local == "" {
				t.Fatalf("nil or nameless element without error")
			}
		}
	})
}
