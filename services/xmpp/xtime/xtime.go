package xtime

import (
	"context"
	"time"

	"github.com/chatsecure/box/services/xmpp/elem"
	"github.com/chatsecure/box/services/xmpp/router"
)

// NS is XEP-0202's namespace.
const NS = "urn:xmpp:time"

// Handler answers with the time now() returns.
func Handler(now func() time.Time) router.IQHandler {
	return func(ctx context.Context, c *router.Conn, iq *elem.Element) *elem.Element {
		if iq.Type() != "get" {
			return elem.ErrorReply(iq, elem.Cancel, "feature-not-implemented")
		}
		if to := iq.Get("to"); to != "" && to != c.Router().Domain() {
			return elem.ErrorReply(iq, elem.Cancel, "service-unavailable")
		}
		q := elem.New(NS, "time")
		q.Add(elem.New(NS, "tzo").AddText("+00:00"),
			elem.New(NS, "utc").AddText(now().UTC().Format("2006-01-02T15:04:05Z")))
		return elem.Result(iq).Add(q)
	}
}
