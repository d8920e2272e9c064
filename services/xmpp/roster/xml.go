package roster

import (
	"github.com/chatsecure/box/services/xmpp/elem"
)

// NS is the roster namespace.
const NS = "jabber:iq:roster"

// ItemXML renders an item for a roster result or push.
func ItemXML(it Item, remove bool) *elem.Element {
	e := elem.New(NS, "item", "jid", it.JID)
	if remove {
		return e.SetAttr("subscription", "remove")
	}
	if it.Name != "" {
		e.SetAttr("name", it.Name)
	}
	e.SetAttr("subscription", it.Sub)
	if it.Ask {
		e.SetAttr("ask", "subscribe")
	}
	for _, g := range it.Groups {
		e.Add(elem.New(NS, "group").AddText(g))
	}
	return e
}

// Query renders a roster result.
func Query(items []Item, ver string) *elem.Element {
	q := elem.New(NS, "query", "ver", ver)
	for _, it := range items {
		if it.InRoster {
			q.Add(ItemXML(it, false))
		}
	}
	return q
}
