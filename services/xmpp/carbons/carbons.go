package carbons

import "github.com/chatsecure/box/services/xmpp/elem"

// Namespaces.
const (
	NS        = "urn:xmpp:carbons:2"
	NSForward = "urn:xmpp:forward:0"
	NSHints   = "urn:xmpp:hints"
	NSMUCUser = "http://jabber.org/protocol/muc#user"
)

// Eligible reports whether msg is copied (XEP-0280 §6 and §9): chat
// messages, and normal ones with a body, unless marked private or
// no-copy, already a carbon, or a MUC private message.
func Eligible(msg *elem.Element) bool {
	switch msg.Type() {
	case "chat":
	case "", "normal":
		if msg.Child("", "body") == nil {
			return false
		}
	default:
		return false
	}
	if msg.Child(NS, "private") != nil || msg.Child(NSHints, "no-copy") != nil ||
		msg.Child(NS, "sent") != nil || msg.Child(NS, "received") != nil ||
		msg.Child(NSMUCUser, "x") != nil {
		return false
	}
	return true
}

// Wrap makes the copy of msg for one of the user's resources: kind is
// "sent" or "received", bare the user's bare JID, to the resource.
func Wrap(kind string, msg *elem.Element, bare, to string) *elem.Element {
	out := elem.New(elem.NSClient, "message", "from", bare, "to", to, "type", msg.Type())
	if msg.Type() == "" {
		out.SetAttr("type", "normal")
	}
	fwd := elem.New(NSForward, "forwarded").Add(msg)
	return out.Add(elem.New(NS, kind).Add(fwd))
}
