package router

import (
	"context"

	"github.com/chatsecure/box/services/xmpp/blocking"
	"github.com/chatsecure/box/services/xmpp/elem"
)

// blocklistIQ returns the block list (XEP-0191 §3.2).
func (r *Router) blocklistIQ(ctx context.Context, c *Conn, iq *elem.Element) *elem.Element {
	if iq.Type() != "get" {
		return elem.ErrorReply(iq, elem.Modify, "bad-request")
	}
	l, err := r.cfg.Blocking.List(ctx, c.user)
	if err != nil {
		return elem.ErrorReply(iq, elem.Wait, "internal-server-error")
	}
	return elem.Result(iq).Add(blocking.ListXML(l))
}

// blockIQ blocks or unblocks and pushes the change to all the user's
// resources that asked for the list (XEP-0191 §3.3, §3.4).
func (r *Router) blockIQ(ctx context.Context, c *Conn, iq *elem.Element) *elem.Element {
	if iq.Type() != "set" {
		return elem.ErrorReply(iq, elem.Modify, "bad-request")
	}
	q := iq.FirstElement()
	jids, err := blocking.ParseItems(q)
	if err != nil {
		return elem.ErrorReply(iq, elem.Modify, "jid-malformed")
	}
	if q.Name.Local == "block" {
		if len(jids) == 0 {
			return elem.ErrorReply(iq, elem.Modify, "bad-request")
		}
		err = r.cfg.Blocking.Block(ctx, c.user, jids)
	} else {
		err = r.cfg.Blocking.Unblock(ctx, c.user, jids)
	}
	if err != nil {
		return elem.ErrorReply(iq, elem.Wait, "internal-server-error")
	}
	for _, o := range r.conns(c.user) {
		push := elem.New(blocking.NS, q.Name.Local)
		for _, j := range jids {
			push.Add(elem.New(blocking.NS, "item", "jid", j))
		}
		o.Send(elem.New(elem.NSClient, "iq", "type", "set", "id", "block-"+randomResource()[4:12], "to", o.full).Add(push))
	}
	return elem.Result(iq)
}
