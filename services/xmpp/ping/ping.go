package ping

import (
	"context"

	"github.com/chatsecure/box/services/xmpp/elem"
	"github.com/chatsecure/box/services/xmpp/router"
)

// NS is XEP-0199's namespace.
const NS = "urn:xmpp:ping"

// Handler answers a ping get with an empty result.
func Handler(ctx context.Context, c *router.Conn, iq *elem.Element) *elem.Element {
	if iq.Type() != "get" {
		return elem.ErrorReply(iq, elem.Cancel, "feature-not-implemented")
	}
	return elem.Result(iq)
}

// Request is the server's ping to a client.
func Request(id, to string) *elem.Element {
	return elem.New(elem.NSClient, "iq", "type", "get", "id", id, "to", to).Add(elem.New(NS, "ping"))
}
