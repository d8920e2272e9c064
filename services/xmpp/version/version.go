package version

import (
	"context"

	"github.com/chatsecure/box/services/xmpp/elem"
	"github.com/chatsecure/box/services/xmpp/router"
)

// NS is XEP-0092's namespace.
const NS = "jabber:iq:version"

// Handler answers with name and version; for accounts it is
// service-unavailable (clients answer for themselves).
func Handler(name, ver string) router.IQHandler {
	return func(ctx context.Context, c *router.Conn, iq *elem.Element) *elem.Element {
		if iq.Type() != "get" {
			return elem.ErrorReply(iq, elem.Cancel, "feature-not-implemented")
		}
		if to := iq.Get("to"); to != "" && to != c.Router().Domain() {
			return elem.ErrorReply(iq, elem.Cancel, "service-unavailable")
		}
		q := elem.New(NS, "query")
		q.Add(elem.New(NS, "name").AddText(name), elem.New(NS, "version").AddText(ver))
		return elem.Result(iq).Add(q)
	}
}
