package elem

import (
	"encoding/xml"
	"strings"
	"testing"
)

func read(t *testing.T, s string) *Element {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(`<stream xmlns='jabber:client'>` + s))
	if _, err := d.Token(); err != nil {
		t.Fatal(err)
	}
	tok, err := d.Token()
	if err != nil {
		t.Fatal(err)
	}
	e, err := Read(d, tok.(xml.StartElement))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Golden round trips: what is read and written again, inside a
// jabber:client stream.
func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct{ in, out string }{
		{`<message to='a@b' type="chat"><body>hi &amp; &lt;bye&gt;</body></message>`,
			`<message to='a@b' type='chat'><body>hi &amp; &lt;bye&gt;</body></message>`},
		{`<iq type='get' id='1'><query xmlns='jabber:iq:roster'/></iq>`,
			`<iq type='get' id='1'><query xmlns='jabber:iq:roster'/></iq>`},
		{`<message xml:lang='en'><x:a xmlns:x='urn:x' x:b='c'>t</x:a></message>`,
			`<message xml:lang='en'><a xmlns='urn:x' xmlns:ns1='urn:x' ns1:b='c'>t</a></message>`},
		{`<presence><status>it's "q"</status><c a="it's"/></presence>`,
			`<presence><status>it's "q"</status><c a='it&apos;s'/></presence>`},
		{`<message><body><![CDATA[<b>]]>x</body></message>`,
			`<message><body>&lt;b&gt;x</body></message>`},
		{`<message><html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'>a <b>b</b> c</body></html></message>`,
			`<message><html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'>a <b>b</b> c</body></html></message>`},
	} {
		e := read(t, tc.in)
		if got := string(e.Append(nil, NSClient)); got != tc.out {
			t.Errorf("\n in  %s\n got %s\nwant %s", tc.in, got, tc.out)
		}
	}
}

func TestErrorReply(t *testing.T) {
	e := read(t, `<iq type='get' id='7' from='a@b/c' to='b'><q xmlns='x'/></iq>`)
	got := string(ErrorReply(e, Cancel, "service-unavailable").Append(nil, NSClient))
	want := `<iq type='error' id='7' from='b' to='a@b/c'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`
	if got != want {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
}
