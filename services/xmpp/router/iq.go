package router

import (
	"context"

	"github.com/chatsecure/box/services/xmpp/elem"
	"mellium.im/xmpp/jid"
)

// PongFunc, when set on a Conn, sees IQ results and errors addressed to
// the server (answers to the server's own pings).
type PongFunc func(id string)

// SetPong sets the hook for answers to server-sent IQs.
func (c *Conn) SetPong(f PongFunc) {
	c.mu.Lock()
	c.pong = f
	c.mu.Unlock()
}

func (c *Conn) routeIQ(ctx context.Context, iq *elem.Element, to jid.JID) {
	r := c.r
	typ := iq.Type()
	toServer := to.Equal(jid.JID{}) || (to.Localpart() == "" && to.Resourcepart() == "" && r.local(to))
	switch typ {
	case "result", "error":
		if toServer || (r.local(to) && to.Localpart() == c.user && to.Resourcepart() == "") {
			c.mu.Lock()
			f := c.pong
			c.mu.Unlock()
			if f != nil {
				f(iq.Get("id"))
			}
			return
		}
		if r.local(to) && to.Resourcepart() != "" {
			if o := r.conn(to.Localpart(), to.Resourcepart()); o != nil {
				o.Send(iq)
			}
		}
		return
	case "get", "set":
	default:
		c.Send(elem.ErrorReply(iq, elem.Modify, "bad-request"))
		return
	}
	payload := iq.FirstElement()
	if payload == nil || len(iq.Elements()) != 1 {
		c.Send(elem.ErrorReply(iq, elem.Modify, "bad-request"))
		return
	}
	switch {
	case toServer || (r.local(to) && to.Localpart() == c.user && to.Resourcepart() == ""):
		h := r.iq[iqKey{payload.Name, false}]
		if h == nil {
			h = r.iq[iqKey{payload.Name, true}]
		}
		c.reply(ctx, h, iq)
	case !r.local(to):
		c.Send(elem.ErrorReply(iq, elem.Cancel, "remote-server-not-found"))
	case r.cfg.Blocking.Blocked(ctx, c.user, to):
		c.Send(blockedReply(iq))
	case r.cfg.Blocking.Blocked(ctx, to.Localpart(), c.jid):
		c.Send(elem.ErrorReply(iq, elem.Cancel, "service-unavailable"))
	case to.Localpart() == "":
		// server/resource: nothing lives there.
		c.Send(elem.ErrorReply(iq, elem.Cancel, "service-unavailable"))
	case to.Resourcepart() == "":
		// Another user's bare JID: the server answers for the account
		// (§8.5.2.1.3).
		if !r.exists(ctx, to.Localpart()) {
			c.Send(elem.ErrorReply(iq, elem.Cancel, "service-unavailable"))
			return
		}
		c.reply(ctx, r.iq[iqKey{payload.Name, true}], iq)
	default:
		if o := r.conn(to.Localpart(), to.Resourcepart()); o != nil {
			o.Send(iq)
			return
		}
		c.Send(elem.ErrorReply(iq, elem.Cancel, "service-unavailable"))
	}
}

func (c *Conn) reply(ctx context.Context, h IQHandler, iq *elem.Element) {
	var resp *elem.Element
	if h != nil {
		resp = h(ctx, c, iq)
	}
	if resp == nil {
		resp = elem.ErrorReply(iq, elem.Cancel, "service-unavailable")
	}
	c.Send(resp)
}
