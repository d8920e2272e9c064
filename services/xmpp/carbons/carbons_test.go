package carbons

import (
	"testing"

	"github.com/chatsecure/box/services/xmpp/elem"
)

func msg(typ string, children ...*elem.Element) *elem.Element {
	m := elem.New(elem.NSClient, "message", "from", "a@x/1", "to", "b@x", "type", typ)
	for _, c := range children {
		m.Add(c)
	}
	return m
}

func TestEligible(t *testing.T) {
	body := func() *elem.Element { return elem.New(elem.NSClient, "body").AddText("hi") }
	for _, tc := range []struct {
		name string
		m    *elem.Element
		want bool
	}{
		{"chat", msg("chat", body()), true},
		{"chat state only", msg("chat", elem.New("http://jabber.org/protocol/chatstates", "active")), true},
		{"normal with body", msg("normal", body()), true},
		{"normal without body", msg("normal"), false},
		{"groupchat", msg("groupchat", body()), false},
		{"headline", msg("headline", body()), false},
		{"private", msg("chat", body(), elem.New(NS, "private")), false},
		{"no-copy", msg("chat", body(), elem.New(NSHints, "no-copy")), false},
		{"already a carbon", msg("chat", elem.New(NS, "received")), false},
	} {
		if got := Eligible(tc.m); got != tc.want {
			t.Errorf("%s: %v", tc.name, got)
		}
	}
}

func TestWrapGolden(t *testing.T) {
	m := msg("chat", elem.New(elem.NSClient, "body").AddText("hi"))
	got := string(Wrap("received", m, "b@x", "b@x/2").Append(nil, elem.NSClient))
	want := `<message from='b@x' to='b@x/2' type='chat'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='a@x/1' to='b@x' type='chat'><body>hi</body></message></forwarded></received></message>`
	if got != want {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
}
