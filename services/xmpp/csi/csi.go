package csi

import "github.com/chatsecure/box/services/xmpp/elem"

// NS is XEP-0352's namespace.
const NS = "urn:xmpp:csi:0"

// MaxQueue is how many held stanzas make the queue flush anyway.
const MaxQueue = 64

// Urgent reports whether st must go out even to an inactive client.
func Urgent(st *elem.Element) bool {
	switch st.Name.Local {
	case "iq":
		return true
	case "presence":
		// Subscription requests are shown to the user.
		t := st.Type()
		return t == "subscribe" || t == "error"
	case "message":
		if st.Type() == "error" {
			return true
		}
		for _, c := range st.Elements() {
			switch c.Name.Local {
			case "body", "encrypted", "received", "sent", "x":
				// Bodies, OMEMO payloads, carbons and invitations.
				return true
			}
		}
		return false
	}
	return true
}

// Queue holds stanzas for an inactive client.
type Queue struct {
	items []*elem.Element
}

// Add holds st and reports whether the queue is now full (flush it).
// A presence replaces an older held presence from the same sender.
func (q *Queue) Add(st *elem.Element) (full bool) {
	if st.Name.Local == "presence" {
		from := st.Get("from")
		for i, it := range q.items {
			if it.Name.Local == "presence" && it.Get("from") == from {
				copy(q.items[i:], q.items[i+1:])
				q.items[len(q.items)-1] = st
				return false
			}
		}
	}
	q.items = append(q.items, st)
	return len(q.items) >= MaxQueue
}

// Take empties the queue, returning what it held in order.
func (q *Queue) Take() []*elem.Element {
	out := q.items
	q.items = nil
	return out
}

// Len is the number of held stanzas.
func (q *Queue) Len() int { return len(q.items) }
