package csi

import (
	"testing"

	"github.com/chatsecure/box/services/xmpp/elem"
)

func pres(from, show string) *elem.Element {
	p := elem.New(elem.NSClient, "presence", "from", from)
	if show != "" {
		p.Add(elem.New(elem.NSClient, "show").AddText(show))
	}
	return p
}

func TestQueueKeepsNewestPresence(t *testing.T) {
	var q Queue
	q.Add(pres("a@x/1", "away"))
	q.Add(pres("b@x/1", ""))
	q.Add(pres("a@x/1", "dnd"))
	got := q.Take()
	if len(got) != 2 || got[0].Get("from") != "b@x/1" || got[1].Child("", "show").Text() != "dnd" {
		t.Fatalf("queue %v", got)
	}
	if q.Len() != 0 {
		t.Fatal("not emptied")
	}
	for i := 0; i < MaxQueue-1; i++ {
		if q.Add(elem.New(elem.NSClient, "message")) {
			t.Fatalf("full after %d", i+1)
		}
	}
	if !q.Add(elem.New(elem.NSClient, "message")) {
		t.Fatal("never full")
	}
}

func TestUrgent(t *testing.T) {
	body := elem.New(elem.NSClient, "message").Add(elem.New(elem.NSClient, "body").AddText("x"))
	state := elem.New(elem.NSClient, "message").Add(elem.New("http://jabber.org/protocol/chatstates", "composing"))
	if !Urgent(body) || Urgent(state) || Urgent(pres("a@x", "")) || !Urgent(elem.New(elem.NSClient, "iq")) {
		t.Fatal("wrong urgency")
	}
}
